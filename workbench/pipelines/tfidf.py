"""The classical anchor: TF-IDF over word unigrams and bigrams + logistic regression (C picked on dev)."""
from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from workbench.data.types import CLASSIFICATION, Example, Task
from workbench.errors import WorkbenchError


def _ngrams(tokens) -> list[str]:
    return list(tokens) + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def fit_tfidf(task: Task, train: list[Example], seed: int):
    """Returns (predict function over examples, chosen C, dev accuracy)."""
    if task.kind != CLASSIFICATION:
        raise WorkbenchError(f"pipeline tfidf works on classification tasks only; {task.name} is a {task.kind} task")
    vectorizer = TfidfVectorizer(analyzer=_ngrams, sublinear_tf=True)
    features = vectorizer.fit_transform([ex.tokens for ex in train])
    dev = task.splits["dev"]
    dev_features = vectorizer.transform([ex.tokens for ex in dev])
    best = None
    for c in (0.1, 1.0, 10.0, 100.0):
        model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(features, [ex.label for ex in train])
        accuracy = (model.predict(dev_features) == [ex.label for ex in dev]).mean()
        if best is None or accuracy > best[2]:
            best = (model, c, float(accuracy))
    model, c, dev_accuracy = best
    labels = list(model.classes_)

    def predict(examples: list[Example]) -> list[int]:
        predicted = model.predict(vectorizer.transform([ex.tokens for ex in examples]))
        return [task.labels.index(labels[list(labels).index(p)]) for p in predicted]

    return predict, c, dev_accuracy
