"""Our metrics agree with scikit-learn on random inputs, and with hand-checked cases where it has none."""

import random

from sklearn.metrics import accuracy_score, f1_score

from workbench import metrics


def test_accuracy_and_macro_f1_match_sklearn():
    rng = random.Random(0)
    for _trial in range(50):
        labels = ["a", "b", "c", "d"][: rng.randint(2, 4)]
        n = rng.randint(1, 60)
        gold = [rng.choice(labels) for _ in range(n)]
        pred = [rng.choice(labels) for _ in range(n)]
        assert abs(metrics.accuracy(gold, pred) - accuracy_score(gold, pred)) < 1e-12
        assert abs(metrics.macro_f1(gold, pred) - f1_score(gold, pred, average="macro", zero_division=0)) < 1e-12


def test_token_accuracy_matches_sklearn_on_flattened():
    rng = random.Random(1)
    gold = [[rng.choice("xyz") for _ in range(rng.randint(1, 9))] for _ in range(30)]
    pred = [[rng.choice("xyz") for _ in seq] for seq in gold]
    flat_g = [t for s in gold for t in s]
    flat_p = [t for s in pred for t in s]
    assert abs(metrics.token_accuracy(gold, pred) - accuracy_score(flat_g, flat_p)) < 1e-12


def test_bio_spans_and_f1():
    tags = ["B-NP", "I-NP", "O", "B-VP", "I-NP", "B-PP", "I-PP"]
    assert metrics.bio_spans(tags) == {("NP", 0, 1), ("VP", 3, 3), ("NP", 4, 4), ("PP", 5, 6)}
    gold = [["B-NP", "I-NP", "O", "B-VP"]]
    assert metrics.span_f1(gold, gold) == 1.0
    assert metrics.span_f1(gold, [["B-NP", "O", "O", "B-VP"]]) == 0.5  # 1 of 2 chunks right, both sides
    assert metrics.span_f1(gold, [["O", "O", "O", "O"]]) == 0.0


def test_qa_scores():
    passage = ["mary", "lives", "in", "new", "york", "."]
    scores = metrics.qa_scores([(3, 4), (0, 0)], [(3, 4), (0, 1)], [passage, passage])
    assert scores["exact_match"] == 0.5
    assert abs(scores["token_f1"] - (1.0 + 2 * 0.5 * 1.0 / 1.5) / 2) < 1e-12
