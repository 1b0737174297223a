"""Train one task model on a labeled subset, select it on dev, evaluate it. One loop for every pipeline.

Training length adapts to n: at least `min_steps` updates (a 16-example subset still gets
trained, and early stopping cannot end it before then: small subsets sit on a plateau first),
at most `max_steps`; dev is scored every epoch (at most `max_evals` times) and the best dev
state is restored at the end (early stopping with `patience` evaluations).
"""

from __future__ import annotations

import copy
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import torch

from workbench import metrics
from workbench.core.batching import Encoded, batches, eval_batches
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Example, Task


@dataclass
class TrainConfig:
    lr: float = 2e-3
    weight_decay: float = 0.0
    batch_size: int = 32
    max_epochs: int = 10
    min_steps: int = 120
    max_steps: int = 1000
    max_evals: int = 6
    patience: int = 3
    clip_norm: float = 1.0
    warmup_frac: float = 0.05
    layer_decay: float = 1.0
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, float32 on CPU), "bf16" or "fp32"


@dataclass
class FitResult:
    steps: int
    best_step: int
    best_dev: float
    seconds: float
    history: list = field(default_factory=list)  # (step, mean train loss since last eval, dev score)

    def as_dict(self) -> dict:
        return asdict(self)


def plan_steps(n: int, cfg: TrainConfig) -> tuple[int, int]:
    """(total steps, evaluate every) for a subset of n examples: dev is scored every epoch, but
    at most `max_evals` times (for a small subset, scoring dev would cost more than training)."""
    per_epoch = math.ceil(n / cfg.batch_size)
    total = min(max(cfg.max_epochs * per_epoch, cfg.min_steps), cfg.max_steps)
    return total, max(per_epoch, math.ceil(total / cfg.max_evals))


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warmup over `warmup` updates, then linear decay to 0 at `total` (update `step`, 0-based)."""
    return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))


def autocast(device, precision: str = "auto"):
    """bf16 autocast on CUDA (unless precision is fp32); a no-op context on CPU unless bf16 is asked for."""
    device_type = torch.device(device).type
    enabled = precision == "bf16" or (precision == "auto" and device_type == "cuda")
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=enabled)


PERFECT = 1.0  # every primary metric (accuracy, F1, exact match) is at most 1


def done_training(step: int, total: int, best_dev: float, since_best: int, cfg: TrainConfig) -> bool:
    """The stopping rule of every run, fused or not: the planned steps are done, or dev has stopped
    improving (after `min_steps`), or dev is perfect. A dev score of 1.0 can never be replaced (only
    a strictly better one is), so the selected model is then final and training on would only cost."""
    return step >= total or best_dev >= PERFECT or (since_best >= cfg.patience and step >= cfg.min_steps)


def fit(
    model,
    train: list[Encoded],
    dev: list[Encoded],
    dev_examples: list[Example],
    task: Task,
    cfg: TrainConfig,
    seed: int,
    device: str = "cpu",
) -> FitResult:
    """AdamW with warmup + linear decay, per-step gradient clipping, early stopping on dev."""
    started = time.perf_counter()
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    # fused: one kernel per parameter for the whole update (CPU and CUDA); on a CPU the default
    # per-tensor loop took a quarter of a BiLSTM point's time, the fused step a tenth of that (bench/NOTES.md)
    optimizer = torch.optim.AdamW(
        model.parameter_groups(cfg.lr, cfg.layer_decay), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True
    )
    total, eval_every = plan_steps(len(train), cfg)
    warmup = max(1, int(cfg.warmup_frac * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, warmup))
    generator = torch.Generator().manual_seed(seed)
    primary = metrics.PRIMARY_METRIC[task.kind]
    # the starting point is a candidate too: a prompted pretrained model may already beat what
    # a few labels can teach it, and selection on dev should be free to keep it
    best_dev = evaluate(model, dev, dev_examples, task, device, cfg.precision)[primary]
    best_step, best_state, since_best = 0, copy.deepcopy(model.state_dict()), 0
    history, step, running = [(0, float("nan"), best_dev)], 0, []
    while not done_training(step, total, best_dev, since_best, cfg):
        for batch in batches(train, cfg.batch_size, generator):
            model.train()
            batch = batch.to(device)
            with autocast(device, cfg.precision):
                loss = model.head.loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_norm:
                torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm)
            optimizer.step()
            schedule.step()
            running.append(loss.item())
            step += 1
            if step % eval_every == 0 or step == total:
                score = evaluate(model, dev, dev_examples, task, device, cfg.precision)[primary]
                history.append((step, sum(running) / len(running), score))
                running = []
                if score > best_dev:
                    best_dev, best_step, since_best = score, step, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    since_best += 1
            if done_training(step, total, best_dev, since_best, cfg):
                break
    model.load_state_dict(best_state)
    return FitResult(step, best_step, best_dev, time.perf_counter() - started, history)


@torch.no_grad()
def predict(model, items: list[Encoded], device: str = "cpu", batch_size: int = 128, precision: str = "auto") -> list:
    model.eval()
    out = [None] * len(items)
    for positions, batch in eval_batches(items, batch_size):
        batch = batch.to(device)
        with autocast(device, precision):
            logits = model(batch)
        for position, prediction in zip(positions, model.head.predict(logits.float(), batch)):
            out[position] = prediction
    return out


def score(task: Task, examples: list[Example], predictions: list) -> dict[str, float]:
    """The task's metrics for predictions in index form (class ids, tag ids, passage spans)."""
    if task.kind == CLASSIFICATION:
        gold = [ex.label for ex in examples]
        pred = [task.labels[p] for p in predictions]
        result = {"accuracy": metrics.accuracy(gold, pred), "macro_f1": metrics.macro_f1(gold, pred)}
        by_phenomenon = defaultdict(list)
        for ex, p in zip(examples, pred):
            if ex.phenomenon:
                by_phenomenon[ex.phenomenon].append(ex.label == p)
        for name, hits in sorted(by_phenomenon.items()):
            result[f"accuracy[{name}]"] = sum(hits) / len(hits)
        return result
    if task.kind == TAGGING:
        gold = [list(ex.tags) for ex in examples]
        pred = []
        for ex, p in zip(examples, predictions):
            tags = [task.labels[i] for i in p]
            pred.append(tags + [task.labels[0]] * (len(ex.tags) - len(tags)))  # tokens past max_len
        result = {"token_accuracy": metrics.token_accuracy(gold, pred)}
        if metrics.is_bio(task.labels):
            result["span_f1"] = metrics.span_f1(gold, pred)
        return result
    if task.kind == SPAN:
        return metrics.qa_scores([ex.span for ex in examples], predictions, [ex.tokens for ex in examples])
    raise ValueError(task.kind)


def evaluate(
    model, items: list[Encoded], examples: list[Example], task: Task, device: str = "cpu", precision: str = "auto"
) -> dict[str, float]:
    return score(task, examples, predict(model, items, device, precision=precision))
