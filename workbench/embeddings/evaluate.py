"""Intrinsic checks of word vectors: neighbours, analogies, human similarity judgements, and
on the micro-world, whether the vectors recover the classes and polarity the generator used.

Intrinsic scores are cheap sanity checks, not the workbench's verdict (that is the downstream
data-efficiency curve); they tell whether training worked at all.
"""

from __future__ import annotations

import numpy as np
from gensim.test.utils import datapath
from scipy.stats import spearmanr

from workbench.errors import WorkbenchError

SIMILARITY_FILES = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def _require(kv, word: str) -> None:
    if word not in kv.key_to_index and not getattr(kv, "bucket", 0):
        close = [w for w in kv.index_to_key[:50000] if w.lower() == word.lower() or w.startswith(word[:4])][:5]
        hint = f" (close: {', '.join(close)})" if close else ""
        raise WorkbenchError(f"{word!r} is not in the vectors' vocabulary{hint}; pick another word")


def neighbors(kv, word: str, k: int = 10) -> list[tuple[str, float]]:
    """The k nearest words by cosine similarity."""
    _require(kv, word)
    return kv.most_similar(word, topn=k)


def analogy(kv, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
    """a : b :: c : ?  by 3CosAdd: argmax cos(x, b - a + c) over unit vectors, query words excluded."""
    for w in (a, b, c):
        _require(kv, w)
    return kv.most_similar(positive=[b, c], negative=[a], topn=k)


def word_similarity(kv, name: str = "wordsim353") -> dict:
    """Spearman rho between cosine similarity and human scores; pairs with an unknown word are
    skipped and counted (coverage). Words are lowercased, as the workbench's corpora are."""
    if name not in SIMILARITY_FILES:
        raise WorkbenchError(f"unknown similarity set {name!r}: use one of {', '.join(SIMILARITY_FILES)}")
    human, model, total = [], [], 0
    with open(datapath(SIMILARITY_FILES[name]), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            w1, w2, score = line.rstrip("\n").split("\t")[:3]
            total += 1
            w1, w2 = w1.lower(), w2.lower()
            if w1 in kv.key_to_index and w2 in kv.key_to_index:
                human.append(float(score))
                model.append(float(kv.similarity(w1, w2)))
    rho = float(spearmanr(human, model)[0]) if len(human) > 2 else float("nan")
    return {"spearman": rho, "pairs": len(human), "total": total, "coverage": len(human) / total if total else 0.0}


def google_analogy(kv, restrict_vocab: int = 30000) -> dict:
    """Accuracy on the Google analogy questions (3CosAdd), among questions whose words are all
    within the `restrict_vocab` most frequent words (case-insensitive); coverage says how many."""
    path = datapath("questions-words.txt")
    with open(path, encoding="utf-8") as fh:
        total = sum(1 for line in fh if line.strip() and not line.startswith(":"))
    score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab, case_insensitive=True)
    overall = sections[-1]
    answered = len(overall["correct"]) + len(overall["incorrect"])
    return {
        "accuracy": float(score) if answered else float("nan"),
        "questions": answered,
        "total": total,
        "coverage": answered / total,
    }


def _classed_words(kv, ground_truth: dict) -> list[str]:
    return [w for w, info in ground_truth.items() if info.get("class") is not None and w in kv.key_to_index]


def _unit(kv, words: list[str]) -> np.ndarray:
    m = np.stack([kv.get_vector(w) for w in words]).astype(np.float64)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def class_purity(kv, ground_truth: dict, k: int = 5) -> float:
    """Mean fraction of each word's k nearest neighbours (among words with a ground-truth class)
    that share its class: 1.0 when classes are perfectly separated, about the class's share at random."""
    words = _classed_words(kv, ground_truth)
    if len(words) <= k:
        raise WorkbenchError(f"class purity needs more than k={k} classed words in the vectors; found {len(words)}")
    m = _unit(kv, words)
    sims = m @ m.T
    np.fill_diagonal(sims, -np.inf)
    classes = np.array([ground_truth[w]["class"] for w in words])
    nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return float((classes[nearest] == classes[:, None]).mean())


def polarity_accuracy(kv, ground_truth: dict) -> dict:
    """Leave-one-out: predict each evaluative word's polarity sign from whether it is nearer
    (cosine) the mean of the other positive or the other negative words' unit vectors."""
    words = [w for w, info in ground_truth.items() if info.get("polarity") and w in kv.key_to_index]
    signs = np.array([np.sign(ground_truth[w]["polarity"]) for w in words])
    if (signs > 0).sum() < 2 or (signs < 0).sum() < 2:
        raise WorkbenchError("polarity accuracy needs at least two positive and two negative words in the vectors")
    m = _unit(kv, words)
    pos_sum, neg_sum = m[signs > 0].sum(0), m[signs < 0].sum(0)
    n_pos, n_neg = (signs > 0).sum(), (signs < 0).sum()
    correct = 0
    for i, s in enumerate(signs):
        pos = (pos_sum - (m[i] if s > 0 else 0)) / (n_pos - (s > 0))
        neg = (neg_sum - (m[i] if s < 0 else 0)) / (n_neg - (s < 0))
        cos = lambda v: float(m[i] @ v / max(np.linalg.norm(v), 1e-12))  # noqa: E731
        correct += int(np.sign(cos(pos) - cos(neg)) == s)
    return {"accuracy": correct / len(words), "words": len(words)}


def intrinsic_report(kv, ground_truth: dict | None = None) -> dict:
    """Every check that applies: similarity sets and analogies, and with a ground truth, the
    micro-world class purity and polarity accuracy. A check that cannot run is left out."""
    report = {name: word_similarity(kv, name) for name in SIMILARITY_FILES}
    report["google_analogy"] = google_analogy(kv)
    if ground_truth:
        try:
            report["class_purity"] = {"purity": class_purity(kv, ground_truth)}
        except WorkbenchError as exc:
            report["class_purity"] = {"skipped": str(exc)}
        try:
            report["polarity"] = polarity_accuracy(kv, ground_truth)
        except WorkbenchError as exc:
            report["polarity"] = {"skipped": str(exc)}
    return report
