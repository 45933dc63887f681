"""Benchmark of the validation command on a million rows, against a bare ``polars.read_csv``.

Run: ``python benchmarks/validate_bench.py`` (``--rows N`` for another size, ``--repeat K`` for
more pairs). It writes three files of the same rows:

* valid: a correct quarterly table;
* error-heavy: 30% of the rows carry a bad code (typos in every coded column, a few distinct
  values each) and 5% repeat the key of the row before (duplicate keys);
* all-errors: every row has exactly one error, cycling through six rules.

Everything is timed as whole processes, as a person runs it (interpreter start-up, imports, exit):

* baseline: the bare read command
  ``python -c "import polars; polars.read_csv(FILE, infer_schema=False)"``;
* ``mmx validate FILE --json``, run as ``python -m mmx.main validate ...`` from this
  checkout (the CLI's own start-up, typer, rich and the exchange's settings, included);
* the engine alone: ``python -c "from standards.validation import validate_file; ..."``, the
  same work without the CLI's start-up.

Each figure is printed beside its baseline measured in the same run. Every repeat runs, back to
back, the bare read of the valid file and the command on the three files (in reverse order every
other repeat); the valid file's ratio is to that repeat's bare read, the error files' ratios are
to that repeat's run on the valid file; figures are medians over the repeats. Peak memory is each
command's maximum resident set (its own ``VmHWM``, reported at exit).

Targets (issue 1): valid file within 2.5x the bare read command; error-heavy file within 1.5x
the valid file; all-errors file within 3x the valid file; peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from standards import load_standard
from standards.example import example_frame

ROOT = Path(__file__).resolve().parents[1]
# Each command reports its own peak memory (VmHWM) on stderr when it ends: ``wait4``'s
# ru_maxrss would count the benchmark's own pages, shared with the child until it execs.
PEAK = ("import atexit, sys\n"
        "def _peak():\n"
        "    with open('/proc/self/status') as fh:\n"
        "        kib = next(l.split()[1] for l in fh if l.startswith('VmHWM'))\n"
        "    print('peak', kib, file=sys.stderr)\n"
        "atexit.register(_peak)\n")
BARE = PEAK + "import polars; polars.read_csv(sys.argv[1], infer_schema=False)"
ENGINE = PEAK + (
    "import json\n"
    "from standards.validation import validate_file\n"
    "r = validate_file(sys.argv[1], country='KAZ', period='2026-Q3')\n"
    "sys.stdout.write(json.dumps(r.as_dict()))\n"
)
# ``python -m mmx.main validate ...``, with the peak reported the same way.
CLI = ["-c", PEAK + "import runpy; sys.argv[0] = 'mmx'\n"
       "runpy.run_module('mmx.main', run_name='__main__')", "validate"]
CLI_ARGS = ["--json", "--country", "KAZ", "--period", "2026-Q3"]
# Typos per coded column, none of them a national variant the mappings would fix: each bad row
# gets one of them.
TYPOS = {
    "REF_AREA": ["KAS", "KZX", "QAZ"],
    "POP_GROUP": ["REFX", "ASYL", "IDPS"],
    "MEASURE": ["STOK", "INFLW", "DEATHS"],
    "CITIZENSHIP": ["AFX", "IRX", "SYX", "TJX", "UZX"],
    "SEX": ["X", "Q", "FM"],
    "AGE": ["Y18-59", "Y0-4", "Y60+"],
    "OBS_STATUS": ["Q", "Z", "AA"],
}


def make_valid(path: Path, rows: int) -> int:
    standard = load_standard()
    # Rows per country of origin with every measure (groups x measures x needs x sexes x ages).
    per_citizenship = example_frame(standard, "KAZ", "2026-Q3", citizenships=1,
                                    all_measures=True).height
    citizenships = max(1, round(rows / per_citizenship))
    frame = example_frame(standard, "KAZ", "2026-Q3", citizenships=citizenships,
                          all_measures=True)
    frame.write_csv(path)
    return frame.height


def make_error_heavy(valid: Path, path: Path) -> int:
    """30% of the rows get one bad code; 5% repeat the key of the row before."""
    frame = pl.read_csv(valid, infer_schema=False).with_row_index("i")
    bad = (pl.col("i") % 10) < 3
    which = (pl.col("i") // 10) % len(TYPOS)
    dims = [c for c in frame.columns if c not in ("i", "OBS_VALUE", "OBS_STATUS")]
    repeat = (pl.col("i") % 20) == 7
    frame = frame.with_columns(
        pl.when(repeat).then(pl.col(c).shift(1)).otherwise(pl.col(c)).alias(c) for c in dims
    ).with_columns(
        pl.when(bad & (which == k)).then(_cycled(typos)).otherwise(pl.col(column)).alias(column)
        for k, (column, typos) in enumerate(TYPOS.items())
    ).drop("i")
    frame.write_csv(path)
    return frame.height


def _cycled(values: list[str]) -> pl.Expr:
    index = (pl.col("i") // 70) % len(values)
    expr = pl.lit(values[0])
    for k, value in enumerate(values[1:], start=1):
        expr = pl.when(index == k).then(pl.lit(value)).otherwise(expr)
    return expr


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


def run(args: list[str]) -> tuple[float, float, str]:
    """Wall time, peak RSS (MiB) and stdout of one process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], stdout=out, stderr=err, cwd=ROOT, env=env,
                       check=False)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        peak = next((int(line.split()[1]) for line in err.read().decode().splitlines()
                     if line.startswith("peak ")), 0)
    return elapsed, peak / 1024, text


@dataclass
class Series:
    """One command on one file, over the repeats: times, peaks, ratios to its baseline."""

    times: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    output: str = ""

    @property
    def time(self) -> float:
        return statistics.median(self.times)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def measure(files: dict[str, Path], command: list[str], extra: list[str], repeat: int
            ) -> tuple[Series, dict[str, Series]]:
    """Per repeat, back to back: the bare read of the valid file, then the command on each file
    (in reverse order every other repeat, so drift in the machine's load cancels out). The valid
    file's ratio is to the bare read of the same repeat; the others' to the valid file's run."""
    bare, runs = Series(), {name: Series() for name in files}
    for k in range(repeat):
        order = ["bare", *files]
        times: dict[str, float] = {}
        for step in order if k % 2 == 0 else reversed(order):
            if step == "bare":
                times[step], peak, _ = run(["-c", BARE, str(files["valid"])])
                bare.times.append(times[step])
                bare.peaks.append(peak)
            else:
                times[step], peak, output = run([*command, str(files[step]), *extra])
                runs[step].times.append(times[step])
                runs[step].peaks.append(peak)
                runs[step].output = output
        for name in files:
            runs[name].ratios.append(times[name] / times["bare" if name == "valid" else "valid"])
    return bare, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli_works = subprocess.run([sys.executable, *CLI, "--help"], cwd=ROOT, capture_output=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 0
    targets = {"valid": 2.5, "error-heavy": 1.5, "all-errors": 3.0}
    checks = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {"valid": Path(tmp, "valid.csv"), "error-heavy": Path(tmp, "error_heavy.csv"),
                 "all-errors": Path(tmp, "all_errors.csv")}
        n = make_valid(files["valid"], args.rows)
        make_error_heavy(files["valid"], files["error-heavy"])
        make_all_errors(files["valid"], files["all-errors"])
        print(f"files: {n:,} rows each ({files['valid'].stat().st_size / 2**20:.0f} MiB); "
              f"medians of {args.repeat} repeats; {os.cpu_count()} cores")
        commands = {"engine": (["-c", ENGINE], [])}
        if cli_works:
            commands = {"mmx validate": (CLI, CLI_ARGS), **commands}
        else:
            print("(python -m mmx.main does not run in this checkout: the engine "
                  "command stands in for mmx validate)")
        peak = 0.0
        for label, (command, extra) in commands.items():
            bare, runs = measure(files, command, extra, args.repeat)
            print(f"{label}:")
            print(f"  bare read of the valid file  {bare.time:5.2f} s "
                  f"| peak {max(bare.peaks):,.0f} MiB")
            for name, series in runs.items():
                report = json.loads(series.output)
                against = "the bare read" if name == "valid" else "the valid file"
                print(f"  {name:>11} {series.time:5.2f} s = {series.ratio:4.2f}x {against:<14} "
                      f"(target {targets[name]}x) | peak {max(series.peaks):,.0f} MiB "
                      f"| valid={report['valid']} errors={report['error_count']:,}")
                checks.append((f"{label}, {name}: {series.ratio:.2f}x {against} "
                               f"<= {targets[name]}x", series.ratio <= targets[name]))
                peak = max(peak, *series.peaks)
                if name == "all-errors":
                    checks.append((f"{label}: every row of the all-errors file reported",
                                   report["error_count"] >= n))
                if name == "valid":
                    checks.append((f"{label}: valid file reported valid", report["valid"]))
        checks.append((f"peak memory under 2 GB ({peak:,.0f} MiB)", peak < 2048))
        for text, ok in checks:
            print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
