"""clm:icl: labeled examples written before each input, no training (the shipped CLM)."""

from dataclasses import replace

import pytest
from torch.nn.modules.module import register_module_forward_pre_hook

from workbench.core.batching import encode
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.models.heads import TaskModel
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


ANSWERS = {"positive": ["came", "back"], "negative": ["left", "early"]}  # how a demonstration is answered
TEMPLATE = [",", "so", "we"]


def test_each_input_holds_the_points_examples_each_answered_by_its_own_label(prepared):
    """What the model is given: [cls], then each demonstration (its words without the full stop, the
    template, its label's answer, the full stop), then the input and the template, as captured at the
    model's door (a forward pre-hook), so the test holds whatever builds the sequence."""
    task = replace(prepared.task, splits={k: v if k == "train" else v[:8] for k, v in prepared.task.splits.items()})
    vocab = prepared.vocab
    seen = []

    def capture(module, args):
        if isinstance(module, TaskModel):
            batch = args[0]
            seen.extend(row[mask].tolist() for row, mask in zip(batch.ids, batch.pad_mask))

    handle = register_module_forward_pre_hook(capture)
    try:
        run_points(replace(prepared, task=task), [(16, 0)], fused=False)
    finally:
        handle.remove()
    assert len(seen) == 2 * 8  # test and shifted (an in-context point selects nothing: it scores no dev)
    train = task.splits["train"]
    labeled = {tuple(vocab.encode(train[i].tokens[:-1])): train[i].label for i in subset(task, 16, 0)}
    template, stop = vocab.encode(TEMPLATE), vocab.encode(["."])
    for ids in seen:
        assert ids[0] == vocab.cls_id and ids[-3:] == template
        parts, rest = [], ids[1:]
        while True:  # cut at each "template answer ." that follows a sentence
            cut = next((i for i in range(len(rest) - 2) if rest[i : i + 3] == template), None)
            if cut is None or cut + 3 == len(rest):
                break
            parts.append((tuple(rest[:cut]), rest[cut + 3 : cut + 5], rest[cut + 5 : cut + 6]))
            rest = rest[cut + 6 :]
        assert len(parts) == 4, vocab.decode(ids)
        assert {labeled.get(sentence) for sentence, _, _ in parts} == {"positive", "negative"}
        for sentence, answer, full_stop in parts:
            assert sentence in labeled and full_stop == stop  # one of the point's own n labeled examples
            assert answer == vocab.encode(ANSWERS[labeled[sentence]]), vocab.decode(ids)
