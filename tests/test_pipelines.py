"""Pipelines end to end on the micro-world: what pretrained vectors add, every task kind, determinism."""

import json
from dataclasses import replace

import pytest
import torch
from conftest import run_main

from workbench.data.subsets import dev_size
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.pipelines.run import prepare, run_point
from workbench.pipelines.tuning import Protocol

CORPUS = "microworld:200000"
SMALL_LSTM = {"encoder": {"hidden": 64}, "train": {"max_steps": 450, "max_epochs": 15}}
RECIPE_ONLY = Protocol(grid=1)  # what the vectors (or labels) add under the hand-set recipe, without tuning's cost


@pytest.fixture(scope="module")
def vocab():
    return build_vocab(CORPUS)


@pytest.fixture(scope="module")
def sentiment():
    return resolve_task("micro-sentiment")


def test_word2vec_vectors_carry_tail_polarity(vocab, sentiment):
    """The shifted split uses only adjectives the labeled train split never shows: their polarity
    can only come from the unlabeled corpus, so word2vec+lstm must beat random+lstm there by far."""
    w2v = run_point(prepare("word2vec+lstm", sentiment, CORPUS, vocab, SMALL_LSTM), 1000, 0, protocol=RECIPE_ONLY)
    rnd = run_point(prepare("random+lstm", sentiment, CORPUS, vocab, SMALL_LSTM), 1000, 0, protocol=RECIPE_ONLY)
    assert w2v["metrics"]["test"]["accuracy"] >= 0.85
    assert w2v["metrics"]["shifted"]["accuracy"] >= 0.75
    assert w2v["metrics"]["shifted"]["accuracy"] - rnd["metrics"]["shifted"]["accuracy"] >= 0.2
    assert rnd["metrics"]["shifted"]["accuracy"] <= 0.65
    assert rnd["metrics"]["test"]["accuracy"] - rnd["metrics"]["shifted"]["accuracy"] >= 0.15
    assert w2v["pretraining"]["method"] == "word2vec" and w2v["pretraining"]["corpus_tokens"] > 100_000
    assert w2v["pretraining"]["flops"] > 1e9 and rnd["pretraining"]["method"] == "none"


def test_same_seed_same_numbers_and_frozen_vectors_stay(vocab, sentiment):
    settings = {"encoder": {"hidden": 32}, "train": {"max_steps": 30, "min_steps": 30}}
    prepared = prepare("glove+lstm:frozen", sentiment, CORPUS, vocab, settings)
    first = run_point(prepared, 32, 3)
    second = run_point(prepared, 32, 3)
    assert first["metrics"] == second["metrics"]
    model = prepared.pipeline.build_model(prepared)
    assert not model.embed.weight.requires_grad
    assert torch.equal(model.embed.weight, prepared.matrix)


@pytest.mark.parametrize(
    "pipeline, settings",
    [
        ("random+lstm", {"encoder": {"hidden": 32}, "train": {"max_steps": 40, "min_steps": 40}}),
        ("scratch-transformer", {"train": {"max_steps": 40, "min_steps": 40}}),
    ],
)
def test_compacted_embedding_changes_no_number(vocab, sentiment, pipeline, settings):
    """A point trains an embedding of only the words the task uses (pipelines.neural.compact): the same
    fit, dev scores and test metrics as with the whole vocabulary's rows."""
    prepared = prepare(pipeline, sentiment, CORPUS, vocab, settings)
    assert prepared.rows is not None and len(prepared.rows) < len(vocab)
    assert prepared.pipeline.point_model(prepared).embed.num_embeddings == len(prepared.rows)
    whole_ids = {
        split: [replace(item, ids=[prepared.rows[i] for i in item.ids]) for item in items]
        for split, items in prepared.encoded.items()
    }
    whole = replace(prepared, rows=None, encoded=whole_ids)
    assert whole.pipeline.point_model(whole).embed.num_embeddings == len(vocab)
    compacted, reference = run_point(prepared, 48, 1), run_point(whole, 48, 1)
    assert compacted["metrics"] == reference["metrics"]
    assert compacted["fit"]["steps"] == reference["fit"]["steps"] == 40
    assert compacted["selection"] == reference["selection"]


@pytest.mark.parametrize(
    "task_name, pipeline, metric",
    [
        ("micro-tagging", "random+lstm", "token_accuracy"),
        ("micro-qa", "word2vec+transformer", "token_f1"),
        ("micro-sentiment", "fasttext+transformer", "accuracy"),
    ],
)
def test_every_task_kind_trains(vocab, task_name, pipeline, metric):
    task = resolve_task(task_name)
    encoder = {"d_model": 32, "n_heads": 2, "d_ff": 64} if "transformer" in pipeline else {"hidden": 32}
    settings = {"train": {"max_steps": 40, "min_steps": 40}, "encoder": encoder}
    result = run_point(prepare(pipeline, task, CORPUS, vocab, settings), 64, 0)
    for split in ("test", "shifted", "dev"):
        assert 0.0 <= result["metrics"][split][metric] <= 1.0
    assert result["fit"]["steps"] == 40
    assert result["examples"]["dev"] == result["selection"]["dev_size"] == dev_size(task, 64)


def test_tagging_learns_homographs_from_labels(vocab):
    task = resolve_task("micro-tagging")
    result = run_point(prepare("random+lstm", task, CORPUS, vocab, SMALL_LSTM), 500, 0, protocol=RECIPE_ONLY)
    assert result["metrics"]["test"]["token_accuracy"] >= 0.9


def test_tfidf_anchor_and_finetune_run_folder(tmp_path):
    out = tmp_path / "run"
    result = run_main(
        "finetune", "--pipeline", "tfidf", "--task", "micro-sentiment", "--n", "200", "--seed", "1", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "test" in result.stdout and "shifted" in result.stdout
    recorded = json.loads((out / "results.json").read_text())
    assert recorded["n"] == 200 and recorded["seed"] == 1 and 0.4 <= recorded["metrics"]["test"]["accuracy"] <= 1
    assert json.loads((out / "config.json").read_text())["pipeline"] == "tfidf"
    env = json.loads((out / "environment.json").read_text())
    assert env["torch"] and env["python"] and "cpu_count" in env
    assert recorded["selection"]["dev"] == "few" and recorded["selection"]["dev_size"] == 200
    oracle = run_main(
        "finetune",
        "--pipeline",
        "tfidf",
        "--n",
        "200",
        "--seed",
        "1",
        "--dev",
        "full",
        "--grid",
        "2",
        "--out",
        str(tmp_path / "oracle"),
    )
    assert oracle.returncode == 0, oracle.stderr
    assert "selected on 500 dev examples (full)" in oracle.stdout
    assert json.loads((tmp_path / "oracle" / "config.json").read_text())["dev"] == "full"
    selection = json.loads((tmp_path / "oracle" / "results.json").read_text())["selection"]
    assert selection["dev"] == "full" and selection["dev_size"] == 500 and len(selection["configs"]) == 2


def test_pipeline_names_are_listed_in_help():
    result = run_main("finetune", "--help")
    for name in (
        "random+lstm",
        "word2vec+lstm",
        "fasttext+lstm",
        "glove+lstm",
        "word2vec+transformer",
        "tfidf",
        "mlm",
        "clm",
        "plm",
        "lstm-lm",
        "scratch-transformer",
    ):
        assert name in result.stdout
