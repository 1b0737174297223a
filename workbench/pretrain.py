"""Whole-model pretraining: one loop for MLM, CLM, PLM (Transformer) and the LSTM LM.

Reproducible and resumable by construction: the batch, the masks and the dropout of step s
are all drawn from generators seeded with (seed, s), so a run resumed from its last
checkpoint computes exactly what the uninterrupted run would have. Checkpoints are
safetensors (weights) plus a weights_only torch file (optimizer state); checkpoints are also
kept at log-spaced steps with the tokens and FLOPs spent so far, for the compute axis.

On several processes (`--nproc`, torchrun) the same loop runs under DDP: every rank draws the same global
batch and noise, trains on its slice, and rank 0 alone writes, so the loss curve is the one-process curve.
"""
from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from workbench.atomic import write_json
from workbench.core.batching import IGNORE
from workbench.core.kernels import cross_entropy
from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.models.objectives import clm_targets, mlm_inputs, plm_masks


@dataclass
class PretrainConfig:
    steps: int = 3000
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: int = 100
    clip_norm: float = 1.0
    seed: int = 0
    eval_every: int = 250
    eval_blocks: int = 64


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


def objective_batch(model_cfg: LMConfig, ids: torch.Tensor, generator: torch.Generator, mask_id: int) -> dict:
    """A batch's inputs, targets and masks, row-aligned, with the objective's noise (MLM corruption, PLM orders)
    drawn here for the whole batch: a rank that takes its rows afterwards sees what a one-process run sees there."""
    pad_mask = torch.ones_like(ids, dtype=torch.bool)
    if model_cfg.objective == "mlm":
        inputs, targets = mlm_inputs(ids, pad_mask, mask_id, model_cfg.vocab_size, generator)
        return {"inputs": inputs, "pad_mask": pad_mask, "targets": targets}
    if model_cfg.objective == "clm":
        return {"ids": ids, "pad_mask": pad_mask}
    content, query, predicted, _ = plm_masks(pad_mask, generator, model_cfg.plm_k)
    return {"ids": ids, "content": content, "query": query, "predicted": predicted}


def batch_loss(model: LanguageModel, batch: dict):
    """(mean loss over targets, number of targets, number predicted right) on a batch from `objective_batch`."""
    device = next(model.parameters()).device
    b = {name: tensor.to(device) for name, tensor in batch.items()}
    objective = model.cfg.objective
    if objective == "mlm":
        hidden = model.hidden(b["inputs"], b["pad_mask"])
        chosen = b["targets"] != IGNORE
        logits, gold = model.head(hidden[chosen]), b["targets"][chosen]
    elif objective == "clm":
        targets = clm_targets(b["ids"], b["pad_mask"])
        logits = model(b["ids"], b["pad_mask"])
        keep = targets != IGNORE
        logits, gold = logits[keep], targets[keep]
    else:
        hidden = model.plm_hidden(b["ids"], b["content"], b["query"])
        logits, gold = model.head(hidden[b["predicted"]]), b["ids"][b["predicted"]]
    loss = cross_entropy(logits, gold)  # a fused Triton kernel on a GPU
    return loss, gold.numel(), (logits.argmax(-1) == gold).sum().item()


def lm_loss(model: LanguageModel, ids: torch.Tensor, generator: torch.Generator, mask_id: int):
    """(mean loss over targets, number of targets, number predicted right) for the model's objective."""
    return batch_loss(model, objective_batch(model.cfg, ids, generator, mask_id))


def flops_per_step(model: LanguageModel, cfg: PretrainConfig, targets_per_token: float) -> float:
    """6 x non-embedding params x tokens, + the LM head on targets, + attention scores (Kaplan et al. 2020)."""
    tokens = cfg.batch_size * cfg.seq_len
    dense = 6 * model.n_params(non_embedding=True) * tokens
    head = 6 * model.head.in_features * model.cfg.vocab_size * tokens * targets_per_token
    attention = 0.0
    if model.cfg.arch == "transformer":
        t = model.cfg.transformer
        attention = 6 * t.n_layers * cfg.seq_len * t.d_model * tokens * (2 if model.cfg.objective == "plm" else 1)
    return dense + head + attention


TARGETS_PER_TOKEN = {"mlm": 0.15, "clm": 1.0, "plm": 0.25}


def unigram_cross_entropy(train: torch.Tensor, valid: torch.Tensor, vocab_size: int) -> float:
    """Nats per token of an add-one unigram model: the bar a language model must go below."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    log_p = (counts / counts.sum()).log()
    return float(-log_p[valid].mean())


@torch.no_grad()
def validate(model: LanguageModel, valid: torch.Tensor, cfg: PretrainConfig, mask_id: int) -> dict:
    """Loss, perplexity (CLM) and accuracy on fixed validation blocks with fixed masks."""
    model.eval()
    generator = torch.Generator().manual_seed(12345)
    n_blocks = min(cfg.eval_blocks, len(valid) // cfg.seq_len)
    blocks = valid[: n_blocks * cfg.seq_len].view(n_blocks, cfg.seq_len)
    total_loss = total_targets = total_correct = 0.0
    for i in range(0, n_blocks, cfg.batch_size):
        loss, n, correct = lm_loss(model, blocks[i:i + cfg.batch_size], generator, mask_id)
        total_loss += loss.item() * n
        total_targets += n
        total_correct += correct
    model.train()
    loss = total_loss / max(1, total_targets)
    result = {"val_loss": loss, "val_accuracy": total_correct / max(1, total_targets)}
    if model.cfg.objective == "clm":
        result["val_perplexity"] = math.exp(loss)
    return result


def log_spaced_steps(total: int, first: int = 32) -> list[int]:
    steps, s = [], first
    while s < total:
        steps.append(s)
        s *= 2
    return steps + [total]


def _atomic_save(tensors: dict, path: Path, metadata: dict | None = None) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
        pass
    save_file({k: v.contiguous() for k, v in tensors.items()}, tmp.name, metadata=metadata)
    os.replace(tmp.name, path)


def model_tensors(model: LanguageModel) -> dict:
    state = model.state_dict()
    if model.cfg.tie_embeddings:
        state.pop("head.weight", None)
    return state


def load_model(folder, expected_vocab: Vocabulary | None = None, checkpoint: str = "model.safetensors"):
    """(model, vocabulary, meta) from a pretraining folder; one-line errors for mismatches and damage."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise WorkbenchError(f"{folder}: not a pretrained model folder (no config.json); run `workbench pretrain --out {folder}`")
    meta = json.loads(config_path.read_text())
    vocab = Vocabulary.load(folder / "vocab.json")
    if vocab.fingerprint() != meta["vocab_fingerprint"]:
        raise WorkbenchError(f"{folder}/vocab.json does not match the vocabulary the model was trained with")
    if expected_vocab is not None and expected_vocab.fingerprint() != vocab.fingerprint():
        raise WorkbenchError(
            f"{folder}: pretrained on another vocabulary (corpus {meta['corpus']!r}); pretrain on this task's corpus or pass --corpus {meta['corpus']}"
        )
    model = LanguageModel(LMConfig.from_dict(meta["model"]))
    path = folder / checkpoint
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise WorkbenchError(f"{path}: missing; the pretraining has not finished (rerun the same `workbench pretrain` to resume)") from None
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise WorkbenchError(f"{path}: damaged or truncated checkpoint ({exc}); delete it and rerun `workbench pretrain`") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not (model.cfg.tie_embeddings and m == "head.weight")]
    if missing or unexpected:
        raise WorkbenchError(f"{path}: checkpoint does not fit the config in config.json (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model, vocab, meta


def run_description(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, vocab: Vocabulary) -> dict:
    """What config.json must hold for a rerun to resume (or return) the run rather than refuse the folder."""
    return {"model": model_cfg.to_dict(), "pretrain": asdict(cfg), "corpus": corpus_name,
            "vocab_fingerprint": vocab.fingerprint()}


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes): (0, 1) outside a torch.distributed group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_world(batch_size: int, world: int) -> None:
    """Every rank takes an equal share of each global batch, so the batch must split evenly."""
    if batch_size % world:
        raise WorkbenchError(f"--batch-size {batch_size} does not split over {world} processes (--nproc or torchrun's "
                             f"--nproc-per-node); pick a batch size divisible by the process count")


def shard(batch: dict, rank: int, world: int) -> dict:
    """Rank r's contiguous slice of every row-aligned tensor of a global batch."""
    return {name: tensor.chunk(world)[rank] for name, tensor in batch.items()}


def global_mean(loss: torch.Tensor, n_targets: int, world: int) -> tuple[float, float]:
    """(weight for this rank's mean loss, mean loss over the global batch's targets).

    DDP averages gradients over ranks. That equals the one-process gradient of the global mean only if rank
    r's loss is weighted by n_r * world / sum(n): ranks hold different numbers of targets (MLM chooses 15% at
    random, PLM a share of each order), and a plain average of per-rank means would weight ranks equally.
    A rank with no targets has a NaN mean and weight 0; its gradients are zero, and its sum counts as 0.
    """
    if world == 1:
        return 1.0, loss.item()
    totals = torch.tensor([float(n_targets), loss.item() * n_targets if n_targets else 0.0],
                          dtype=torch.float64, device=loss.device)
    dist.all_reduce(totals)
    count, summed = totals.tolist()
    return n_targets * world / count, summed / count


def barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


class ObjectiveLoss(torch.nn.Module):
    """The objective's loss as one forward pass: DDP hooks `forward`, and the objectives call other methods
    (hidden, plm_hidden, head) of the language model."""

    def __init__(self, model: LanguageModel):
        super().__init__()
        self.model = model

    def forward(self, batch: dict):
        return batch_loss(self.model, batch)


def pretrain(model_cfg: LMConfig, cfg: PretrainConfig, corpus: Corpus, corpus_name: str, vocab: Vocabulary, out,
             device: str = "cpu", progress: bool = True) -> dict:
    """Train (or resume) into `out`; returns the final metrics. Writes model.safetensors when done.

    Inside a torch.distributed group (`process_group`) every rank calls this with the same arguments: all draw
    the same global batch and noise from the step's generator, each trains on its shard under DDP, and rank 0
    alone validates and writes the folder while the others wait at a barrier.
    """
    from tqdm import tqdm

    rank, world = rank_and_world()
    check_world(cfg.batch_size, world)
    out = Path(out)
    model_cfg.vocab_size = len(vocab)
    description = run_description(model_cfg, cfg, corpus_name, vocab)
    config_path = out / "config.json"
    finished = finished_result(out, description)
    if finished is not None:
        return finished
    barrier(world)  # every rank has looked at the folder before rank 0 writes to it
    if rank == 0:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        vocab.save(out / "vocab.json")
    torch.manual_seed(cfg.seed)
    model = LanguageModel(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / cfg.warmup,
                                                                          0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps)))))
    step, elapsed = 0, 0.0
    state_path = out / "last.state.pt"
    if state_path.exists() and (out / "last.safetensors").exists():
        model.load_state_dict(load_file(str(out / "last.safetensors"), device=str(device)), strict=False)
        state = torch.load(state_path, weights_only=True, map_location=device)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, elapsed = int(state["step"]), float(state["seconds"])
    loss_fn = ObjectiveLoss(model)
    if world > 1:  # DDP's constructor is a collective, so no rank writes the checkpoint before all have read it
        loss_fn = torch.nn.parallel.DistributedDataParallel(loss_fn, device_ids=[torch.device(device)] if device.startswith("cuda") else None)
    train = token_stream(corpus.documents, vocab)
    valid = token_stream(corpus.valid or corpus.documents[-50:], vocab)
    flops_step = flops_per_step(model, cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    tokens_step = cfg.batch_size * cfg.seq_len
    if rank == 0:
        write_json(config_path, {**description, "n_params": model.n_params(False), "n_params_non_embedding": model.n_params(True),
                                 "flops_per_step": flops_step, "tokens_per_step": tokens_step,
                                 "unigram_val_loss": unigram_cross_entropy(train, valid, len(vocab))})
    keep = set(log_spaced_steps(cfg.steps))
    log_path = out / "log.jsonl"
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress or rank > 0, desc=f"pretrain {model_cfg.objective}", unit="step")
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
                save_checkpoint(model, optimizer, schedule, out, record, step in keep)
                if progress:
                    bar.write(f"step {step}: train {record['train_loss']:.3f}  val {record['val_loss']:.3f}  "
                              f"acc {record['val_accuracy']:.3f}")
            running = []
            barrier(world)
    bar.close()
    final = _last_record(log_path)
    if rank == 0:
        _atomic_save(model_tensors(model), out / "model.safetensors")
        write_json(out / "final.json", final)
        write_provenance(out, device, processes=world)
    barrier(world)
    return final


def finished_result(out: Path, description: dict) -> dict | None:
    """The final metrics if `out` holds this finished run, None if it holds none or this one unfinished;
    an error if it holds another config."""
    config_path = out / "config.json"
    if not config_path.exists():
        return None
    existing = json.loads(config_path.read_text())
    if {k: existing.get(k) for k in description} != description:
        raise WorkbenchError(f"{out} holds a pretraining run with another config; choose another --out or delete the folder")
    if (out / "model.safetensors").exists():
        return json.loads((out / "final.json").read_text())
    return None


def save_checkpoint(model: LanguageModel, optimizer, schedule, out: Path, record: dict, keep: bool) -> None:
    """last.safetensors + last.state.pt (what a resume loads), a kept copy at log-spaced steps, then the log line:
    the log names only checkpoints that are already on disk."""
    step = record["step"]
    if keep:
        _atomic_save(model_tensors(model), out / "checkpoints" / f"step_{step:07d}.safetensors")
        record["checkpoint"] = f"checkpoints/step_{step:07d}.safetensors"
    _atomic_save(model_tensors(model), out / "last.safetensors")
    with tempfile.NamedTemporaryFile(dir=out, delete=False, suffix=".tmp") as tmp:
        torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "step": step,
                    "seconds": record["seconds"]}, tmp)
    os.replace(tmp.name, out / "last.state.pt")
    with open(out / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def write_provenance(folder, device: str, processes: int = 1) -> dict:
    """Who made model.safetensors and how: versions, hardware, processes, seed, compute, and its sha256 (checked by
    tests for the shipped checkpoint). Processes matter: a DDP run equals a one-process run to float rounding only."""
    from workbench.data.registry import sha256_of
    from workbench.runs import environment

    folder = Path(folder)
    meta = json.loads((folder / "config.json").read_text())
    final = json.loads((folder / "final.json").read_text())
    record = {"sha256": sha256_of(folder / "model.safetensors"), "corpus": meta["corpus"],
              "seed": meta["pretrain"]["seed"], "objective": meta["model"]["objective"], "arch": meta["model"]["arch"],
              "steps": final["step"], "tokens": final["tokens"], "flops": final["flops"], "seconds": final["seconds"],
              "val_loss": final["val_loss"], "unigram_val_loss": meta["unigram_val_loss"], "processes": processes,
              "environment": environment(device)}
    write_json(folder / "provenance.json", record)
    return record


def _last_record(log_path: Path) -> dict:
    """The last complete line of the log: a resumed run may have repeated a step after a crash."""
    records = {}
    for line in log_path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        records[record["step"]] = record
    return records[max(records)]


# Sized by measurement (bench/NOTES.md): on the micro-world a d=128 CLM leaves the unigram plateau
# after a few million tokens and uses polarity between 4M and 8M, but reads negation only by ~38M
# (18,500 steps: zero-shot 1.00 on every phenomenon; 12M tokens gave .44 on negated sentences).
DEFAULT_STEPS = {"microworld": 18500}


def default_steps(corpus_name: str) -> int:
    return DEFAULT_STEPS.get(corpus_name, 3000)


def pretrain_cached(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, out: Path | None = None,
                    device: str = "cpu", progress: bool = True, vocab: Vocabulary | None = None,
                    nproc: int = 1) -> tuple[Path, dict]:
    """Pretrain into `out`, or into the artifact cache keyed by (corpus, vocabulary, config), in `nproc` local
    processes (DDP; the config's batch is the global batch, so the cache key does not depend on nproc)."""
    from workbench.artifacts import artifact_dir
    from workbench.data.tasks import resolve_corpus
    from workbench.pipelines.run import build_vocab

    check_world(cfg.batch_size, nproc)
    corpus = resolve_corpus(corpus_name)
    vocab = vocab or build_vocab(corpus_name)
    model_cfg.vocab_size = len(vocab)
    if out is None:
        out = artifact_dir("backbone", {"model": model_cfg.to_dict(), "pretrain": asdict(cfg), "corpus": corpus_name,
                                        "vocab": vocab.fingerprint()})
    if nproc == 1:
        return Path(out), pretrain_in_group(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress)
    if finished_result(Path(out), run_description(model_cfg, cfg, corpus_name, vocab)) is None:  # else nothing to start
        vocab.save(Path(out) / "vocab.json")  # the workers read it there: see `launch` on small arguments
        launch(nproc, pretrain_worker, (model_cfg, cfg, corpus_name, out, device, progress))
    return Path(out), json.loads((Path(out) / "final.json").read_text())


def pretrain_worker(model_cfg, cfg, corpus_name: str, out, device: str, progress: bool) -> None:
    """One rank started by `launch`: it reads the corpus (by name) and the vocabulary (out/vocab.json) itself."""
    from workbench.data.tasks import resolve_corpus

    vocab = Vocabulary.load(Path(out) / "vocab.json")
    pretrain_in_group(model_cfg, cfg, resolve_corpus(corpus_name), corpus_name, vocab, out, device, progress)


def pretrain_in_group(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress) -> dict:
    """`pretrain` inside the process group the environment describes (torchrun, `launch`), if any."""
    with process_group(device) as rank_device:
        return pretrain(model_cfg, cfg, corpus, corpus_name, vocab, out, rank_device, progress)


@contextmanager
def process_group(device: str):
    """Join the group that torchrun or `launch` describe in the environment (WORLD_SIZE, RANK, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT) and yield this rank's device: NCCL and cuda:LOCAL_RANK on GPUs, gloo on the CPU.
    Without that environment (or already in a group) it yields `device` unchanged."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 or dist.is_initialized():
        yield device
        return
    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise WorkbenchError(f"LOCAL_RANK {local}: only {torch.cuda.device_count()} GPUs are visible; start at most one process per GPU")
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    try:
        yield device
    finally:
        dist.destroy_process_group()


def launch(nproc: int, fn, args: tuple) -> None:
    """Run fn(*args) in `nproc` local processes with the environment torchrun would give them, each with this
    process's torch thread count; a worker's WorkbenchError comes back here as one.

    Keep `args` small (names, configs; not a corpus): spawn writes them into a pipe that a worker which dies
    while starting never reads, and past the pipe's 64 KiB that write blocks this process for good."""
    import torch.multiprocessing as mp
    from torch.multiprocessing.spawn import ProcessException

    errors = mp.get_context("spawn").SimpleQueue()
    spawn_log = logging.getLogger("torch.multiprocessing.spawn")
    level = spawn_log.level
    spawn_log.setLevel(logging.ERROR)  # "Terminating process N" for the ranks left waiting: noise beside the cause
    try:
        mp.spawn(_worker, args=(nproc, _free_port(), torch.get_num_threads(), errors, fn, args), nprocs=nproc)
    except ProcessException:
        if not errors.empty():
            raise WorkbenchError(errors.get()) from None
        raise
    finally:
        spawn_log.setLevel(level)


def _worker(rank: int, nproc: int, port: int, threads: int, errors, fn, args: tuple) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(nproc))
    torch.set_num_threads(threads)
    try:
        fn(*args)
    except WorkbenchError as exc:
        errors.put(str(exc))
        raise SystemExit(2) from None


def _free_port() -> int:
    """A TCP port free now on 127.0.0.1 for the group's rendezvous (the OS picks it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
