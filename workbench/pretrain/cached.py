"""Pretraining by name: a corpus name and configs in, a finished folder out (the artifact cache's by default),
in one process or `nproc` local ones."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from workbench.artifacts import artifact_dir
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import Vocabulary, build_vocab
from workbench.errors import WorkbenchError
from workbench.models.lm import LMConfig
from workbench.pretrain import folder
from workbench.pretrain.budget import calibrated_config
from workbench.pretrain.cpu_cost import announce_cpu_pretraining
from workbench.pretrain.distributed import check_world, launch
from workbench.pretrain.loop import pretrain_in_group
from workbench.pretrain.options import PretrainConfig


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
    ask: bool = False,
    shipped: list[str] | None = None,
) -> tuple[Path, dict]:
    """Pretrain into `out`, or into the artifact cache keyed by (corpus, vocabulary, config), in `nproc` local
    processes (DDP; the config's batch is the global batch, so the cache key does not depend on nproc).
    With `time_budget` (seconds) the steps are those that fit it on this device (`budget`), not cfg's.
    Into the cache on the CPU, it first says what that costs (cpu_cost); `ask`: a long one asks first at a
    terminal (a pretraining the user did not ask for by name), naming the `shipped` backbones instead."""
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
            announce_cpu_pretraining(model_cfg, cfg, corpus_name, shipped or [], ask)
    if nproc == 1:
        return Path(out), pretrain_in_group(model_cfg, cfg, corpus, corpus_name, vocab, out, device, progress)
    if folder.finished_result(Path(out), description) is None:  # else there is nothing to start
        vocab.save(Path(out) / folder.VOCAB)  # the workers read it there: see `launch` on small arguments
        launch(nproc, pretrain_worker, (model_cfg, cfg, corpus_name, out, device, progress))
    return Path(out), folder.read_final(out)


def pretrain_worker(model_cfg, cfg, corpus_name: str, out, device: str, progress: bool) -> None:
    """One rank started by `launch`: it reads the corpus (by name) and the vocabulary (out/vocab.json) itself."""
    vocab = Vocabulary.load(Path(out) / folder.VOCAB)
    pretrain_in_group(model_cfg, cfg, resolve_corpus(corpus_name), corpus_name, vocab, out, device, progress)
