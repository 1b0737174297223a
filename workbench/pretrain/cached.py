"""Pretraining by name: a corpus name and configs in, a finished folder out (the artifact cache's by default),
in one process or `nproc` local ones."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from workbench.artifacts import artifact_dir
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import Vocabulary, build_vocab
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pretrain import folder
from workbench.pretrain.budget import calibrated_config
from workbench.pretrain.distributed import check_world, launch
from workbench.pretrain.loop import pretrain_in_group
from workbench.pretrain.objectives import TARGETS_PER_TOKEN, flops_per_step
from workbench.pretrain.options import PretrainConfig

# What one CPU core sustains pretraining the small models (d=128, 2 layers; 60k-word softmax), in FLOP/s: 25G
# for the CLM, 29G for the MLM, 34G for the LSTM LM, measured by bench/realtext/pretrain_speed.py (bench/NOTES.md).
CPU_CORE_FLOPS = {"transformer": 25e9, "lstm": 34e9}


def pretrain_cached(
    model_cfg: LMConfig,
    cfg: PretrainConfig,
    corpus_name: str,
    out: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
    vocab: Vocabulary | None = None,
    nproc: int = 1,
    time_budget: float | None = None,
) -> tuple[Path, dict]:
    """Pretrain into `out`, or into the artifact cache keyed by (corpus, vocabulary, config), in `nproc` local
    processes (DDP; the config's batch is the global batch, so the cache key does not depend on nproc).
    With `time_budget` (seconds) the steps are those that fit it on this device (`budget`), not cfg's."""
    check_world(cfg.batch_size, nproc)
    if time_budget is not None and nproc > 1:
        raise WorkbenchError("--time-budget calibrates one process; with --nproc give --steps instead")
    corpus = resolve_corpus(corpus_name)
    vocab = vocab or build_vocab(corpus_name)
    model_cfg.vocab_size = len(vocab)
    if time_budget is not None:
        cfg, _ = calibrated_config(model_cfg, cfg, corpus, vocab, device, time_budget)
    description = folder.run_description(model_cfg, cfg, corpus_name, vocab)
    if out is None:
        out = artifact_dir(
            "backbone",
            {
                "model": model_cfg.to_dict(),
                "pretrain": asdict(cfg),
                "corpus": corpus_name,
                "vocab": vocab.fingerprint(),
            },
        )
        if device == "cpu" and folder.finished_result(Path(out), description) is None:
            warn_cpu_cost(model_cfg, cfg, corpus_name)
    if nproc == 1:
        return Path(out), pretrain_in_group(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress)
    if folder.finished_result(Path(out), description) is None:  # else there is nothing to start
        vocab.save(Path(out) / folder.VOCAB)  # the workers read it there: see `launch` on small arguments
        launch(nproc, pretrain_worker, (model_cfg, cfg, corpus_name, out, device, progress))
    return Path(out), folder.read_final(out)


def warn_cpu_cost(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str) -> None:
    """Say, before it starts, what a pretraining on the CPU will cost (FLOPs at what one core measured)."""
    flops = cfg.steps * flops_per_step(LanguageModel(model_cfg), cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    minutes = flops / CPU_CORE_FLOPS[model_cfg.arch] / 60
    cost = f"about {minutes:,.0f} minutes" if minutes >= 1 else "under a minute"
    tokens = cfg.steps * cfg.batch_size * cfg.seq_len
    print(
        f"workbench: warning: no {model_cfg.arch} {model_cfg.objective} backbone for corpus {corpus_name} is shipped "
        f"or cached: pretraining one now on the CPU ({cfg.steps:,} steps, {tokens:,} tokens, {flops:.1e} FLOPs): "
        f"{cost} on one core. It is cached for later runs; on a GPU it takes minutes.",
        flush=True,
    )


def pretrain_worker(model_cfg, cfg, corpus_name: str, out, device: str, progress: bool) -> None:
    """One rank started by `launch`: it reads the corpus (by name) and the vocabulary (out/vocab.json) itself."""
    vocab = Vocabulary.load(Path(out) / folder.VOCAB)
    pretrain_in_group(model_cfg, cfg, resolve_corpus(corpus_name), corpus_name, vocab, out, device, progress)
