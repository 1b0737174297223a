"""The pretraining loop: one loop for MLM, CLM, PLM (Transformer) and the LSTM LM, on one process or under DDP.

Reproducible and resumable by construction: the batch, the masks and the dropout of step s are all drawn from
generators seeded with (seed, s), so a run resumed from its last checkpoint computes exactly what the
uninterrupted run would have. On several processes every rank draws the same global batch and noise, trains
on its slice, and rank 0 alone writes, so the loss curve is the one-process curve.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pretrain import folder
from workbench.pretrain.distributed import barrier, check_world, global_mean, process_group, rank_and_world, shard
from workbench.pretrain.objectives import (
    TARGETS_PER_TOKEN,
    ObjectiveLoss,
    flops_per_step,
    objective_batch,
    precision,
    unigram_cross_entropy,
    validate,
)
from workbench.pretrain.options import PretrainConfig


def token_stream(documents, vocab: Vocabulary) -> torch.Tensor:
    """[cls] doc [sep] [cls] doc [sep] ... as one long id tensor."""
    ids = []
    for doc in documents:
        ids.append(vocab.cls_id)
        ids.extend(vocab.encode(doc))
        ids.append(vocab.sep_id)
    return torch.tensor(ids, dtype=torch.long)


def sample_blocks(stream: torch.Tensor, batch_size: int, seq_len: int, generator: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, len(stream) - seq_len, (batch_size,), generator=generator)
    return torch.stack([stream[s : s + seq_len] for s in starts.tolist()])


def log_spaced_steps(total: int, first: int = 32) -> list[int]:
    steps, s = [], first
    while s < total:
        steps.append(s)
        s *= 2
    return steps + [total]


HELD_OUT_DOCUMENTS = 50  # a corpus without a validation split is validated on its last documents, never trained on
_STREAMS: dict = {}  # the last corpus `streams` encoded: key, corpus (kept alive: its id stays its own), streams


def streams(corpus: Corpus, vocab: Vocabulary) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) token streams. Remembers the last corpus it encoded: a run calibrated to a time budget
    encodes the corpus (20M tokens for IMDB) once, not twice."""
    key = (id(corpus), vocab.fingerprint())
    if _STREAMS.get("key") != key:
        documents, valid = corpus.documents, corpus.valid
        if not valid:
            documents, valid = documents[:-HELD_OUT_DOCUMENTS], documents[-HELD_OUT_DOCUMENTS:]
        _STREAMS.update(key=key, corpus=corpus, value=(token_stream(documents, vocab), token_stream(valid, vocab)))
    return _STREAMS["value"]


@dataclass
class Training:
    """A model with its optimizer and schedule, and the one training step that `pretrain` repeats and that a
    time-budget calibration times."""

    model: LanguageModel
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    loss_fn: torch.nn.Module
    cfg: PretrainConfig
    mask_id: int
    rank: int = 0
    world: int = 1

    @classmethod
    def create(cls, model_cfg: LMConfig, cfg: PretrainConfig, mask_id: int, device: str) -> Training:
        torch.manual_seed(cfg.seed)
        model = LanguageModel(model_cfg).to(device)
        # fused: one kernel per parameter for the update, as in `core.train.fit` (less host work per step
        # for a small, launch-bound model on a GPU; a tenth of the per-tensor loop's time on a CPU)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98), fused=True
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min((s + 1) / cfg.warmup, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps)))),
        )
        rank, world = rank_and_world()
        return cls(model, optimizer, schedule, ObjectiveLoss(model), cfg, mask_id, rank, world)

    def step(self, train: torch.Tensor, step: int) -> float:
        """Update `step` (0-based): its batch, masks and dropout drawn from generators seeded with (seed, step).
        Returns the loss over the global batch."""
        cfg = self.cfg
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        ids = sample_blocks(train, cfg.batch_size, cfg.seq_len, generator)
        batch = shard(objective_batch(self.model.cfg, ids, generator, self.mask_id), self.rank, self.world)
        loss, n_targets, _ = self.loss_fn(batch)
        weight, step_loss = global_mean(loss, n_targets, self.world)
        self.optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_norm)
        self.optimizer.step()
        self.schedule.step()
        return step_loss


def pretrain(
    model_cfg: LMConfig,
    cfg: PretrainConfig,
    corpus: Corpus,
    corpus_name: str,
    vocab: Vocabulary,
    out,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train (or resume) into `out`; returns the final metrics. Writes model.safetensors when done.

    Inside a torch.distributed group (`process_group`) every rank calls this with the same arguments: all draw
    the same global batch and noise from the step's generator, each trains on its shard under DDP, and rank 0
    alone validates and writes the folder while the others wait at a barrier. On CUDA the forward passes run
    under bf16 autocast (`objectives.batch_loss`), on the CPU in float32.
    """
    rank, world = rank_and_world()
    check_world(cfg.batch_size, world)
    out = Path(out)
    model_cfg.vocab_size = len(vocab)
    description = folder.run_description(model_cfg, cfg, corpus_name, vocab)
    finished = folder.finished_result(out, description)
    if finished is not None:
        return finished
    barrier(world)  # every rank has looked at the folder before rank 0 writes to it
    if rank == 0:
        folder.create(out, vocab)
    training = Training.create(model_cfg, cfg, vocab.mask_id, device)
    model = training.model
    step, elapsed = folder.resume(out, model, training.optimizer, training.schedule, device)
    if world > 1:  # DDP's constructor is a collective, so no rank writes the checkpoint before all have read it
        training.loss_fn = torch.nn.parallel.DistributedDataParallel(
            training.loss_fn, device_ids=[torch.device(device)] if device.startswith("cuda") else None
        )
    train, valid = streams(corpus, vocab)
    flops_step = flops_per_step(model, cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    tokens_step = cfg.batch_size * cfg.seq_len
    if rank == 0:
        folder.write_config(
            out,
            {
                **description,
                "n_params": model.n_params(False),
                "n_params_non_embedding": model.n_params(True),
                "flops_per_step": flops_step,
                "tokens_per_step": tokens_step,
                "precision": precision(device),
                "unigram_val_loss": unigram_cross_entropy(train, valid, len(vocab)),
            },
        )
    keep = set(log_spaced_steps(cfg.steps))
    bar = tqdm(
        total=cfg.steps,
        initial=step,
        disable=not progress or rank > 0,
        desc=f"pretrain {model_cfg.objective}",
        unit="step",
    )
    model.train()
    running, started = [], time.perf_counter() - elapsed
    while step < cfg.steps:
        step_loss = training.step(train, step)
        step += 1
        running.append(step_loss)
        seconds = time.perf_counter() - started
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.3f}", tok_s=f"{step * tokens_step / max(seconds, 1e-9):,.0f}")
        if step % cfg.eval_every == 0 or step in keep:
            if rank == 0:
                record = {
                    "step": step,
                    "tokens": step * tokens_step,
                    "flops": step * flops_step,
                    "seconds": seconds,
                    "train_loss": sum(running) / len(running),
                    **validate(model, valid, cfg, vocab.mask_id),
                }
                folder.save_checkpoint(model, training.optimizer, training.schedule, out, record, step in keep)
                if progress:
                    bar.write(
                        f"step {step}: train {record['train_loss']:.3f}  val {record['val_loss']:.3f}  "
                        f"acc {record['val_accuracy']:.3f}"
                    )
            running = []
            barrier(world)
    bar.close()
    final = folder.read_log(out)[-1]
    if rank == 0:
        folder.finish(out, model, final, device, processes=world)
    barrier(world)
    return final


def pretrain_in_group(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress) -> dict:
    """`pretrain` inside the process group the environment describes (torchrun, `launch`), if any."""
    with process_group(device) as rank_device:
        return pretrain(model_cfg, cfg, corpus, corpus_name, vocab, out, rank_device, progress)
