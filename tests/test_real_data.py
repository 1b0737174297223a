"""Every loader on the real files; counts equal those in each dataset's SOURCE.md."""

from conftest import requires_real_data

from workbench.data import registry, tasks
from workbench.data.vocab import Vocabulary, task_oov_rates

pytestmark = requires_real_data


def tokens(examples):
    return sum(len(ex.tokens) for ex in examples)


def test_sst2_counts_and_labels():
    task = tasks.resolve_task("sst2")
    sizes = {split: len(v) for split, v in task.splits.items()}
    assert sizes == {"train": 67_349, "dev": 872, "test": 1_821}
    labels = [ex.label for ex in task.splits["train"]]
    assert labels.count("0") == 29_780 and labels.count("1") == 37_569
    test_labels = [ex.label for ex in task.splits["test"]]
    assert test_labels.count("0") == 912 and test_labels.count("1") == 909


def test_ud_upos_counts():
    task = tasks.resolve_task("ud-upos")
    expected = {"train": (12_544, 204_577), "dev": (2_001, 25_147), "test": (2_077, 25_094)}
    assert {split: (len(v), tokens(v)) for split, v in task.splits.items()} == expected
    assert len(task.labels) == 17


def test_conll2000_counts():
    task = tasks.resolve_task("conll2000-chunk")
    assert len(task.splits["train"]) + len(task.splits["dev"]) == 8_936
    assert tokens(task.splits["train"]) + tokens(task.splits["dev"]) == 211_727
    assert (len(task.splits["test"]), tokens(task.splits["test"])) == (2_012, 47_377)
    assert len(task.labels) == 22 and "B-NP" in task.labels


def test_wikitext2_counts_and_oov():
    corpus = tasks.resolve_corpus("wikitext2")
    assert corpus.n_tokens == 2_051_910
    assert sum(map(len, corpus.valid)) == 213_886
    vocab = Vocabulary.build(corpus.documents, min_count=3)
    oov = task_oov_rates(vocab, tasks.resolve_task("sst2"))
    assert 0.01 < oov["dev"] < 0.15  # calibration notes measured ~7% with the raw tokenization


def test_every_registered_file_verifies():
    for spec in registry.DATASETS.values():
        for remote in spec.files:
            assert registry.local_file(spec.name, remote.path).is_file()
