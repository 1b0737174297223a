"""Task metrics, written once for every pipeline.

classification: accuracy, macro-F1 (as scikit-learn's f1_score(average="macro"));
tagging: token accuracy, and chunk F1 over BIO spans (conlleval-style, exact span and type);
span QA: exact match and token-overlap F1 (SQuAD-style, on tokens).
"""

from __future__ import annotations

from collections import Counter


def accuracy(gold, predicted) -> float:
    gold, predicted = list(gold), list(predicted)
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def macro_f1(gold, predicted) -> float:
    """Mean per-class F1 over every label seen in gold or predictions (a class never predicted scores 0)."""
    gold, predicted = list(gold), list(predicted)
    scores = []
    for label in sorted(set(gold) | set(predicted)):
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def token_accuracy(gold_seqs, predicted_seqs) -> float:
    pairs = [(g, p) for gs, ps in zip(gold_seqs, predicted_seqs) for g, p in zip(gs, ps)]
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def bio_spans(tags) -> set[tuple[str, int, int]]:
    """Chunks (type, start, end inclusive) of a BIO/IOB2 sequence; an I- without a matching opener starts a chunk."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and kind == label
        if start is not None and not continues:
            spans.add((kind, start, i - 1))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return spans


def span_f1(gold_seqs, predicted_seqs) -> float:
    """Micro F1 over BIO chunks: a chunk counts only if its type and both ends match."""
    tp = n_gold = n_pred = 0
    for gs, ps in zip(gold_seqs, predicted_seqs):
        g, p = bio_spans(gs), bio_spans(ps)
        tp += len(g & p)
        n_gold += len(g)
        n_pred += len(p)
    return 2 * tp / (n_gold + n_pred) if tp else 0.0


def qa_scores(gold_spans, predicted_spans, passages) -> dict[str, float]:
    """Exact match and token F1 between predicted and gold (start, end) spans of each passage."""
    em = f1 = 0.0
    for (gs, ge), (ps, pe), passage in zip(gold_spans, predicted_spans, passages):
        gold, pred = list(passage[gs : ge + 1]), list(passage[ps : pe + 1]) if pe >= ps else []
        em += float(gold == pred)
        common = sum((Counter(gold) & Counter(pred)).values())
        if common:
            precision, recall = common / len(pred), common / len(gold)
            f1 += 2 * precision * recall / (precision + recall)
    n = len(gold_spans)
    return {"exact_match": em / n if n else 0.0, "token_f1": f1 / n if n else 0.0}


def is_bio(labels) -> bool:
    """Whether a tag set is BIO chunk tags (then span F1 is reported, not only token accuracy)."""
    return any(label.startswith(("B-", "I-")) for label in labels)


PRIMARY_METRIC = {"classification": "accuracy", "tagging": "token_accuracy", "span": "token_f1"}
