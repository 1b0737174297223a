"""Pretraining speed on one CPU core for the whole-model pipelines on the IMDB corpus: tokens/s and the steps
that fit in a time budget, for `workbench pretrain`'s default small model (d=128, 2 layers, batch 32 x 64 tokens)
with IMDB's 60,000-word softmax. Random token ids stand in for the corpus (speed does not depend on them).
Times are CPU time of one thread: an idle core's wall time, however busy the machine is when measured.

WORKBENCH_THREADS=1 python bench/realtext/pretrain_speed.py [--steps 20] [--minutes 25]
"""

import argparse
import os
import time

import torch

from workbench.data.registry import DATASETS
from workbench.models.lm import LanguageModel
from workbench.pretrain.objectives import TARGETS_PER_TOKEN, flops_per_step, lm_loss
from workbench.pretrain.options import PretrainOptions

SETUPS = {"clm": ("clm", "transformer"), "mlm": ("mlm", "transformer"), "lstm-lm": ("clm", "lstm")}


def seconds_per_step(model_cfg, cfg, steps: int) -> float:
    """Mean CPU time of a training step (forward, backward, AdamW) after 3 warm-up steps. On one thread this is
    what the step takes on an idle core, also when other processes share the machine (wall time would not be)."""
    torch.manual_seed(0)
    model = LanguageModel(model_cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(0)
    for i in range(3 + steps):
        if i == 3:
            started = time.process_time()
        ids = torch.randint(5, model_cfg.vocab_size, (cfg.batch_size, cfg.seq_len), generator=generator)
        loss, _, _ = lm_loss(model, ids, generator, mask_id=2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.process_time() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=25)
    parser.add_argument("--seq-len", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("WORKBENCH_THREADS", "1")))
    vocab_size = DATASETS["imdb"].extra["vocab_size"]
    for pipeline, (objective, arch) in SETUPS.items():
        model_cfg, cfg = PretrainOptions(objective=objective, arch=arch, corpus="imdb", seq_len=args.seq_len).configs()
        model_cfg.vocab_size = vocab_size
        per_step = seconds_per_step(model_cfg, cfg, args.steps)
        tokens = cfg.batch_size * cfg.seq_len
        flops = flops_per_step(LanguageModel(model_cfg), cfg, TARGETS_PER_TOKEN[objective])
        fit = int(args.minutes * 60 / per_step)
        print(
            f"{pipeline:8} d={model_cfg.transformer.d_model} seq {cfg.seq_len} vocab {vocab_size:,}: "
            f"{per_step:.3f} s/step, {tokens / per_step:,.0f} tokens/s, {flops / per_step / 1e9:.1f} GFLOP/s; "
            f"{args.minutes:g} min = {fit:,} steps = {fit * tokens / 1e6:.2f}M tokens; "
            f"default {cfg.steps:,} steps = {cfg.steps * per_step / 60:.0f} min",
            flush=True,
        )


if __name__ == "__main__":
    main()
