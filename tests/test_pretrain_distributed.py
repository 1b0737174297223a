"""Pretraining on several processes (DDP, gloo on the CPU): the same loss curve as one process with the same
global batch, only rank 0 writes, an interrupted distributed run resumes, and bad --nproc is a one-line error.

The two-process runs share one spawned group (module fixture): each new process pays several seconds of imports.
"""

import json
import os
import sys

import pytest
import torch
from conftest import run_main
from safetensors.torch import load_file

from workbench import pretrain as pt
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LMConfig
from workbench.models.transformer import TransformerConfig
from workbench.pretrain import loop

CORPUS = "microworld:30000"
OBJECTIVES = ("clm", "mlm")  # MLM: ranks hold different numbers of targets, so the loss weighting matters


def job(objective, corpus, vocab, out):
    """A tiny model without dropout (dropout masks of a shard differ from those of the whole batch)."""
    model = LMConfig(
        objective=objective, transformer=TransformerConfig(d_model=32, n_layers=1, n_heads=2, d_ff=64, dropout=0.0)
    )
    cfg = pt.PretrainConfig(steps=6, batch_size=8, seq_len=32, eval_every=1, eval_blocks=8, warmup=2)
    return model, cfg, corpus, CORPUS, vocab, out, "cpu", False


def _record_writes(root, writes):
    """An audit hook that notes every file this process creates, opens for writing, renames or mkdirs under root."""
    root = str(root)

    def hook(event, args):
        if event not in ("open", "os.rename", "os.mkdir") or not isinstance(args[0], (str, os.PathLike)):
            return
        path = os.fspath(args[1] if event == "os.rename" else args[0])  # a rename writes its destination
        writing = (
            event != "open"
            or any(c in (args[1] or "") for c in "wax+")
            or (args[2] or 0) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing and path.startswith(root):
            writes.append(os.path.relpath(path, root))

    sys.addaudithook(hook)


def corpus_and_vocab():
    corpus = resolve_corpus(CORPUS)
    return corpus, Vocabulary.build(corpus.documents, min_count=2)


def two_process_runs(root):
    """Runs in each spawned rank: both objectives, then a CLM run interrupted at step 4 (on every rank, like
    Ctrl-C) and rerun; then each rank reports the files it wrote."""
    corpus, vocab = corpus_and_vocab()
    with pt.process_group("cpu"):
        writes = []
        _record_writes(root / "runs", writes)
        for objective in OBJECTIVES:
            pt.pretrain(*job(objective, corpus, vocab, root / "runs" / objective))
        original, calls = loop.sample_blocks, []

        def dies_at_step_4(*args):
            calls.append(1)
            if len(calls) == 4:
                raise KeyboardInterrupt
            return original(*args)

        loop.sample_blocks = dies_at_step_4
        try:
            pt.pretrain(*job("clm", corpus, vocab, root / "runs" / "resumed"))
        except KeyboardInterrupt:
            pass
        loop.sample_blocks = original
        interrupted = sorted(p.name for p in (root / "runs" / "resumed").iterdir())
        pt.pretrain(*job("clm", corpus, vocab, root / "runs" / "resumed"))
        rank = torch.distributed.get_rank()
    (root / f"rank{rank}.json").write_text(json.dumps({"writes": writes, "interrupted": interrupted}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    corpus, vocab = corpus_and_vocab()
    for objective in OBJECTIVES:
        pt.pretrain(*job(objective, corpus, vocab, root / "single" / objective))
    pt.launch(2, two_process_runs, (root,))
    return root


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_two_processes_match_one_process_step_by_step(runs, objective):
    single, double = pt.read_log(runs / "single" / objective), pt.read_log(runs / "runs" / objective)
    assert [r["step"] for r in single] == [r["step"] for r in double] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(single, double):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-5)
    provenance = json.loads((runs / "runs" / objective / "provenance.json").read_text())
    assert provenance["processes"] == 2


def test_only_rank_0_writes(runs):
    rank0, rank1 = (json.loads((runs / f"rank{r}.json").read_text())["writes"] for r in (0, 1))
    assert rank1 == []
    written = {os.path.basename(path) for path in rank0}
    assert {"log.jsonl", "vocab.json", "last.state.pt"} <= written  # the hook does see writes


def test_interrupted_two_process_run_resumes_exactly(runs):
    interrupted = json.loads((runs / "rank0.json").read_text())["interrupted"]
    assert "last.state.pt" in interrupted and "model.safetensors" not in interrupted
    steps = [r["step"] for r in pt.read_log(runs / "runs" / "resumed")]
    assert steps == [1, 2, 3, 4, 5, 6]
    a = load_file(str(runs / "runs" / "clm" / "model.safetensors"))
    b = load_file(str(runs / "runs" / "resumed" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_bad_nproc_is_a_one_line_error(tmp_path):
    for options, expected in (
        (["--batch-size", "6", "--nproc", "4"], "split over 4 processes"),
        (["--nproc", "0"], "positive"),
    ):
        result = run_main("pretrain", "--steps", "2", "--out", str(tmp_path), *options)
        assert result.returncode == 2 and "--nproc" in result.stderr and expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_folder_with_another_config_is_refused_before_any_process_starts(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": {}, "pretrain": {}}))
    result = run_main(
        "pretrain", "--corpus", CORPUS, "--steps", "2", "--batch-size", "4", "--out", str(tmp_path), "--nproc", "2"
    )
    assert result.returncode == 2 and "another config" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def refuse(message):
    raise WorkbenchError(message)


def test_a_worker_error_comes_back_as_a_workbench_error():
    with pytest.raises(WorkbenchError, match="^bad input on every rank$"):
        pt.launch(2, refuse, ("bad input on every rank",))
