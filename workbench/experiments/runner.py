"""Run a comparison: prepare every pipeline once, then train and evaluate each missing
(pipeline, n, seed) point, appending each result as it finishes. Rerunning resumes.

Each point selects on its own few-shot dev subset over its family's tuning grid (`dev`, `grid`:
pipelines.tuning). Points of one pipeline, with their grid configurations, are trained K
replicas at a time as one fused model (core.fused; `fuse`), grouped by neighbouring n so
replicas stop at about the same step. Groups run in order of n (small-n
groups of every pipeline first), so an interrupted run already holds complete small-n
comparisons; each group's results are appended as it finishes.
"""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from workbench.atomic import write_json
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_task, task_arguments
from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.experiments.config import CompareConfig
from workbench.experiments.executors import local_workers, run_groups_locally, run_groups_on_ray
from workbench.experiments.store import Point, PointResult, ResultStore
from workbench.metrics import PRIMARY_METRIC
from workbench.pipelines.base import Prepared
from workbench.pipelines.run import prepare, run_points
from workbench.report.render import write_report
from workbench.runs import check_same_run, environment, resolve_device


def resolved_sizes(config: CompareConfig, train_size: int) -> list[int]:
    sizes = sorted({train_size if s == "full" else int(s) for s in config.sizes})
    too_big = [s for s in sizes if s > train_size]
    if too_big:
        raise WorkbenchError(
            f"--sizes: {too_big[0]} is larger than the train split of {config.task} ({train_size}); "
            f"use sizes up to {train_size} or 'full'"
        )
    return sizes


def _check_folder(folder: Path, config: CompareConfig) -> None:
    check_same_run(folder, config.identity(), "a comparison")


def group_size(prepared: Prepared, config: CompareConfig, device) -> int:
    """K replicas for one pipeline: --fuse off = 1, a number = that, auto = from model size and device
    memory (1 where the family has nothing to fuse)."""
    return 1 if config.fuse == "off" else prepared.pipeline.group_size(prepared, config.fuse, device)


def fused_groups(curve: list, prepared: dict, config: CompareConfig, device) -> list[tuple[str, list, bool]]:
    """(pipeline, [(n, seed), ...], fused) groups, neighbouring n together, small n first. A fused
    group trains each of its points' `grid` configurations as a replica, so it holds K // grid
    points (at least one); with K = 1 (a CPU under --fuse auto) points and configurations run
    one after another.

    Groups are cut from the whole curve, never from what is left to do: with dropout, the masks a
    replica draws depend on its group, so a resumed run must rebuild the same groups to give the
    same numbers (a group with some points done is retrained whole; only its missing points are written)."""
    groups = []
    for pipeline in config.pipelines:
        points = sorted((point.n, point.seed) for point in curve if point.pipeline == pipeline)
        replicas = group_size(prepared[pipeline], config, device) if points else 1
        per_group = max(1, replicas // config.grid)
        groups += [(pipeline, points[i : i + per_group], replicas > 1) for i in range(0, len(points), per_group)]
    return sorted(groups, key=lambda g: (g[1][0][0], config.pipelines.index(g[0])))


def run_compare(
    config: CompareConfig, progress: bool = True, report: bool = True, pdf: bool = True, assume_yes: bool = False
) -> Path:
    """Every missing point of the comparison, then its report. `progress`: bars (points, and each long step of
    preparing: vectors, pretraining); `assume_yes`: a long CPU pretraining starts without asking."""
    started = time.perf_counter()
    folder = Path(config.out)
    device = resolve_device(config.device)
    grid_choice, config = config.grid, config.for_device(device)
    _check_folder(folder, config)
    task = resolve_task(config.task, **task_arguments(config.task_options))
    sizes = resolved_sizes(config, len(task.splits["train"]))
    for n in sizes:
        subset(task, n, config.seeds[0])  # validates n against the task before any training
    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / "config.json",
        {
            **config.to_dict(),
            "resolved_sizes": sizes,
            "grid_choice": grid_choice,  # "auto" or the number asked for; `grid` is what the points tried
            "task_kind": task.kind,
            "primary_metric": PRIMARY_METRIC[task.kind],
            "task_name": task.name,
        },
    )
    write_json(folder / "environment.json", environment(device))
    store = ResultStore(folder)
    records, warnings = store.read()
    for warning in warnings:
        print(f"workbench: warning: {warning}")
    done = {r.point for r in records}
    curve = [Point("curve", p, task.name, n, s) for n in sizes for s in config.seeds_for(n) for p in config.pipelines]
    todo = [k for k in curve if k not in done]
    bar = tqdm(
        total=len(curve),
        initial=len(curve) - len(todo),
        disable=not progress,
        unit="point",
        desc="compare",
        dynamic_ncols=True,
    )
    vocab = build_vocab(config.corpus)
    prepared, prepare_seconds, prepared_info = {}, {}, {}
    for pipeline in config.pipelines:
        bar.set_postfix_str(f"preparing {pipeline}")
        tick = time.perf_counter()
        prepared[pipeline] = prepare(
            pipeline, task, config.corpus, vocab, config.settings.get(pipeline), device, progress, assume_yes
        )
        prepare_seconds[pipeline] = time.perf_counter() - tick
        prepared[pipeline].info["parameters"] = prepared[pipeline].pipeline.parameter_counts(prepared[pipeline])
        prepared_info[pipeline] = prepared[pipeline].info
    write_json(folder / "prepared.json", prepared_info)
    missing = set(todo)
    groups = [
        group
        for group in fused_groups(curve, prepared, config, device)
        if any(Point("curve", group[0], task.name, n, seed) in missing for n, seed in group[1])
    ]
    protocol = config.protocol()
    if config.executor == "ray":
        finished = run_groups_on_ray(groups, prepared, device, protocol, config.address, config.cpus_per_task)
        bar.set_postfix_str(f"{len(groups)} groups on Ray")
    else:
        workers = local_workers(config.workers, device, len(groups))
        bar.set_postfix_str(f"{len(groups)} groups, {workers} worker process{'es' if workers > 1 else ''}")
        finished = run_groups_locally(groups, prepared, device, protocol, workers)
    for pipeline, results in finished:  # only the driver writes, one line per point, as each group finishes
        for result in results:
            if Point("curve", pipeline, task.name, result["n"], result["seed"]) in missing:
                store.append(PointResult.from_dict({**result, "kind": "curve"}))
                bar.update(1)
        bar.set_postfix_str(f"{pipeline} n={results[-1]['n']} done")
    bar.close()
    if config.budgets:
        _run_budgets(config, task, vocab, prepared, store, device, progress)
    write_json(
        folder / "timings.json",
        {
            "prepare_seconds": prepare_seconds,
            "total_seconds": time.perf_counter() - started,
            "points_run_now": len(todo),
        },
    )
    if report:
        write_report(folder, pdf=pdf)
    return folder


def _run_budgets(config, task, vocab, prepared, store, device, progress) -> None:
    """Fine-tune at fixed n on each checkpoint kept at increasing pretraining compute."""
    done = store.done()
    jobs = []
    for pipeline, prep in prepared.items():
        if not prep.pipeline.budgets:
            continue
        checkpoints = prep.pipeline.budget_checkpoints(prep)
        if not checkpoints:
            print(
                f"workbench: warning: {pipeline}'s backbone kept no intermediate checkpoints (the shipped model keeps "
                f"only the final one); pretrain it with `workbench pretrain` and pass its folder to get the compute axis"
            )
        for record in checkpoints:
            seeds = [
                s
                for s in config.seeds
                if Point("budget", pipeline, task.name, config.budget_n, s, record["checkpoint"]) not in done
            ]
            if seeds:
                jobs.append((pipeline, record, seeds))
    bar = tqdm(
        total=sum(len(seeds) for *_, seeds in jobs),
        disable=not progress,
        unit="point",
        desc="budgets",
        dynamic_ncols=True,
    )
    for pipeline, record, seeds in jobs:  # the seeds of one checkpoint form one group (fused where fusing pays)
        prep = (
            prepared[pipeline]
            .pipeline.at_checkpoint(prepared[pipeline], record["checkpoint"])
            .prepare(task, config.corpus, vocab, device)
        )
        bar.set_postfix_str(f"{pipeline} {record['checkpoint']}")
        points = [(config.budget_n, seed) for seed in seeds]
        fused = group_size(prep, config, device) > 1
        for result in run_points(prep, points, device, fused=fused, protocol=config.protocol()):
            store.append(
                PointResult.from_dict(
                    {
                        **result,
                        "kind": "budget",
                        "checkpoint": record["checkpoint"],
                        "budget_flops": record["flops"],
                        "budget_tokens": record["tokens"],
                    }
                )
            )
            bar.update(1)
    bar.close()
