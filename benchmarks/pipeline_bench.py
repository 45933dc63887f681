"""End-to-end pipeline benchmark: upload -> validated -> harmonized, on PostgreSQL + Redis with
two worker processes, against a bare COPY of the same rows into the same database.

Run: ``python benchmarks/pipeline_bench.py`` (needs the postgresql and redis-server binaries,
as `.ci/run` installs). Scenarios, measured in this one run:

* one state-quarter file of about 50,000 rows;
* 20 states uploading such a file at once.

Printed: wall time and rows/s of the pipeline beside a bare ``COPY`` of the same rows into a
table shaped like ``observation``. Target (issue 4): the pipeline within 5x of the bare insert.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import polars as pl
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.accounts.service import create_client  # noqa: E402
from exchange.auth.principal import Role  # noqa: E402
from exchange.core.config import Settings  # noqa: E402
from exchange.core.db import migrate, session_scope  # noqa: E402
from standards import load_standard  # noqa: E402
from standards.example import example_frame  # noqa: E402
from tests.servers import PostgresServer, RedisServer, free_port  # noqa: E402

SECRET = "benchmark-secret-" + "b" * 40
FINAL = {"harmonized", "rejected", "failed"}


def state_files(states: list[str], citizenships: int) -> dict[str, bytes]:
    standard = load_standard()
    files = {}
    for area in states:
        buffer = io.BytesIO()
        example_frame(standard, area, "2026-Q3", citizenships=citizenships, all_measures=True,
                      seed=hash(area) % 10_000).write_csv(buffer)
        files[area] = buffer.getvalue()
    return files


def bare_copy(dsn: str, files: dict[str, bytes]) -> float:
    """COPY the same rows (as observation-shaped CSV) into a fresh table; seconds."""
    payloads = []
    for content in files.values():
        frame = pl.read_csv(content, infer_schema=False)
        out = io.BytesIO()
        frame.write_csv(out, include_header=False)
        payloads.append(out.getvalue())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (ref_area varchar(3), period varchar(7), "
                      "pop_group varchar(10), measure varchar(12), citizenship varchar(4), "
                      "sex varchar(2), age varchar(8), value bigint, obs_status varchar(1))")
        start = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for payload in payloads:
                with cur.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(payload)
        return time.perf_counter() - start


def run_pipeline(base: str, tokens: dict[str, str], files: dict[str, bytes], dsn: str) -> float:
    """Upload every file at once; seconds until every submission is harmonized."""

    def upload(area: str) -> int:
        response = httpx.post(f"{base}/api/v1/submissions",
                              data={"ref_area": area, "period": "2026-Q3"},
                              files={"file": (f"{area}.csv", files[area], "text/csv")},
                              headers={"Authorization": f"Bearer {tokens[area]}"}, timeout=300)
        response.raise_for_status()
        return int(response.json()["id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        ids = list(pool.map(upload, files))
    with psycopg.connect(dsn) as conn:
        while True:
            rows = conn.execute("SELECT status FROM submission WHERE id = ANY(%s)",
                                (ids,)).fetchall()
            conn.commit()
            if all(r[0] in FINAL for r in rows):
                break
            time.sleep(0.05)
    elapsed = time.perf_counter() - start
    bad = [r[0] for r in rows if r[0] != "harmonized"]
    if bad:
        raise RuntimeError(f"not all harmonized: {bad}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizenships", type=int, default=8, help="8 -> about 50,000 rows")
    parser.add_argument("--states", type=int, default=20)
    args = parser.parse_args()
    standard = load_standard()
    areas = sorted(standard.region_members("BALI_PROCESS") | standard.region_members("ECOWAS")
                   | standard.region_members("CENTRAL_ASIA"))[: args.states]
    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg, RedisServer() as redis:
        settings = Settings(data_dir=Path(tmp) / "var", database_url=pg.url,
                            broker_url=redis.url, jwt_secret=SECRET, processing="queue")
        migrate(settings.resolved_database_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")} | {
            "PYTHONPATH": str(ROOT), "MMX_DATA_DIR": str(settings.data_dir),
            "MMX_DATABASE_URL": pg.url, "MMX_BROKER_URL": redis.url, "MMX_JWT_SECRET": SECRET}
        port = free_port()
        procs = [subprocess.Popen([sys.executable, "-m", "mmx.main", "serve", "--port",
                                   str(port), "--no-with-worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        procs += [subprocess.Popen([sys.executable, "-m", "mmx.main", "worker",
                                    "--concurrency", "1"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.2)
            from exchange.auth.principal import Principal
            from exchange.auth.tokens import KeyRing

            ring = KeyRing.from_settings(settings)
            tokens = {}
            with session_scope(settings.resolved_database_url) as session:
                for area in areas:
                    client, _ = create_client(session, role=Role.SUBMITTER, ref_area=area,
                                              name="bench")
                    tokens[area] = ring.issue(Principal(client.id, Role.SUBMITTER, area))
            files = state_files(areas, args.citizenships)
            time.sleep(2)  # workers connected
            print(f"PostgreSQL + Redis, 2 worker processes, {os.cpu_count()} cores")
            results = []
            for label, subset in (("1 state", dict(list(files.items())[:1])),
                                  (f"{len(files)} states at once", files)):
                rows = sum(pl.read_csv(c, infer_schema=False).height for c in subset.values())
                with psycopg.connect(pg.dsn, autocommit=True) as conn:
                    conn.execute("TRUNCATE observation, regional_observation, "
                                 "regional_coverage, validation_report, status_change, outbox, "
                                 "submission, dataset RESTART IDENTITY CASCADE")
                pipeline = run_pipeline(base, tokens, subset, pg.dsn)
                if os.environ.get("BENCH_STAGES"):
                    with psycopg.connect(pg.dsn) as conn:
                        for row in conn.execute(
                                "SELECT submission_id, status, at FROM status_change "
                                "ORDER BY submission_id, id LIMIT 12").fetchall():
                            print("   ", row)
                copy = bare_copy(pg.dsn, subset)
                ratio = pipeline / copy
                results.append(ratio)
                print(f"{label:>20}: {rows:,} rows | pipeline {pipeline:6.2f} s "
                      f"({rows / pipeline:,.0f} rows/s) | bare COPY {copy:5.2f} s "
                      f"({rows / copy:,.0f} rows/s) | {ratio:4.1f}x")
            ok = all(r <= 5 for r in results)
            print(f"  [{'PASS' if ok else 'MISS'}] pipeline within 5x of the bare insert")
            return 0 if ok else 1
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
