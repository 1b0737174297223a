"""A pretraining folder on disk; the one module that reads or writes its files.

config.json          what the run is (`run_description`), its sizes, tokens and FLOPs per step, the unigram bar
vocab.json           its vocabulary
log.jsonl            one validation record per line, appended; a kept checkpoint's record names its file
checkpoints/         step_NNNNNNN.safetensors, kept at log-spaced steps (the compute axis)
last.safetensors     what a resume loads: the weights ...
last.state.pt        ... and the optimizer, schedule, step and seconds (a weights_only torch file)
model.safetensors    the final weights (float32; float16 after `save_half`, for shipping); with final.json (the
                     last record) and provenance.json when done
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from workbench.atomic import atomic_path, write_json
from workbench.data.registry import sha256_of
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pretrain.options import PretrainConfig
from workbench.runs import check_same_run, environment

CONFIG, VOCAB, LOG, FINAL, PROVENANCE = "config.json", "vocab.json", "log.jsonl", "final.json", "provenance.json"
MODEL, LAST_WEIGHTS, LAST_STATE, CHECKPOINTS = "model.safetensors", "last.safetensors", "last.state.pt", "checkpoints"


def run_description(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, vocab: Vocabulary) -> dict:
    """What config.json must hold for a rerun to resume (or return) the run rather than refuse the folder."""
    return {
        "model": model_cfg.to_dict(),
        "pretrain": asdict(cfg),
        "corpus": corpus_name,
        "vocab_fingerprint": vocab.fingerprint(),
    }


def finished_result(out: Path, description: dict) -> dict | None:
    """The final metrics if `out` holds this finished run, None if it holds none or this one unfinished;
    an error if it holds another config."""
    if check_same_run(out, description, "a pretraining run") and (Path(out) / MODEL).exists():
        return read_final(out)
    return None


def create(out: Path, vocab: Vocabulary) -> None:
    (Path(out) / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    vocab.save(Path(out) / VOCAB)


def read_config(folder) -> dict:
    return json.loads((Path(folder) / CONFIG).read_text(encoding="utf-8"))


def write_config(out: Path, config: dict) -> None:
    write_json(Path(out) / CONFIG, config)


def model_tensors(model: LanguageModel) -> dict:
    state = model.state_dict()
    if model.cfg.tie_embeddings:
        state.pop("head.weight", None)
    return state


def _save_tensors(tensors: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))


def resume(out: Path, model: LanguageModel, optimizer, schedule, device: str) -> tuple[int, float]:
    """(step, seconds) of the last checkpoint, loaded into model, optimizer and schedule; (0, 0.0) if none."""
    state_path, weights_path = Path(out) / LAST_STATE, Path(out) / LAST_WEIGHTS
    if not (state_path.exists() and weights_path.exists()):
        return 0, 0.0
    model.load_state_dict(load_file(str(weights_path), device=str(device)), strict=False)
    state = torch.load(state_path, weights_only=True, map_location=device)
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    return int(state["step"]), float(state["seconds"])


def save_checkpoint(model: LanguageModel, optimizer, schedule, out: Path, record: dict, keep: bool) -> None:
    """last.safetensors + last.state.pt (what a resume loads), a kept copy at log-spaced steps, then the log line:
    the log names only checkpoints that are already on disk."""
    out = Path(out)
    step = record["step"]
    if keep:
        kept = f"{CHECKPOINTS}/step_{step:07d}.safetensors"
        _save_tensors(model_tensors(model), out / kept)
        record["checkpoint"] = kept
    _save_tensors(model_tensors(model), out / LAST_WEIGHTS)
    with atomic_path(out / LAST_STATE) as tmp:
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "step": step,
                "seconds": record["seconds"],
            },
            tmp,
        )
    with open(out / LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def read_log(folder) -> list[dict]:
    """The log's records in step order, one per step (the last one written): a run resumed after a crash may
    have repeated a step, and a line cut short by the crash is skipped. [] without a log."""
    path = Path(folder) / LOG
    records = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        records[record["step"]] = record
    return [records[step] for step in sorted(records)]


def kept_checkpoints(folder) -> list[dict]:
    """The log records of the checkpoints kept at log-spaced steps (with the tokens and FLOPs spent by each)
    whose file is on disk."""
    return [r for r in read_log(folder) if r.get("checkpoint") and (Path(folder) / r["checkpoint"]).is_file()]


def record_for(folder, checkpoint: str = MODEL) -> dict:
    """The record of one checkpoint: final.json for the finished model, else its log line; {} if none."""
    if checkpoint == MODEL and (Path(folder) / FINAL).exists():
        return read_final(folder)
    return next((r for r in read_log(folder) if r.get("checkpoint") == checkpoint), {})


def read_final(folder) -> dict:
    return json.loads((Path(folder) / FINAL).read_text(encoding="utf-8"))


def finish(out: Path, model: LanguageModel, final: dict, device: str, processes: int) -> None:
    """model.safetensors, final.json and provenance.json: the folder now holds a finished run."""
    _save_tensors(model_tensors(model), Path(out) / MODEL)
    write_json(Path(out) / FINAL, final)
    write_provenance(out, device, processes=processes)


def save_half(folder) -> dict:
    """Rewrite the finished model.safetensors in float16, the form that ships (half the bytes; `load_model` reads
    it back into float32 weights), and update its provenance: sha256 and dtype. Checkpoints stay float32."""
    path = Path(folder) / MODEL
    tensors = load_file(str(path))
    _save_tensors({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, path)
    return update_provenance(folder, sha256=sha256_of(path), dtype="float16", bytes=path.stat().st_size)


def update_provenance(folder, **fields) -> dict:
    """Add to a finished folder's provenance.json (the command that remakes it, say, when a script ran it)."""
    path = Path(folder) / PROVENANCE
    record = {**json.loads(path.read_text(encoding="utf-8")), **fields}
    write_json(path, record)
    return record


def write_provenance(folder, device: str, processes: int = 1) -> dict:
    """Who made model.safetensors and how: versions, hardware, processes, seed, compute, and its sha256 (checked by
    tests for the shipped checkpoint). Processes matter: a DDP run equals a one-process run to float rounding only."""
    meta, final = read_config(folder), read_final(folder)
    record = {
        "sha256": sha256_of(Path(folder) / MODEL),
        "corpus": meta["corpus"],
        "seed": meta["pretrain"]["seed"],
        "objective": meta["model"]["objective"],
        "arch": meta["model"]["arch"],
        "steps": final["step"],
        "tokens": final["tokens"],
        "flops": final["flops"],
        "seconds": final["seconds"],
        "val_loss": final["val_loss"],
        "unigram_val_loss": meta["unigram_val_loss"],
        "processes": processes,
        "environment": environment(device),
    }
    write_json(Path(folder) / PROVENANCE, record)
    return record


def load_model(folder, expected_vocab: Vocabulary | None = None, checkpoint: str = MODEL):
    """(model, vocabulary, meta) from a pretraining folder; one-line errors for mismatches and damage."""
    folder = Path(folder)
    if not (folder / CONFIG).is_file():
        raise WorkbenchError(
            f"{folder}: not a pretrained model folder (no config.json); run `workbench pretrain --out {folder}`"
        )
    meta = read_config(folder)
    vocab = Vocabulary.load(folder / VOCAB)
    if vocab.fingerprint() != meta["vocab_fingerprint"]:
        raise WorkbenchError(f"{folder}/vocab.json does not match the vocabulary the model was trained with")
    if expected_vocab is not None and expected_vocab.fingerprint() != vocab.fingerprint():
        raise WorkbenchError(
            f"{folder}: pretrained on another vocabulary (corpus {meta['corpus']!r}); "
            f"pretrain on this task's corpus or pass --corpus {meta['corpus']}"
        )
    model = LanguageModel(LMConfig.from_dict(meta["model"]))
    path = folder / checkpoint
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise WorkbenchError(
            f"{path}: missing; the pretraining has not finished (rerun the same `workbench pretrain` to resume)"
        ) from None
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise WorkbenchError(
            f"{path}: damaged or truncated checkpoint ({exc}); delete it and rerun `workbench pretrain`"
        ) from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not (model.cfg.tie_embeddings and m == "head.weight")]
    if missing or unexpected:
        raise WorkbenchError(
            f"{path}: checkpoint does not fit the config in config.json "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model, vocab, meta
