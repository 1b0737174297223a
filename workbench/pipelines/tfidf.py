"""The classical anchor: TF-IDF over word unigrams and bigrams + logistic regression (C picked on dev)."""
from __future__ import annotations

import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from workbench.core.train import score
from workbench.data.subsets import subset
from workbench.data.types import CLASSIFICATION, Example, Task
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.pipelines import CLASSICAL, PipelineSpec
from workbench.pipelines.base import EVAL_SPLITS, Pipeline, Prepared
from workbench.pipelines.settings import check_names


def _ngrams(tokens) -> list[str]:
    return list(tokens) + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def fit_tfidf(task: Task, train: list[Example], seed: int):
    """Returns (predict function over examples, chosen C, dev accuracy)."""
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


class TfidfPipeline(Pipeline):
    """`tfidf`: needs no corpus (it sees only the labeled subset) and reads no settings."""

    uses_vocab = False

    def __init__(self, spec: PipelineSpec, settings: dict):
        super().__init__(spec)
        check_names(spec.name, settings, ())

    @classmethod
    def handles(cls, spec: PipelineSpec) -> bool:
        return spec.representation in CLASSICAL

    def parameter_counts(self, prepared: Prepared) -> dict:
        """Not a neural model: nothing is pretrained, and its weights (features x classes + a bias per class)
        are all learned from the labels; their number depends on each point's own n-gram features."""
        return {"total": None, "pretrained": 0, "from_labels": None, "note": "not a neural model"}

    def prepare(self, task: Task, corpus_name: str, vocab: Vocabulary | None, device: str) -> Prepared:
        if task.kind != CLASSIFICATION:
            raise WorkbenchError(f"pipeline tfidf works on classification tasks only; "
                                 f"{task.name} is a {task.kind} task")
        return Prepared(pipeline=self, task=task, corpus_name=corpus_name)

    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool) -> None:
        task = prepared.task
        for result in results:
            started = time.perf_counter()
            train_examples = [task.splits["train"][i] for i in subset(task, result["n"], result["seed"])]
            predict, c, dev_accuracy = fit_tfidf(task, train_examples, result["seed"])
            result["fit"] = {"C": c, "best_dev": dev_accuracy}
            for split in EVAL_SPLITS + ("dev",):
                if split in task.splits:
                    result["metrics"][split] = score(task, task.splits[split], predict(task.splits[split]))
            result["seconds"] = time.perf_counter() - started
