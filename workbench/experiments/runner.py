"""Run a comparison: prepare every pipeline once, then train and evaluate each missing
(pipeline, n, seed) point, appending each result as it finishes. Rerunning resumes.

Points run in order of n (all pipelines and seeds at n=16 first), so an interrupted run
already holds complete small-n comparisons.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from workbench.data.subsets import subset
from workbench.data.tasks import resolve_task
from workbench.errors import WorkbenchError
from workbench.experiments.config import CompareConfig
from workbench.experiments.store import ResultStore, point_key
from workbench.metrics import PRIMARY_METRIC
from workbench.runs import environment, resolve_device, write_json


def resolved_sizes(config: CompareConfig, train_size: int) -> list[int]:
    sizes = sorted({train_size if s == "full" else int(s) for s in config.sizes})
    too_big = [s for s in sizes if s > train_size]
    if too_big:
        raise WorkbenchError(f"--sizes: {too_big[0]} is larger than the train split of {config.task} ({train_size}); "
                             f"use sizes up to {train_size} or 'full'")
    return sizes


def _check_folder(folder: Path, config: CompareConfig) -> None:
    path = folder / "config.json"
    if path.exists():
        existing = json.loads(path.read_text())
        theirs = {k: existing.get(k) for k in config.identity()}
        if theirs != config.identity():
            raise WorkbenchError(f"{folder} holds a comparison with another task, corpus or settings; "
                                 f"choose another --out or delete the folder")


def _budget_checkpoints(info: dict) -> list[dict]:
    """The log-spaced checkpoints a pretrained backbone kept, with the FLOPs spent at each."""
    folder = info.get("folder")
    log = Path(folder) / "log.jsonl" if folder else None
    if not log or not log.exists():
        return []
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("checkpoint") and (Path(folder) / r["checkpoint"]).is_file()]


def run_compare(config: CompareConfig, progress: bool = True, report: bool = True, pdf: bool = True) -> Path:
    from tqdm import tqdm

    from workbench.pipelines.run import build_vocab, prepare, run_point

    started = time.perf_counter()
    folder = Path(config.out)
    _check_folder(folder, config)
    device = resolve_device(config.device)
    options = dict(config.task_options)
    if isinstance(options.get("labels"), list):
        options["labels"] = tuple(options["labels"])
    task = resolve_task(config.task, **options)
    sizes = resolved_sizes(config, len(task.splits["train"]))
    for n in sizes:
        subset(task, n, config.seeds[0])  # validates n against the task before any training
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "config.json", {**config.to_dict(), "resolved_sizes": sizes, "task_kind": task.kind,
                                        "primary_metric": PRIMARY_METRIC[task.kind], "task_name": task.name})
    write_json(folder / "environment.json", environment(device))
    store = ResultStore(folder)
    records, warnings = store.read()
    for warning in warnings:
        print(f"workbench: warning: {warning}")
    done = {point_key(r) for r in records}
    curve = [("curve", p, task.name, n, s, None) for n in sizes for s in config.seeds for p in config.pipelines]
    todo = [k for k in curve if k not in done]
    bar = tqdm(total=len(curve), initial=len(curve) - len(todo), disable=not progress, unit="point",
               desc="compare", dynamic_ncols=True)
    vocab = build_vocab(config.corpus)
    prepared, prepare_seconds, prepared_info = {}, {}, {}
    for pipeline in config.pipelines:
        bar.set_postfix_str(f"preparing {pipeline}")
        tick = time.perf_counter()
        prepared[pipeline] = prepare(pipeline, task, config.corpus, vocab, config.settings.get(pipeline), device)
        prepare_seconds[pipeline] = time.perf_counter() - tick
        prepared_info[pipeline] = prepared[pipeline].info
    write_json(folder / "prepared.json", prepared_info)
    for key in todo:
        _, pipeline, _, n, seed, _ = key
        bar.set_postfix_str(f"{pipeline} n={n} seed={seed}")
        result = run_point(prepared[pipeline], n, seed, device, config.settings.get(pipeline))
        store.append({**result, "kind": "curve"})
        bar.update(1)
    bar.close()
    if config.budgets:
        _run_budgets(config, task, vocab, prepared, store, device, progress)
    write_json(folder / "timings.json", {"prepare_seconds": prepare_seconds,
                                         "total_seconds": time.perf_counter() - started,
                                         "points_run_now": len(todo)})
    if report:
        from workbench.report.render import write_report

        write_report(folder, pdf=pdf)
    return folder


def _run_budgets(config, task, vocab, prepared, store, device, progress) -> None:
    """Fine-tune at fixed n on each checkpoint kept at increasing pretraining compute."""
    from tqdm import tqdm

    from workbench.pipelines.run import prepare, run_point

    done = store.done()
    jobs = []
    for pipeline, prep in prepared.items():
        if not prep.spec.pretrained or prep.spec.representation == "scratch-transformer":
            continue
        checkpoints = _budget_checkpoints(prep.info.get("pretraining", {}))
        if not checkpoints:
            print(f"workbench: warning: {pipeline}'s backbone kept no intermediate checkpoints (the shipped model keeps "
                  f"only the final one); pretrain it with `workbench pretrain` and pass its folder to get the compute axis")
        for record in checkpoints:
            for seed in config.seeds:
                key = ("budget", pipeline, task.name, config.budget_n, seed, record["checkpoint"])
                if key not in done:
                    jobs.append((pipeline, record, seed))
    bar = tqdm(total=len(jobs), disable=not progress, unit="point", desc="budgets", dynamic_ncols=True)
    cache = {}
    for pipeline, record, seed in jobs:
        if (pipeline, record["checkpoint"]) not in cache:
            settings = {**(config.settings.get(pipeline) or {}), "backbone": prepared[pipeline].info["pretraining"]["folder"],
                        "checkpoint": record["checkpoint"]}
            cache[(pipeline, record["checkpoint"])] = (prepare(pipeline, task, config.corpus, vocab, settings, device), settings)
        prep, settings = cache[(pipeline, record["checkpoint"])]
        bar.set_postfix_str(f"{pipeline} {record['checkpoint']} seed={seed}")
        result = run_point(prep, config.budget_n, seed, device, settings)
        store.append({**result, "kind": "budget", "checkpoint": record["checkpoint"], "budget_flops": record["flops"],
                      "budget_tokens": record["tokens"]})
        bar.update(1)
    bar.close()
