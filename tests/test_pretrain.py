"""Pretraining: learns, checkpoints at log-spaced compute, resumes exactly, refuses bad checkpoints."""

import json

import pytest
import torch
from conftest import run_main
from safetensors.torch import load_file

from workbench import pretrain as pt
from workbench.cli import build_parser
from workbench.cli.pretrain import options_from_args
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.generate import fill, perplexity, sample
from workbench.models.lm import LMConfig
from workbench.models.transformer import TransformerConfig
from workbench.pipelines.pretrained import lm_config
from workbench.pretrain import loop

CORPUS = "microworld:30000"


@pytest.fixture(scope="module")
def corpus_and_vocab():
    corpus = resolve_corpus(CORPUS)
    return corpus, Vocabulary.build(corpus.documents, min_count=2)


def small(objective="clm", steps=24, d=32, batch_size=8, **kw):
    model = LMConfig(objective=objective, transformer=TransformerConfig(d_model=d, n_layers=1, n_heads=2, d_ff=2 * d))
    return model, pt.PretrainConfig(
        steps=steps, batch_size=batch_size, seq_len=32, eval_every=8, eval_blocks=8, warmup=4, **kw
    )


def test_clm_learns_below_unigram_and_keeps_log_spaced_checkpoints(tmp_path, corpus_and_vocab):
    corpus, vocab = corpus_and_vocab
    model_cfg, cfg = small(
        "clm", steps=300, d=64, batch_size=16, lr=3e-3
    )  # a plateau at unigram level ends near step 200
    final = pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path, progress=False)
    config = json.loads((tmp_path / "config.json").read_text())
    assert final["val_loss"] < config["unigram_val_loss"] - 0.8
    kept = pt.kept_checkpoints(tmp_path)
    assert [r["step"] for r in kept] == [32, 64, 128, 256, 300]
    assert kept == [r for r in pt.read_log(tmp_path) if "checkpoint" in r]
    assert [r["flops"] for r in kept] == sorted(r["flops"] for r in kept)
    assert kept[-1]["tokens"] == 300 * 16 * 32


def test_resume_after_interruption_is_exact(tmp_path, corpus_and_vocab, monkeypatch):
    corpus, vocab = corpus_and_vocab
    model_cfg, cfg = small("mlm", steps=24)
    pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path / "straight", progress=False)
    calls = {"n": 0}
    original = loop.sample_blocks

    def dies_at_step_13(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 13:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(loop, "sample_blocks", dies_at_step_13)
    with pytest.raises(KeyboardInterrupt):
        pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(loop, "sample_blocks", original)
    assert not (tmp_path / "resumed" / "model.safetensors").exists()
    pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path / "resumed", progress=False)
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))  # nothing logged twice


def test_other_config_in_same_folder_is_refused(tmp_path, corpus_and_vocab):
    corpus, vocab = corpus_and_vocab
    model_cfg, cfg = small("clm", steps=8)
    pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path, progress=False)
    other_model, other = small("clm", steps=16)
    with pytest.raises(WorkbenchError, match="another config"):
        pt.pretrain(other_model, other, corpus, CORPUS, vocab, tmp_path, progress=False)


def test_bad_checkpoints_give_one_line_errors(tmp_path, corpus_and_vocab):
    corpus, vocab = corpus_and_vocab
    model_cfg, cfg = small("mlm", steps=8)
    pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path, progress=False)
    model, loaded_vocab, meta = pt.load_model(tmp_path)
    assert loaded_vocab.words == vocab.words
    other_vocab = Vocabulary.build([["some", "other", "words"]] * 3)
    with pytest.raises(WorkbenchError, match="another vocabulary"):
        pt.load_model(tmp_path, expected_vocab=other_vocab)
    data = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(WorkbenchError, match="truncated"):
        pt.load_model(tmp_path)
    with pytest.raises(WorkbenchError, match="no config.json"):
        pt.load_model(tmp_path / "checkpoints")
    result = run_main("fill", str(tmp_path), "the [MASK] was good")
    assert result.returncode == 2 and "truncated" in result.stderr and "Traceback" not in result.stderr


def test_generation_is_seeded_and_tools_check_the_objective(tmp_path, corpus_and_vocab):
    corpus, vocab = corpus_and_vocab
    model_cfg, cfg = small("clm", steps=8)
    pt.pretrain(model_cfg, cfg, corpus, CORPUS, vocab, tmp_path, progress=False)
    model, vocab, _ = pt.load_model(tmp_path)
    first = sample(model, vocab, "the soup was", n=3, seed=4, top_k=20, top_p=0.9)
    assert first == sample(model, vocab, "the soup was", n=3, seed=4, top_k=20, top_p=0.9)
    assert first != sample(model, vocab, "the soup was", n=3, seed=5, top_k=20, top_p=0.9)
    greedy = sample(model, vocab, "the soup was", n=2, greedy=True)
    assert greedy[0] == greedy[1]
    assert perplexity(model, vocab, "the soup was good .")["perplexity"] > 1
    with pytest.raises(WorkbenchError, match="needs a mlm or plm model"):
        fill(model, vocab, "the [MASK] was good")


def test_top_p_keeps_the_smallest_nucleus():
    from workbench.generate import _filter

    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log()
    kept = _filter(logits.clone(), None, 0.7).isfinite().tolist()
    assert kept == [True, True, False, False]
    assert _filter(logits.clone(), 1, None).isfinite().tolist() == [True, False, False, False]


def test_pretrain_cli_rejects_bad_options(tmp_path):
    result = run_main("pretrain", "--objective", "mlm", "--arch", "lstm", "--out", str(tmp_path))
    assert result.returncode == 2 and "--objective clm" in result.stderr
    result = run_main("pretrain", "--d-model", "30", "--heads", "4", "--out", str(tmp_path))
    assert result.returncode == 2 and "not divisible" in result.stderr


def test_the_log_reader_skips_a_cut_line_and_keeps_one_record_per_step(tmp_path):
    lines = [
        {"step": 1, "val_loss": 3.0},
        {"step": 2, "val_loss": 2.5, "checkpoint": "checkpoints/a.safetensors"},
        {"step": 2, "val_loss": 2.4, "checkpoint": "checkpoints/b.safetensors"},
    ]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"step": 3, "val_')
    assert pt.read_log(tmp_path) == [lines[0], lines[2]]
    assert pt.record_for(tmp_path, "checkpoints/b.safetensors") == lines[2]
    assert pt.record_for(tmp_path, "checkpoints/a.safetensors") == {}
    assert pt.kept_checkpoints(tmp_path) == []  # the files are not on disk
    assert pt.read_log(tmp_path / "nothing") == []


def test_cli_defaults_are_the_library_defaults():
    args = build_parser().parse_args(["pretrain"])
    assert options_from_args(args) == pt.PretrainOptions()
    assert options_from_args(args).configs() == lm_config("clm")
    assert lm_config("lstm-lm")[0].arch == "lstm" and lm_config("mlm")[0].objective == "mlm"


def test_bad_options_are_one_line_errors_in_the_library_too():
    for options, expected in (
        ({"d_model": 30, "heads": 4}, "--d-model 30 is not divisible by --heads 4"),
        ({"arch": "lstm", "objective": "mlm"}, "--arch lstm trains a causal LM"),
        ({"seq_len": 0}, "--seq-len 0: must be a positive"),
        ({"positions": "sinusoid"}, "--positions 'sinusoid'"),
    ):
        with pytest.raises(WorkbenchError, match=expected) as error:
            pt.PretrainOptions(**options).configs()
        assert "\n" not in str(error.value)
