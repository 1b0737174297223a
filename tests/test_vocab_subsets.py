from collections import Counter

import pytest

from workbench.data.subsets import subset
from workbench.data.types import Example, Task
from workbench.data.vocab import SPECIALS, Vocabulary
from workbench.errors import WorkbenchError


def test_vocabulary_build_order_and_roundtrip(tmp_path):
    docs = [["b", "a", "a", "c"], ["a", "b", "d"]]
    vocab = Vocabulary.build(docs, min_count=2)
    assert vocab.words == list(SPECIALS) + ["a", "b"]
    assert vocab.encode(["a", "zzz"]) == [5, vocab.unk_id]
    assert vocab.oov_rate([["a", "c"], ["b", "d"]]) == 0.5
    vocab.save(tmp_path / "v.json")
    again = Vocabulary.load(tmp_path / "v.json")
    assert again.words == vocab.words and again.fingerprint() == vocab.fingerprint()
    assert len(Vocabulary.build(docs, min_count=1, max_size=6)) == 6


def test_vocabulary_load_garbage(tmp_path):
    (tmp_path / "v.json").write_text("not json")
    with pytest.raises(WorkbenchError, match="v.json"):
        Vocabulary.load(tmp_path / "v.json")


def imbalanced_task() -> Task:
    labels = ["a"] * 700 + ["b"] * 250 + ["c"] * 50
    train = [Example(tokens=(str(i),), label=label) for i, label in enumerate(labels)]
    return Task("toy", "classification", {"train": train, "dev": [], "test": []}, labels=["a", "b", "c"])


def test_subsets_nested_deterministic_stratified():
    task = imbalanced_task()
    previous = set()
    for n in (3, 10, 40, 100, 400, 1000):
        chosen = subset(task, n, seed=7)
        assert len(chosen) == len(set(chosen)) == n
        assert previous <= set(chosen)  # nested
        previous = set(chosen)
        counts = Counter(task.splits["train"][i].label for i in chosen)
        assert set(counts) == {"a", "b", "c"}  # every class present from n = #classes
        for label, share in (("a", 0.7), ("b", 0.25), ("c", 0.05)):
            assert abs(counts[label] - share * n) <= 2
    assert subset(task, 40, seed=7) == subset(task, 40, seed=7)
    assert subset(task, 40, seed=7) != subset(task, 40, seed=8)


def test_subset_errors():
    task = imbalanced_task()
    with pytest.raises(WorkbenchError, match="larger than the train split"):
        subset(task, 1001, seed=0)
    with pytest.raises(WorkbenchError, match="number of classes"):
        subset(task, 2, seed=0)
