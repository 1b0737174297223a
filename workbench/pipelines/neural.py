"""Families that train a torch model on the labels (static vectors + encoder, a pretrained model),
and the one point runner they share: seeded model init, the nested subset, core.train.fit or
core.fused.fit_fused, evaluation on dev, test and shifted test; and points the family evaluates
without any update (zero-shot, in-context).
"""
from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import asdict

import torch

from workbench.core.fused import ReplicaStack, choose_k, fit_fused, predict_fused
from workbench.core.train import TrainConfig, evaluate, fit, score
from workbench.data.subsets import subset
from workbench.data.types import CLASSIFICATION, TAGGING, Task
from workbench.models.heads import ClassificationHead, SpanHead, TaggingHead, TaskModel
from workbench.pipelines.base import EVAL_SPLITS, Pipeline, Prepared


def head_for(task: Task, d: int, pool: str):
    """The task kind's head over d-dimensional states (`pool` reduces a sequence for classification)."""
    if task.kind == CLASSIFICATION:
        return ClassificationHead(d, len(task.labels), pool=pool)
    if task.kind == TAGGING:
        return TaggingHead(d, len(task.labels))
    return SpanHead(d)


class NeuralPipeline(Pipeline):
    @abstractmethod
    def build_model(self, prepared: Prepared) -> TaskModel:
        """A fresh model for one point (the caller seeds torch first: the init depends on the point's seed)."""

    @abstractmethod
    def train_config(self) -> TrainConfig:
        """The family's fine-tuning recipe with the `train` settings applied."""

    def untrained_inputs(self, prepared: Prepared, n: int, seed: int) -> tuple[dict, dict]:
        """For a point that `trains(n)` refuses: (encoded evaluation splits, its fit record)."""
        raise NotImplementedError(f"{self.name} trains every point")

    def group_size(self, prepared: Prepared, fuse: str, device: str) -> int:
        if fuse != "auto":
            return int(fuse)
        longest = max(len(item.ids) for item in prepared.encoded["train"])
        return choose_k(self.build_model(prepared), self.train_config(), longest, device)

    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool) -> None:
        trained = [r for r in results if self.trains(r["n"])]
        for result in results:
            if not self.trains(result["n"]):
                _run_without_training(self, prepared, result, device)
        if trained:
            (_train_fused if fused and len(trained) > 1 else _train_one_by_one)(self, prepared, trained, device)


def _run_without_training(pipeline: NeuralPipeline, prepared: Prepared, result: dict, device: str) -> None:
    started = time.perf_counter()
    torch.manual_seed(result["seed"])
    model = pipeline.build_model(prepared)
    encoded, result["fit"] = pipeline.untrained_inputs(prepared, result["n"], result["seed"])
    _evaluate_all(prepared.task, encoded, model, result, device, pipeline.train_config().precision)
    result["seconds"] = time.perf_counter() - started


def _evaluate_all(task: Task, encoded: dict, model, result: dict, device: str, precision: str) -> None:
    for split in EVAL_SPLITS + ("dev",):
        if split in task.splits:
            result["metrics"][split] = evaluate(model, encoded[split], task.splits[split], task, device, precision)


def _setup(pipeline: NeuralPipeline, prepared: Prepared, result: dict):
    """The point's model (seeded init) and its training items (the nested subset)."""
    torch.manual_seed(result["seed"])
    model = pipeline.build_model(prepared)
    chosen = subset(prepared.task, result["n"], result["seed"])
    return model, [prepared.encoded["train"][i] for i in chosen]


def _record_fit(result: dict, fitted, train_cfg: TrainConfig, seconds: float, replicas: int) -> None:
    result["fit"] = {"steps": fitted.steps, "best_step": fitted.best_step, "best_dev": fitted.best_dev,
                     "train_config": asdict(train_cfg), "fused_replicas": replicas}
    result["seconds"] = seconds


def _train_one_by_one(pipeline: NeuralPipeline, prepared: Prepared, results: list[dict], device: str) -> None:
    task, train_cfg = prepared.task, pipeline.train_config()
    for result in results:
        started = time.perf_counter()
        model, train_items = _setup(pipeline, prepared, result)
        fitted = fit(model, train_items, prepared.encoded["dev"], task.splits["dev"], task, train_cfg, result["seed"],
                     device)
        _evaluate_all(task, prepared.encoded, model, result, device, train_cfg.precision)
        _record_fit(result, fitted, train_cfg, time.perf_counter() - started, 1)


def _train_fused(pipeline: NeuralPipeline, prepared: Prepared, results: list[dict], device: str) -> None:
    task, train_cfg = prepared.task, pipeline.train_config()
    started = time.perf_counter()
    models, trains = zip(*(_setup(pipeline, prepared, result) for result in results))
    fitted = fit_fused(list(models), list(trains), [r["seed"] for r in results], prepared.encoded["dev"],
                       task.splits["dev"], task, train_cfg, device)
    stack = ReplicaStack(list(models), device)
    for split in EVAL_SPLITS + ("dev",):
        if split in task.splits:
            for result, predictions in zip(results, predict_fused(stack, prepared.encoded[split], train_cfg.precision)):
                result["metrics"][split] = score(task, task.splits[split], predictions)
    seconds = (time.perf_counter() - started) / len(results)  # the group's wall time, shared evenly
    for result, one in zip(results, fitted):
        _record_fit(result, one, train_cfg, seconds, len(results))
