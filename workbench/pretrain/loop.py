"""The pretraining loop: one loop for MLM, CLM, PLM (Transformer) and the LSTM LM, on one process or under DDP.

Reproducible and resumable by construction: the batch, the masks and the dropout of step s are all drawn from
generators seeded with (seed, s), so a run resumed from its last checkpoint computes exactly what the
uninterrupted run would have. On several processes every rank draws the same global batch and noise, trains
on its slice, and rank 0 alone writes, so the loss curve is the one-process curve.
"""
from __future__ import annotations

import math
import time
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
    return torch.stack([stream[s:s + seq_len] for s in starts.tolist()])


def log_spaced_steps(total: int, first: int = 32) -> list[int]:
    steps, s = [], first
    while s < total:
        steps.append(s)
        s *= 2
    return steps + [total]


def pretrain(model_cfg: LMConfig, cfg: PretrainConfig, corpus: Corpus, corpus_name: str, vocab: Vocabulary, out,
             device: str = "cpu", progress: bool = True) -> dict:
    """Train (or resume) into `out`; returns the final metrics. Writes model.safetensors when done.

    Inside a torch.distributed group (`process_group`) every rank calls this with the same arguments: all draw
    the same global batch and noise from the step's generator, each trains on its shard under DDP, and rank 0
    alone validates and writes the folder while the others wait at a barrier.
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
    torch.manual_seed(cfg.seed)
    model = LanguageModel(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + 1) / cfg.warmup, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps)))))
    step, elapsed = folder.resume(out, model, optimizer, schedule, device)
    loss_fn = ObjectiveLoss(model)
    if world > 1:  # DDP's constructor is a collective, so no rank writes the checkpoint before all have read it
        loss_fn = torch.nn.parallel.DistributedDataParallel(
            loss_fn, device_ids=[torch.device(device)] if device.startswith("cuda") else None)
    train = token_stream(corpus.documents, vocab)
    valid = token_stream(corpus.valid or corpus.documents[-50:], vocab)
    flops_step = flops_per_step(model, cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    tokens_step = cfg.batch_size * cfg.seq_len
    if rank == 0:
        folder.write_config(out, {**description, "n_params": model.n_params(False),
                                  "n_params_non_embedding": model.n_params(True), "flops_per_step": flops_step,
                                  "tokens_per_step": tokens_step,
                                  "unigram_val_loss": unigram_cross_entropy(train, valid, len(vocab))})
    keep = set(log_spaced_steps(cfg.steps))
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress or rank > 0, desc=f"pretrain {model_cfg.objective}",
               unit="step")
    model.train()
    running, started = [], time.perf_counter() - elapsed
    while step < cfg.steps:
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        ids = sample_blocks(train, cfg.batch_size, cfg.seq_len, generator)
        batch = shard(objective_batch(model_cfg, ids, generator, vocab.mask_id), rank, world)
        loss, n_targets, _ = loss_fn(batch)
        weight, step_loss = global_mean(loss, n_targets, world)
        optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
        optimizer.step()
        schedule.step()
        step += 1
        running.append(step_loss)
        seconds = time.perf_counter() - started
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.3f}", tok_s=f"{step * tokens_step / max(seconds, 1e-9):,.0f}")
        if step % cfg.eval_every == 0 or step in keep:
            if rank == 0:
                record = {"step": step, "tokens": step * tokens_step, "flops": step * flops_step, "seconds": seconds,
                          "train_loss": sum(running) / len(running), **validate(model, valid, cfg, vocab.mask_id)}
                folder.save_checkpoint(model, optimizer, schedule, out, record, step in keep)
                if progress:
                    bar.write(f"step {step}: train {record['train_loss']:.3f}  val {record['val_loss']:.3f}  "
                              f"acc {record['val_accuracy']:.3f}")
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
