"""clm:icl: labeled examples written before each input, no training (the shipped CLM)."""
import pytest

from workbench.core.batching import encode
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.pipelines import parse_pipeline
from workbench.pipelines.run import prepare, run_points


@pytest.fixture(scope="module")
def prepared():
    task = resolve_task("micro-sentiment")
    return prepare("clm:icl", task, "microworld", build_vocab("microworld"))


def test_demonstrations_are_the_points_own_labels_interleaved(prepared):
    shown = prepared.pipeline.demonstrations(prepared, 16, 0)  # shots: 4 by default
    assert [ex.label for ex in shown] == ["negative", "positive", "negative", "positive"]
    train = prepared.task.splits["train"]
    from workbench.data.subsets import subset

    chosen = {id(train[i]) for i in subset(prepared.task, 16, 0)}
    assert all(id(ex) in chosen for ex in shown)  # never an example outside the point's n labels
    assert prepared.pipeline.demonstrations(prepared, 0, 0) == []
    two = prepare("clm:icl", prepared.task, "microworld", prepared.vocab, {"shots": 2})
    assert two.pipeline.demonstrations(two, 16, 0) == shown[:2]


def test_prefix_sits_between_cls_and_the_input_and_is_never_cut(prepared):
    vocab, ex = prepared.vocab, prepared.task.splits["test"][0]
    plain = encode([ex], "classification", vocab, prepared.task.labels, suffix=[7, 8])[0].ids
    with_prefix = encode([ex], "classification", vocab, prepared.task.labels, suffix=[7, 8], prefix=[5, 6, 5])[0].ids
    assert with_prefix == plain[:1] + [5, 6, 5] + plain[1:]
    cut = encode([ex], "classification", vocab, prepared.task.labels, max_len=8, suffix=[7, 8], prefix=[5, 6, 5])[0].ids
    assert cut[1:4] == [5, 6, 5] and cut[-2:] == [7, 8] and len(cut) == 8


def test_icl_points_train_nothing_and_n0_is_zero_shot(prepared):
    zero, four = run_points(prepared, [(0, 0), (16, 0)], fused=True)
    assert zero["fit"]["shots"] == 0 and four["fit"] == {**four["fit"], "steps": 0, "shots": 4}
    zero_shot = run_points(prepare("clm:prompt", prepared.task, "microworld", prepared.vocab), [(0, 0)])[0]
    assert zero["metrics"] == zero_shot["metrics"]
    assert four["metrics"]["test"] != zero["metrics"]["test"]  # the demonstrations change the scores


def test_icl_needs_a_causal_lm():
    with pytest.raises(WorkbenchError, match="causal LM"):
        parse_pipeline("mlm:icl")
    assert parse_pipeline("lstm-lm:icl").mode == "icl"
