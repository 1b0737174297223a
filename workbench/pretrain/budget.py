"""Steps for a time budget (`workbench pretrain --time-budget SECONDS`), by timing the run's own training step.

The cosine schedule needs the number of steps before the first one, and a run must be remade exactly from its
config, so a budget is turned into steps once, up front: a throwaway copy of the model trains on the real
corpus for a few seconds (after a warm-up that pays for CUDA's and Triton's first-call compilation), and the
steps that fit the budget at that rate, less validation's share, go into the config like any other --steps.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary
from workbench.models.lm import LMConfig
from workbench.pretrain.loop import Training, streams
from workbench.pretrain.options import PretrainConfig

WARMUP_STEPS = 5
VALIDATION_SHARE = 0.05  # validation records and checkpoints: a few percent of a run's time, measured on the CPU
ROUND_TO = 50


def synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def measured_rate(
    model_cfg: LMConfig, cfg: PretrainConfig, train: torch.Tensor, mask_id: int, device: str, seconds: float
) -> float:
    """Training steps per second of this configuration on this device, timed for about `seconds`."""
    training = Training.create(model_cfg, replace(cfg, steps=10**6), mask_id, device)
    for step in range(WARMUP_STEPS):
        training.step(train, step)
    synchronize(device)
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < seconds or steps < 2:
        training.step(train, WARMUP_STEPS + steps)
        steps += 1
    synchronize(device)
    return steps / (time.perf_counter() - started)


def steps_for_budget(rate: float, budget_seconds: float) -> int:
    """The steps that fill `budget_seconds` at `rate` steps/s, less validation's share, in multiples of 50."""
    return max(ROUND_TO, int(rate * budget_seconds * (1 - VALIDATION_SHARE)) // ROUND_TO * ROUND_TO)


def calibrated_config(
    model_cfg: LMConfig,
    cfg: PretrainConfig,
    corpus: Corpus,
    vocab: Vocabulary,
    device: str,
    budget_seconds: float,
    calibrate_seconds: float = 10.0,
) -> tuple[PretrainConfig, float]:
    """(cfg with the steps that fit the budget, the measured steps/s)."""
    model_cfg.vocab_size = len(vocab)
    train, _ = streams(corpus, vocab)
    rate = measured_rate(model_cfg, cfg, train, vocab.mask_id, device, calibrate_seconds)
    return replace(cfg, steps=steps_for_budget(rate, budget_seconds)), rate
