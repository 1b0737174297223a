"""Families that train a torch model on the labels (static vectors + encoder, a pretrained model),
and the one point runner they share: seeded model init, the nested subset, each configuration of
the family's tuning grid trained with core.train.fit (or as replicas of one core.fused.fit_fused
model) and selected on the point's dev (pipelines.tuning), the chosen one evaluated on test and
shifted test; and points the family evaluates without any update (zero-shot, in-context).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import asdict, replace

import torch
from torch import nn

from workbench.core.batching import Encoded
from workbench.core.fused import ReplicaStack, choose_k, fit_fused, predict_fused, score_subsets
from workbench.core.train import TrainConfig, evaluate, fit, score
from workbench.data.subsets import subset
from workbench.data.types import CLASSIFICATION, TAGGING, Task
from workbench.models.heads import ClassificationHead, SpanHead, TaggingHead, TaskModel
from workbench.pipelines.base import EVAL_SPLITS, Pipeline, Prepared
from workbench.pipelines.tuning import NO_SELECTION, Protocol, Recipe, chosen_index, selection_record, train_configs


def head_for(task: Task, d: int, pool: str):
    """The task kind's head over d-dimensional states (`pool` reduces a sequence for classification)."""
    if task.kind == CLASSIFICATION:
        return ClassificationHead(d, len(task.labels), pool=pool)
    if task.kind == TAGGING:
        return TaggingHead(d, len(task.labels))
    return SpanHead(d)


def compact(encoded: dict[str, list[Encoded]]) -> tuple[list[int], dict[str, list[Encoded]]]:
    """(the vocabulary ids the task's splits use, padding first; the splits with each id replaced by its
    position in that list), so that a fine-tuned model holds embedding rows for these words only.

    Exact, not an approximation: a row that no example reads gets a zero gradient in every update, so
    AdamW never moves it (its moments stay zero; weight decay alone shrinks it) and it never reaches a
    prediction; clipping's norm gains nothing from it. Dropping it changes no number and saves the
    optimizer's pass over it: SST-2 reads about 15,000 of IMDB's 60,000 words, and that pass over the
    full matrix was most of a point's time on a CPU (bench/NOTES.md, "Fine-tuning cost of one point").
    Not for a prompted model, whose LM head scores every word of the vocabulary."""
    rows = sorted({0}.union(*(item.ids for items in encoded.values() for item in items)))
    position = {row: i for i, row in enumerate(rows)}
    remapped = {
        split: [replace(item, ids=[position[i] for i in item.ids]) for item in items]
        for split, items in encoded.items()
    }
    return rows, remapped


def keep_rows(embed: nn.Embedding, rows: list[int]) -> nn.Embedding:
    """The embedding with only `rows` (pipelines.neural.compact), trainable or frozen as it was."""
    weight = embed.weight.detach()[torch.tensor(rows)].clone()
    return nn.Embedding.from_pretrained(weight, freeze=not embed.weight.requires_grad, padding_idx=embed.padding_idx)


class NeuralPipeline(Pipeline):
    recipe: Recipe  # the family's row of tuning.TUNING_GRID, set by its __init__

    @abstractmethod
    def build_model(self, prepared: Prepared) -> TaskModel:
        """A fresh model for one point (the caller seeds torch first: the init depends on the point's seed)."""

    @abstractmethod
    def train_config(self) -> TrainConfig:
        """The family's fine-tuning recipe with the `train` settings applied."""

    def point_model(self, prepared: Prepared) -> TaskModel:
        """`build_model`, its embedding cut to the rows the encoded splits index when they were compacted."""
        model = self.build_model(prepared)
        if prepared.rows is not None:
            model.embed = keep_rows(model.embed, prepared.rows)
        return model

    def untrained_inputs(self, prepared: Prepared, n: int, seed: int) -> tuple[dict, dict]:
        """For a point that `trains(n)` refuses: (encoded evaluation splits, its fit record)."""
        raise NotImplementedError(f"{self.name} trains every point")

    def group_size(self, prepared: Prepared, fuse: str, device: str) -> int:
        if fuse != "auto":
            return int(fuse)
        longest = max(len(item.ids) for item in prepared.encoded["train"])
        return choose_k(self.point_model(prepared), self.train_config(), longest, device)

    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool, protocol: Protocol) -> None:
        trained = [r for r in results if self.trains(r["n"])]
        for result in results:
            if not self.trains(result["n"]):
                _run_without_training(self, prepared, result, device)
        if trained:
            configs = train_configs(protocol, self.recipe, self.train_config())
            one_by_one = not fused or len(trained) * len(configs) == 1
            (_train_one_by_one if one_by_one else _train_fused)(self, prepared, trained, device, protocol, configs)


def _run_without_training(pipeline: NeuralPipeline, prepared: Prepared, result: dict, device: str) -> None:
    started = time.perf_counter()
    torch.manual_seed(result["seed"])
    model = pipeline.point_model(prepared)
    encoded, result["fit"] = pipeline.untrained_inputs(prepared, result["n"], result["seed"])
    _evaluate(prepared.task, encoded, model, result, device, pipeline.train_config().precision)
    result["selection"] = dict(NO_SELECTION)
    result["seconds"] = time.perf_counter() - started


def _evaluate(task: Task, encoded: dict, model, result: dict, device: str, precision: str) -> None:
    """The chosen model's metrics on test and shifted test, and how many examples each scored."""
    for split in EVAL_SPLITS:
        if split in task.splits:
            result["metrics"][split] = evaluate(model, encoded[split], task.splits[split], task, device, precision)
            result.setdefault("examples", {})[split] = len(task.splits[split])


class _Dev:
    """A point's dev: indices into the dev split, with their encoded items and examples."""

    def __init__(self, prepared: Prepared, protocol: Protocol, result: dict):
        self.indices = protocol.dev_indices(prepared.task, result["n"], result["seed"])
        self.items = [prepared.encoded["dev"][i] for i in self.indices]
        self.examples = [prepared.task.splits["dev"][i] for i in self.indices]


def _setup(pipeline: NeuralPipeline, prepared: Prepared, result: dict):
    """The point's model (seeded init: the same for every configuration) and its training items (the nested subset)."""
    torch.manual_seed(result["seed"])
    model = pipeline.point_model(prepared)
    chosen = subset(prepared.task, result["n"], result["seed"])
    return model, [prepared.encoded["train"][i] for i in chosen]


def _record(
    result: dict,
    protocol: Protocol,
    configs: list,
    fitted: list,
    dev_metrics: dict,
    dev_size: int,
    seconds: float,
    replicas: int,
) -> None:
    """The point's selection over its configurations, the chosen one's fit and dev metrics."""
    scores = [one.best_dev for one in fitted]
    chosen = chosen_index(scores)
    one, (_, train_cfg) = fitted[chosen], configs[chosen]
    result["selection"] = selection_record(protocol, dev_size, [changes for changes, _ in configs], scores, chosen)
    result["fit"] = {
        "steps": one.steps,
        "best_step": one.best_step,
        "best_dev": one.best_dev,
        "train_config": asdict(train_cfg),
        "fused_replicas": replicas,
    }
    result["metrics"]["dev"] = dev_metrics
    result.setdefault("examples", {})["dev"] = dev_size
    result["seconds"] = seconds


def _train_one_by_one(
    pipeline: NeuralPipeline, prepared: Prepared, results: list[dict], device: str, protocol: Protocol, configs: list
) -> None:
    """Each point's configurations one after another; only the best on its dev is kept and evaluated."""
    task = prepared.task
    for result in results:
        started = time.perf_counter()
        dev = _Dev(prepared, protocol, result)
        models, fitted = [], []
        for _, train_cfg in configs:
            model, train_items = _setup(pipeline, prepared, result)
            fitted.append(fit(model, train_items, dev.items, dev.examples, task, train_cfg, result["seed"], device))
            models.append(model)
        model = models[chosen_index([one.best_dev for one in fitted])]
        precision = configs[0][1].precision
        _evaluate(task, prepared.encoded, model, result, device, precision)
        dev_metrics = evaluate(model, dev.items, dev.examples, task, device, precision)
        _record(result, protocol, configs, fitted, dev_metrics, len(dev.indices), time.perf_counter() - started, 1)


def _train_fused(
    pipeline: NeuralPipeline, prepared: Prepared, results: list[dict], device: str, protocol: Protocol, configs: list
) -> None:
    """Every (point, configuration) as one replica of one fused model; then each point's best
    replica on its dev, all evaluated together."""
    task, precision = prepared.task, configs[0][1].precision
    started = time.perf_counter()
    devs = [_Dev(prepared, protocol, result) for result in results]
    trials = [(p, c) for p in range(len(results)) for c in range(len(configs))]
    models, trains = zip(*(_setup(pipeline, prepared, results[p]) for p, _ in trials))
    fitted = fit_fused(
        list(models),
        list(trains),
        [results[p]["seed"] for p, _ in trials],
        prepared.encoded["dev"],
        task.splits["dev"],
        task,
        [configs[c][1] for _, c in trials],
        device,
        dev_subsets=[devs[p].indices for p, _ in trials],
    )
    per_point = [fitted[p * len(configs) : (p + 1) * len(configs)] for p in range(len(results))]
    chosen = [
        models[p * len(configs) + chosen_index([one.best_dev for one in point])] for p, point in enumerate(per_point)
    ]
    stack = ReplicaStack(chosen, device)
    for split in EVAL_SPLITS:
        if split in task.splits:
            for result, predictions in zip(results, predict_fused(stack, prepared.encoded[split], precision)):
                result["metrics"][split] = score(task, task.splits[split], predictions)
                result.setdefault("examples", {})[split] = len(task.splits[split])
    dev_metrics = score_subsets(
        stack, prepared.encoded["dev"], task.splits["dev"], [d.indices for d in devs], task, precision
    )
    seconds = (time.perf_counter() - started) / len(results)  # the group's wall time, shared evenly
    for result, point, dev, metrics in zip(results, per_point, devs, dev_metrics):
        _record(result, protocol, configs, point, metrics, len(dev.indices), seconds, len(trials))
