"""Wall time of `workbench compare` with no arguments, and of re-rendering its report.

    python bench/compare_default/run.py [--repeats 3] [--cold]

Each repeat runs the default comparison into a fresh folder (the pretrained backbone and the
vectors come from the shipped checkpoint or the artifact cache: run once with --cold, against
an empty WORKBENCH_CACHE, to measure the first-time cost including pretraining), then
`workbench report` on the finished folder. Prints the medians; record them in bench/NOTES.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="use an empty artifact cache (includes pretraining)")
    args = parser.parse_args()
    env = dict(os.environ)
    compare_times, report_times = [], []
    with tempfile.TemporaryDirectory() as scratch:
        if args.cold:
            env["WORKBENCH_CACHE"] = os.path.join(scratch, "cache")
        for i in range(args.repeats):
            out = os.path.join(scratch, f"run{i}")
            compare_times.append(timed([sys.executable, "-m", "workbench", "compare", "--out", out, "--quiet"], env))
            report_times.append(timed([sys.executable, "-m", "workbench", "report", out, "--no-pdf"], env))
            print(f"repeat {i}: compare {compare_times[-1]:.1f} s, report {report_times[-1]:.1f} s", flush=True)
    print(
        f"median compare: {statistics.median(compare_times):.1f} s; median report: {statistics.median(report_times):.1f} s "
        f"({'cold' if args.cold else 'warm'} cache, {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
