"""What each pipeline pretrained: the counts `parameter_counts` reports equal a direct count of the
built model's parameters, split by module (pretrained parts vs parts learned from the labels)."""

import pytest

from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.pipelines.run import prepare


@pytest.fixture(scope="module")
def task_and_vocab():
    return resolve_task("micro-sentiment"), build_vocab("microworld")


def numel(*modules) -> int:
    return sum(p.numel() for p in {id(p): p for m in modules for p in m.parameters()}.values())


@pytest.mark.parametrize(
    "pipeline, pretrained_parts",
    [
        ("word2vec+lstm", ("embed",)),
        ("glove+transformer:frozen", ("embed",)),
        ("random+lstm", ()),
        ("clm", ("embed", "encoder")),
        ("clm:probe", ("embed", "encoder")),
        ("clm:prompt", ("embed", "encoder", "head")),
        ("clm:icl", ("embed", "encoder", "head")),
        ("scratch-transformer", ()),
    ],
)
def test_counts_equal_the_models_parameters(task_and_vocab, pipeline, pretrained_parts):
    task, vocab = task_and_vocab
    prepared = prepare(pipeline, task, "microworld", vocab)
    counts = prepared.pipeline.parameter_counts(prepared)
    model = prepared.pipeline.build_model(prepared)
    parts = {"embed": model.embed, "encoder": model.encoder, "head": model.head}
    total = sum(p.numel() for p in model.parameters())
    pretrained = numel(*(parts[name] for name in pretrained_parts))
    assert counts == {"total": total, "pretrained": pretrained, "from_labels": total - pretrained}
    learned = [name for name in parts if name not in pretrained_parts]
    assert counts["from_labels"] == numel(*(parts[name] for name in learned))
    if pipeline.startswith("word2vec"):
        assert counts["pretrained"] == len(vocab) * prepared.matrix.shape[1]


def test_tfidf_is_not_a_neural_model(task_and_vocab):
    prepared = prepare("tfidf", task_and_vocab[0], "microworld")
    assert prepared.pipeline.parameter_counts(prepared) == {
        "total": None,
        "pretrained": 0,
        "from_labels": None,
        "note": "not a neural model",
    }
