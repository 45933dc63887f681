"""Benchmark of ``mmx validate`` on a million rows, against a bare ``polars.read_csv``.

Run: ``python benchmarks/validate_bench.py`` (add ``--rows N`` for another size). It writes a
valid file and a file where every row has exactly one error, then times, in this one run:

* the bare read in-process: ``polars.read_csv`` of the file (all columns as strings, as the
  engine reads), against the engine in-process (``standards.validation.validate_file``);
* the bare read as a command (``python -c "import polars; polars.read_csv(FILE)"``), against
  the whole command ``mmx validate FILE --json``: both pay interpreter start-up and imports.
  Peak memory is the command's maximum resident set.

Targets (issue 2): valid file within 3x the bare read; all-errors file within 3x the valid file;
peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from standards import load_standard
from standards.example import example_frame
from standards.validation import validate_file

ROWS_PER_CITIZENSHIP = 6272  # 16 groups x 14 measures x 4 sexes x 7 ages, with all_measures


def make_valid(path: Path, rows: int) -> int:
    standard = load_standard()
    citizenships = max(1, round(rows / ROWS_PER_CITIZENSHIP))
    frame = example_frame(standard, "KAZ", "2026-Q3", citizenships=citizenships,
                          all_measures=True)
    frame.write_csv(path)
    return frame.height


def make_all_errors(valid: Path, path: Path) -> int:
    """Every row gets exactly one error, cycling through six different rules."""
    frame = pl.read_csv(valid, infer_schema=False).with_row_index("i")
    kind = pl.col("i") % 6
    frame = frame.with_columns(
        pl.when(kind == 0).then(pl.lit("KAS")).otherwise(pl.col("REF_AREA")).alias("REF_AREA"),
        pl.when(kind == 1).then(pl.lit("2026Q3")).otherwise(pl.col("TIME_PERIOD"))
        .alias("TIME_PERIOD"),
        pl.when(kind == 2).then(pl.lit("X")).otherwise(pl.col("SEX")).alias("SEX"),
        pl.when(kind == 3).then(pl.lit("-7"))
        .when(kind == 4).then(pl.lit("12.5")).otherwise(pl.col("OBS_VALUE")).alias("OBS_VALUE"),
        pl.when(kind == 5).then(pl.lit("Q")).otherwise(pl.col("OBS_STATUS")).alias("OBS_STATUS"),
    ).drop("i")
    frame.write_csv(path)
    return frame.height


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_bare_process(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys, polars; polars.read_csv(sys.argv[1])",
                    str(path)], check=True)
    return time.perf_counter() - start


def run_cli(path: Path) -> tuple[float, float, dict]:
    """Wall time and peak RSS (MiB) of ``mmx validate --json`` in its own process."""
    code = (
        "import resource, sys\n"
        "from mmx.main import cli as app\n"
        "try:\n    app([*sys.argv[1:]], standalone_mode=False)\n"
        "finally:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "validate", str(path), "--json",
                           "--country", "KAZ", "--period", "2026-Q3"],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    peak_mib = int(proc.stderr.strip().splitlines()[-1]) / 1024
    return elapsed, peak_mib, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        valid, bad = Path(tmp, "valid.csv"), Path(tmp, "all_errors.csv")
        n_valid = make_valid(valid, args.rows)
        n_bad = make_all_errors(valid, bad)
        print(f"files: valid {n_valid:,} rows ({valid.stat().st_size / 2**20:.0f} MiB), "
              f"all-errors {n_bad:,} rows; best of {args.repeat}; {os.cpu_count()} cores")
        results = {}
        for name, path in (("valid", valid), ("all-errors", bad)):
            bare = best_of(lambda p=path: pl.read_csv(p, infer_schema=False), args.repeat)
            engine = best_of(lambda p=path: validate_file(p, country="KAZ", period="2026-Q3"),
                             args.repeat)
            bare_cmd = min(run_bare_process(path) for _ in range(args.repeat))
            runs = [run_cli(path) for _ in range(args.repeat)]
            cli = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            report = runs[0][2]
            results[name] = (bare, engine, cli, peak, report, bare_cmd)
            print(f"{name:>10}: in-process  bare read {bare:5.2f} s | engine {engine:5.2f} s "
                  f"({engine / bare:3.1f}x)")
            print(f"{'':>10}  as commands bare read {bare_cmd:5.2f} s | mmx validate {cli:5.2f} s "
                  f"({cli / bare_cmd:3.1f}x), peak {peak:,.0f} MiB | valid={report['valid']} "
                  f"errors={report['error_count']:,}")
        v, b = results["valid"], results["all-errors"]
        checks = [
            ("valid file: mmx validate within 3x the bare read command", v[2] <= 3 * v[5]),
            ("valid file: engine within 3x the bare read, in-process", v[1] <= 3 * v[0]),
            ("all-errors file within 3x valid file (mmx validate)", b[2] <= 3 * v[2]),
            ("all-errors file within 3x valid file (engine)", b[1] <= 3 * v[1]),
            ("peak memory under 2 GB", max(v[3], b[3]) < 2048),
            ("every row of the all-errors file reported", b[4]["error_count"] >= n_bad),
        ]
        for label, ok in checks:
            print(f"  [{'PASS' if ok else 'MISS'}] {label}")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(benchmark process itself peaked at {peak_self:,.0f} MiB)")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
