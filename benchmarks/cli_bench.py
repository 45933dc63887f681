"""Start-up of the command line: ``mmx --help`` against a bare ``python -c pass``, both as
whole processes in this one run (medians of ``--repeat`` runs after one warm-up each).

Run: ``python benchmarks/cli_bench.py``. Target (issue 8): ``mmx --help`` under 0.4 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.4


def timed(argv: list[str], repeat: int) -> list[float]:
    subprocess.run(argv, capture_output=True, check=True)  # warm-up: page cache, .pyc files
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    mmx = shutil.which("mmx")
    command = [mmx, "--help"] if mmx else [sys.executable, "-m", "mmx.main", "--help"]
    bare = statistics.median(timed([sys.executable, "-c", "pass"], args.repeat))
    ours = statistics.median(timed(command, args.repeat))
    print(f"python -c pass (baseline) {bare:.3f} s")
    print(f"mmx --help                {ours:.3f} s  ({ours / bare:.1f}x the bare interpreter)")
    ok = ours < TARGET_SECONDS
    print(f"[{'PASS' if ok else 'MISS'}] target < {TARGET_SECONDS} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
