"""Distributed shape (PostgreSQL + Redis + two worker processes): upload -> harmonized, against
a warmed, repeated bare ``COPY`` of the same rows into the same database.

Run: ``python benchmarks/pipeline_bench.py`` (one command: it starts a throw-away PostgreSQL
with ``.ci/services`` unless ``MMX_TEST_PG_*`` points at one, a Redis on a free port, the API
and the workers). Measured in this one run, medians after one warm-up each:

* one state: a ~64,000-row file uploaded ``--repeat`` times as new revisions of the same
  state-quarter; timed from the POST to ``harmonized``, then the benchmark waits until the
  regional tables are rebuilt, so the baseline never shares the machine with that work;
* the baseline: ``COPY`` of the same rows into an observation-shaped table with the same index,
  replacing the previous rows, in one transaction (warmed up, repeated);
* ``--states N`` (default 20) states uploading at once, against one COPY of all their rows.

Target (issue 8): one state within 5x of the warmed COPY.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Exchange, Redis, postgres

from standards import load_standard
from standards.example import example_frame

TARGET = 5.0
# The file's columns (the standard's), as the observation table names them.
COLUMNS = list(load_standard().upload_columns)
TABLE_COLUMNS = ["value" if c == "OBS_VALUE" else "period" if c == "TIME_PERIOD" else c.lower()
                 for c in COLUMNS]


def state_file(area: str, citizenships: int, variant: int = 0) -> bytes:
    frame = example_frame(load_standard(), area, "2026-Q3", citizenships=citizenships,
                          all_measures=True, seed=sum(map(ord, area)))
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == variant).then(pl.lit("E"))
                               .otherwise(pl.col("OBS_STATUS")).alias("OBS_STATUS"))
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def copy_baseline(dsn: str, files: list[bytes], repeat: int) -> list[float]:
    """Warmed, repeated COPY of the rows into an observation-shaped table with its index."""
    payloads = []
    for content in files:
        out = io.BytesIO()
        frame = pl.read_csv(content, infer_schema=False).select(COLUMNS)
        frame.with_columns(pl.lit(1).alias("d"), pl.lit(1).alias("s"), pl.lit(1).alias("r"),
                           pl.lit(False).alias("derived")).write_csv(out, include_header=False)
        payloads.append(out.getvalue())
    times = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        columns = ", ".join(f"{c} bigint" if c == "value" else f"{c} varchar(20)"
                            for c in TABLE_COLUMNS)
        conn.execute(f"CREATE TABLE bench_copy (id serial PRIMARY KEY, {columns}, "
                     "dataset_id int, submission_id int, revision int, derived boolean)")
        conn.execute("CREATE INDEX ON bench_copy (ref_area, period)")
        for _ in range(repeat + 1):
            start = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("DELETE FROM bench_copy")
                for payload in payloads:
                    with cur.copy(f"COPY bench_copy ({', '.join(TABLE_COLUMNS)}, dataset_id, "
                                  "submission_id, revision, derived) FROM STDIN "
                                  "WITH (FORMAT csv)") as copy:
                        copy.write(payload)
            times.append(time.perf_counter() - start)
    return times[1:]


def one_state(exchange: Exchange, citizenships: int, repeat: int) -> tuple[list[float], bytes]:
    token = exchange.token("KAZ")
    times = []
    for variant in range(repeat + 1):
        content = state_file("KAZ", citizenships, variant)
        start = time.perf_counter()
        url = exchange.upload("KAZ", token, content)
        exchange.wait(url, token, "status", "harmonized", "harmonized")
        times.append(time.perf_counter() - start)
        # The regional rebuild follows; let it finish before anything else is timed.
        exchange.wait(url, token, "progress", 100, "the regional rebuild")
    return times[1:], content


def many_states(exchange: Exchange, areas: list[str], citizenships: int
                ) -> tuple[float, list[bytes]]:
    tokens = {area: exchange.token(area) for area in areas}
    files = {area: state_file(area, citizenships) for area in areas}
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(areas)) as pool:
        urls = list(pool.map(lambda a: (a, exchange.upload(a, tokens[a], files[a])), areas))
    for area, url in urls:
        exchange.wait(url, tokens[area], "status", "harmonized", f"{area} harmonized")
    elapsed = time.perf_counter() - start
    for area, url in urls:
        exchange.wait(url, tokens[area], "progress", 100, "regional rebuilds")
    return elapsed, list(files.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizenships", type=int, default=2,
                        help="2 -> about 64,000 rows (every 2.0.0 measure, needs drawn)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--states", type=int, default=20)
    args = parser.parse_args()
    standard = load_standard()
    areas = sorted(standard.region_members("BALI_PROCESS") | standard.region_members("ECOWAS")
                   | standard.region_members("CENTRAL_ASIA") - {"KAZ"})[: args.states]
    pg = postgres()
    redis = Redis()
    with tempfile.TemporaryDirectory() as tmp:
        exchange = Exchange(Path(tmp), pg, redis.url)
        try:
            pipeline, content = one_state(exchange, args.citizenships, args.repeat)
            baseline = copy_baseline(exchange.dsn, [content], args.repeat)
            many, files = many_states(exchange, areas, args.citizenships) if args.states \
                else (0.0, [])
            many_copy = copy_baseline(exchange.dsn, files, 2) if files else [0.0]
        finally:
            exchange.stop()
            redis.stop()
    rows = pl.read_csv(content, infer_schema=False).height
    ours, bare = statistics.median(pipeline), statistics.median(baseline)
    print(f"PostgreSQL + Redis, 2 worker processes, {os.cpu_count()} cores")
    print(f"  one state, {rows:,} rows, medians of {args.repeat}:")
    each = ", ".join(f"{t:.3f}" for t in baseline)
    print(f"    warmed COPY (baseline)   {bare:6.3f} s  [{each}]")
    each = ", ".join(f"{t:.3f}" for t in pipeline)
    print(f"    upload -> harmonized     {ours:6.3f} s  [{each}]  {ours / bare:4.1f}x")
    if files:
        total = sum(pl.read_csv(f, infer_schema=False).height for f in files)
        copy = statistics.median(many_copy)
        print(f"  {len(files)} states at once, {total:,} rows: upload -> all harmonized "
              f"{many:.2f} s vs warmed COPY {copy:.2f} s  {many / copy:4.1f}x")
    ok = ours / bare <= TARGET
    print(f"  [{'PASS' if ok else 'MISS'}] one state within {TARGET:.0f}x of the warmed COPY")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
