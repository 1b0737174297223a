"""Fine-tuning cost on real text (issue 14: a point at n <= 1,000 in at most 30 s on one core for every
pipeline): one point (n, seed 0) of each pipeline of a preset, timed on one thread.

    WORKBENCH_THREADS=1 WORKBENCH_DATA=../shared/data python bench/realtext/point_cost.py [--preset imdb-sst2]

Each pipeline is prepared first, outside the timing (static vectors trained or found in the artifact cache,
as `compare` does). A whole-model backbone is the preset's when it is cached; else one pretrained for
--backbone-steps stands in: a point's cost does not depend on how long its backbone was pretrained, only
on the model's size and on when early stopping ends the point. Prints wall and CPU seconds per point (on one
thread, CPU time is what an idle core would take when the machine is shared) and the steps trained. Each point
tries the configurations `compare` would (--grid auto: the hand-set recipe alone on a CPU).
"""

from __future__ import annotations

import argparse
import os
import time

from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab, task_oov_rates
from workbench.experiments.config import build_config
from workbench.pipelines.run import prepare, run_point
from workbench.pipelines.tuning import Protocol, grid_for, parse_grid
from workbench.runs import resolve_device

BUDGET_SECONDS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="imdb-sst2")
    parser.add_argument("--task", default="sst2", help="the task to time on (default sst2, as the issue asks)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument(
        "--backbone-steps",
        type=int,
        default=None,
        help="pretrain stand-in backbones for this many steps instead of the preset's",
    )
    parser.add_argument("--pipelines", default=None, help="a subset of the preset's pipelines, comma-separated")
    parser.add_argument(
        "--grid", default="auto", help="configurations per point, as compare's --grid (auto: 1 on a CPU, the default)"
    )
    args = parser.parse_args()
    config = build_config(preset=args.preset, task=args.task, pipelines=args.pipelines)
    device = resolve_device("cpu")
    protocol = Protocol(grid=grid_for(parse_grid(args.grid), device))
    task, vocab = resolve_task(config.task), build_vocab(config.corpus)
    oov = task_oov_rates(vocab, task)["dev"]
    print(
        f"preset {args.preset}, task {task.name}, corpus {config.corpus} ({len(vocab):,} words: {task.name} dev OOV "
        f"{oov:.2%}), n={args.n}, "
        f"seed 0, {protocol.grid} configuration(s) per point, {os.environ.get('WORKBENCH_THREADS', '1')} thread(s); "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(f"{'pipeline':22} {'prepare s':>9} {'point wall s':>12} {'point CPU s':>11} {'steps':>6} {'test acc':>8}")
    for pipeline in config.pipelines:
        settings = dict(config.settings.get(pipeline, {}))
        if args.backbone_steps and "steps" in settings:
            settings["steps"] = args.backbone_steps
        tick = time.perf_counter()
        prepared = prepare(pipeline, task, config.corpus, vocab, settings, device)
        prepare_seconds = time.perf_counter() - tick
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_point(prepared, args.n, 0, device, protocol)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        steps = (result.get("fit") or {}).get("steps", "-")
        accuracy = result["metrics"].get("test", {}).get("accuracy", float("nan"))
        flag = "  > 30 s" if cpu > BUDGET_SECONDS else ""
        print(
            f"{pipeline:22} {prepare_seconds:9.1f} {wall:12.1f} {cpu:11.1f} {steps!s:>6} {accuracy:8.3f}{flag}",
            flush=True,
        )


if __name__ == "__main__":
    main()
