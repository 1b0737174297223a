"""The comparison grid's wall time on the local executor vs Ray on this machine.

    python bench/scaleout/run.py [--cpus 2] [--seeds 3] [--json out.json]

Runs the same small grid (random+lstm and tfidf on micro-sentiment, sizes 16/64/256, fused
groups) into two fresh folders: once locally (one process), once on a local Ray cluster with
--cpus CPUs (one CPU per task). Reports both wall times, their ratio, and whether the results
are identical. On a 2-core machine Ray can run two groups at once, so the ratio mixes its
overhead (cluster and worker start-up, object transfer) with that parallelism; ray.init's share
is printed separately.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.experiments.config import build_config  # noqa: E402
from workbench.experiments.runner import run_compare  # noqa: E402

SETTINGS = {"random+lstm": {"train": {"max_steps": 200}, "encoder": {"hidden": 64}}}


def grid(out: str, seeds: int, executor: str):
    return build_config(
        task="micro-sentiment",
        corpus="microworld:300000",
        pipelines=["tfidf", "random+lstm"],
        sizes=[16, 64, 256],
        seeds=seeds,
        fuse="3",
        settings=SETTINGS,
        out=out,
        executor=executor,
    )


def results(folder: Path) -> dict:
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]
    return {(r["pipeline"], r["n"], r["seed"]): r["metrics"] for r in lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        local, remote = Path(tmp) / "local", Path(tmp) / "ray"
        start = time.perf_counter()
        run_compare(grid(str(local), args.seeds, "local"), progress=False, report=False)
        local_s = time.perf_counter() - start
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - start
        run_compare(grid(str(remote), args.seeds, "ray"), progress=False, report=False)
        ray_s = time.perf_counter() - start
        ray.shutdown()
        same = results(local) == results(remote)
    out = {
        "local_s": local_s,
        "ray_s": ray_s,
        "ray_init_s": init_s,
        "ratio_ray_over_local": ray_s / local_s,
        "identical_results": same,
        "cpus": args.cpus,
    }
    print(
        f"local {local_s:.1f} s | ray {ray_s:.1f} s (of which ray.init {init_s:.1f} s) | ratio {ray_s / local_s:.2f} "
        f"| identical results: {same}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
