"""Embedded default (`mmx serve` with no configuration: SQLite, SQLite broker, one worker):
upload -> harmonized with the regional tables rebuilt, against a bare ``sqlite3`` insert of the
same rows.

Run: ``python benchmarks/embedded_bench.py`` (``--citizenships 8`` is about 50,000 rows,
``--repeat`` revisions are timed after one warm-up). Measured in this one run:

* the pipeline: POST the file over HTTP, then poll until the submission is ``harmonized`` at
  100% (validated, harmonized, regional tables rebuilt); each repeat is a new revision of the
  same state-quarter, so its observations replace the previous ones;
* the baseline: ``executemany`` of the same rows into an observation-shaped SQLite table (same
  columns, same index, WAL), replacing the previous rows, committed.

Target (issue 8): upload -> harmonized within 4x of the bare insert (medians). The time until
the regional tables are rebuilt (the ``aggregate`` stage, which follows ``harmonized``) is
printed beside it.
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.accounts.service import create_client  # noqa: E402
from exchange.auth.principal import Principal, Role  # noqa: E402
from exchange.auth.tokens import KeyRing  # noqa: E402
from exchange.core.config import Settings  # noqa: E402
from exchange.core.db import session_scope  # noqa: E402
from standards import load_standard  # noqa: E402
from standards.example import example_frame  # noqa: E402

SECRET = "benchmark-secret-" + "b" * 40
TARGET = 4.0


def revisions(citizenships: int, count: int) -> list[bytes]:
    """``count`` valid files of one state-quarter that differ in one OBS_STATUS each."""
    frame = example_frame(load_standard(), "KAZ", "2026-Q3", citizenships=citizenships,
                          all_measures=True)
    files = []
    for i in range(count):
        variant = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == i).then(pl.lit("E"))
            .otherwise(pl.col("OBS_STATUS")).alias("OBS_STATUS"))
        buffer = io.BytesIO()
        variant.write_csv(buffer)
        files.append(buffer.getvalue())
    return files


def bare_insert(path: Path, content: bytes, repeat: int) -> list[float]:
    rows = [("1", "1", 1, *r) for r in pl.read_csv(content, infer_schema=False).with_columns(
        pl.col("OBS_VALUE").cast(pl.Int64)).select(
        "REF_AREA", "TIME_PERIOD", "POP_GROUP", "MEASURE", "CITIZENSHIP", "SEX", "AGE",
        "OBS_VALUE", "OBS_STATUS").iter_rows()]
    rows = [(*r, 0) for r in rows]
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE observation (id INTEGER PRIMARY KEY, dataset_id INT, "
               "submission_id INT, revision INT, ref_area TEXT, period TEXT, pop_group TEXT, "
               "measure TEXT, citizenship TEXT, sex TEXT, age TEXT, value BIGINT, "
               "obs_status TEXT, derived BOOLEAN)")
    db.execute("CREATE INDEX ix_area_period ON observation (ref_area, period)")
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM observation WHERE ref_area = 'KAZ' AND period = '2026-Q3'")
        db.executemany("INSERT INTO observation (dataset_id, submission_id, revision, ref_area, "
                       "period, pop_group, measure, citizenship, sex, age, value, obs_status, "
                       "derived) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times[1:]  # the first run warms the file up


def pipeline(base: str, token: str, files: list[bytes]) -> tuple[list[float], list[float]]:
    """Seconds from upload to ``harmonized``, and to the regional tables rebuilt (100%)."""
    headers = {"Authorization": f"Bearer {token}"}
    harmonized, rebuilt = [], []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        for content in files:
            start = time.perf_counter()
            created = http.post("/api/v1/submissions", data={"ref_area": "KAZ",
                                                             "period": "2026-Q3"},
                                files={"file": ("kaz.csv", content, "text/csv")})
            assert created.status_code == 202, created.text
            url = created.headers["location"]
            seen = None
            while True:
                body = http.get(url).json()
                if body["status"] in ("rejected", "failed"):
                    raise RuntimeError(f"{url}: {body['status']} {body.get('failure_reason')}")
                if body["status"] == "harmonized" and seen is None:
                    seen = time.perf_counter() - start
                if body["progress"] == 100:
                    break
                time.sleep(0.01)
            harmonized.append(seen or time.perf_counter() - start)
            rebuilt.append(time.perf_counter() - start)
    return harmonized[1:], rebuilt[1:]  # the first upload warms the worker up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizenships", type=int, default=8, help="8 -> about 50,000 rows")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = revisions(args.citizenships, args.repeat + 1)
    rows = pl.read_csv(files[0], infer_schema=False).height
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MMX_")} | {
            "PYTHONPATH": str(ROOT), "MMX_DATA_DIR": str(work / "var"),
            "MMX_JWT_SECRET": SECRET}
        port = 18000 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "mmx.main", "serve", "--port",
                                   str(port)], env=env, cwd=work, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("mmx serve did not become ready")
                time.sleep(0.2)
            settings = Settings(data_dir=work / "var", jwt_secret=SECRET)
            with session_scope(settings.resolved_database_url) as session:
                client, _ = create_client(session, role=Role.SUBMITTER, ref_area="KAZ",
                                          name="bench")
            token = KeyRing.from_settings(settings).issue(
                Principal(client.id, Role.SUBMITTER, "KAZ"))
            measured, with_regional = pipeline(base, token, files)
        finally:
            server.terminate()
            server.wait(timeout=30)
        baseline = bare_insert(work / "bare.sqlite3", files[0], args.repeat)
    bare = statistics.median(baseline)

    def line(label: str, times: list[float]) -> str:
        each = ", ".join(f"{t:.2f}" for t in times)
        return (f"  {label:<40} {statistics.median(times):6.2f} s "
                f"{statistics.median(times) / bare:5.1f}x  [{each}]")

    print(f"embedded default, {rows:,} rows, {os.cpu_count()} cores, medians of {args.repeat}:")
    print(line("bare sqlite3 executemany (baseline)", baseline))
    print(line("upload -> harmonized", measured))
    print(line("upload -> regional tables rebuilt", with_regional))
    ratio = statistics.median(measured) / bare
    ok = ratio <= TARGET
    print(f"  [{'PASS' if ok else 'MISS'}] upload -> harmonized {ratio:.1f}x, target <= "
          f"{TARGET:.0f}x the bare insert")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
