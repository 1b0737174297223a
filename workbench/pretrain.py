"""Whole-model pretraining: one loop for MLM, CLM, PLM (Transformer) and the LSTM LM.

Reproducible and resumable by construction: the batch, the masks and the dropout of step s
are all drawn from generators seeded with (seed, s), so a run resumed from its last
checkpoint computes exactly what the uninterrupted run would have. Checkpoints are
safetensors (weights) plus a weights_only torch file (optimizer state); checkpoints are also
kept at log-spaced steps with the tokens and FLOPs spent so far, for the compute axis.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from workbench.core.batching import IGNORE
from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.models.objectives import clm_targets, mlm_inputs, plm_masks
from workbench.runs import write_json


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


def lm_loss(model: LanguageModel, ids: torch.Tensor, generator: torch.Generator, mask_id: int):
    """(mean loss over targets, number of targets, number predicted right) for the model's objective."""
    pad_mask = torch.ones_like(ids, dtype=torch.bool)
    objective = model.cfg.objective
    device = next(model.parameters()).device
    if objective == "mlm":
        inputs, targets = mlm_inputs(ids, pad_mask, mask_id, model.cfg.vocab_size, generator)
        hidden = model.hidden(inputs.to(device), pad_mask.to(device))
        chosen = (targets != IGNORE).to(device)
        logits, gold = model.head(hidden[chosen]), targets.to(device)[chosen]
    elif objective == "clm":
        targets = clm_targets(ids, pad_mask).to(device)
        logits = model(ids.to(device), pad_mask.to(device))
        keep = targets != IGNORE
        logits, gold = logits[keep], targets[keep]
    else:
        content, query, predicted, _ = plm_masks(pad_mask, generator, model.cfg.plm_k)
        hidden = model.plm_hidden(ids.to(device), content.to(device), query.to(device))
        predicted = predicted.to(device)
        logits, gold = model.head(hidden[predicted]), ids.to(device)[predicted]
    loss = F.cross_entropy(logits, gold)
    return loss, gold.numel(), (logits.argmax(-1) == gold).sum().item()


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


def pretrain(model_cfg: LMConfig, cfg: PretrainConfig, corpus: Corpus, corpus_name: str, vocab: Vocabulary, out,
             device: str = "cpu", progress: bool = True) -> dict:
    """Train (or resume) into `out`; returns the final metrics. Writes model.safetensors when done."""
    from tqdm import tqdm

    out = Path(out)
    model_cfg.vocab_size = len(vocab)
    description = {"model": model_cfg.to_dict(), "pretrain": asdict(cfg), "corpus": corpus_name,
                   "vocab_fingerprint": vocab.fingerprint()}
    config_path = out / "config.json"
    if config_path.exists():
        existing = json.loads(config_path.read_text())
        if {k: existing.get(k) for k in description} != description:
            raise WorkbenchError(f"{out} holds a pretraining run with another config; choose another --out or delete the folder")
        if (out / "model.safetensors").exists():
            return json.loads((out / "final.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    (out / "checkpoints").mkdir(exist_ok=True)
    vocab.save(out / "vocab.json")
    torch.manual_seed(cfg.seed)
    model = LanguageModel(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / cfg.warmup,
                                                                          0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps)))))
    step, elapsed = 0, 0.0
    state_path = out / "last.state.pt"
    if state_path.exists() and (out / "last.safetensors").exists():
        model.load_state_dict(load_file(str(out / "last.safetensors")), strict=False)
        state = torch.load(state_path, weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, elapsed = int(state["step"]), float(state["seconds"])
    train = token_stream(corpus.documents, vocab)
    valid = token_stream(corpus.valid or corpus.documents[-50:], vocab)
    flops_step = flops_per_step(model, cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    tokens_step = cfg.batch_size * cfg.seq_len
    write_json(config_path, {**description, "n_params": model.n_params(False), "n_params_non_embedding": model.n_params(True),
                             "flops_per_step": flops_step, "tokens_per_step": tokens_step,
                             "unigram_val_loss": unigram_cross_entropy(train, valid, len(vocab))})
    keep = set(log_spaced_steps(cfg.steps))
    log_path = out / "log.jsonl"
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress, desc=f"pretrain {model_cfg.objective}", unit="step")
    model.train()
    running, started = [], time.perf_counter() - elapsed
    while step < cfg.steps:
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        ids = sample_blocks(train, cfg.batch_size, cfg.seq_len, generator)
        loss, _, _ = lm_loss(model, ids, generator, vocab.mask_id)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
        optimizer.step()
        schedule.step()
        step += 1
        running.append(loss.item())
        seconds = time.perf_counter() - started
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{step * tokens_step / max(seconds, 1e-9):,.0f}")
        if step % cfg.eval_every == 0 or step in keep:
            record = {"step": step, "tokens": step * tokens_step, "flops": step * flops_step, "seconds": seconds,
                      "train_loss": sum(running) / len(running), **validate(model, valid, cfg, vocab.mask_id)}
            running = []
            if step in keep:
                _atomic_save(model_tensors(model), out / "checkpoints" / f"step_{step:07d}.safetensors")
                record["checkpoint"] = f"checkpoints/step_{step:07d}.safetensors"
            _atomic_save(model_tensors(model), out / "last.safetensors")
            with tempfile.NamedTemporaryFile(dir=out, delete=False, suffix=".tmp") as tmp:
                torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "step": step,
                            "seconds": seconds}, tmp)
            os.replace(tmp.name, state_path)
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
            if progress:
                bar.write(f"step {step}: train {record['train_loss']:.3f}  val {record['val_loss']:.3f}  "
                      f"acc {record['val_accuracy']:.3f}")
    bar.close()
    final = _last_record(log_path)
    _atomic_save(model_tensors(model), out / "model.safetensors")
    write_json(out / "final.json", final)
    write_provenance(out, device)
    return final


def write_provenance(folder, device: str) -> dict:
    """Who made model.safetensors and how: versions, hardware, seed, compute, and its sha256 (checked by tests
    for the shipped checkpoint)."""
    from workbench.data.registry import sha256_of
    from workbench.runs import environment

    folder = Path(folder)
    meta = json.loads((folder / "config.json").read_text())
    final = json.loads((folder / "final.json").read_text())
    record = {"sha256": sha256_of(folder / "model.safetensors"), "corpus": meta["corpus"],
              "seed": meta["pretrain"]["seed"], "objective": meta["model"]["objective"], "arch": meta["model"]["arch"],
              "steps": final["step"], "tokens": final["tokens"], "flops": final["flops"], "seconds": final["seconds"],
              "val_loss": final["val_loss"], "unigram_val_loss": meta["unigram_val_loss"], "environment": environment(device)}
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


# Sized by measurement (bench/NOTES.md): on the micro-world a d=128 CLM needs several million
# tokens before its loss leaves the unigram plateau and it starts to use polarity and negation.
DEFAULT_STEPS = {"microworld": 6000}


def default_steps(corpus_name: str) -> int:
    return DEFAULT_STEPS.get(corpus_name, 3000)


def pretrain_cached(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, out: Path | None = None,
                    device: str = "cpu", progress: bool = True, vocab: Vocabulary | None = None) -> tuple[Path, dict]:
    """Pretrain into `out`, or into the artifact cache keyed by (corpus, vocabulary, config)."""
    from workbench.artifacts import artifact_dir
    from workbench.data.tasks import resolve_corpus
    from workbench.pipelines.run import build_vocab

    corpus = resolve_corpus(corpus_name)
    vocab = vocab or build_vocab(corpus_name)
    model_cfg.vocab_size = len(vocab)
    if out is None:
        out = artifact_dir("backbone", {"model": model_cfg.to_dict(), "pretrain": asdict(cfg), "corpus": corpus_name,
                                        "vocab": vocab.fingerprint()})
    final = pretrain(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress)
    return Path(out), final
