"""The classical anchor: TF-IDF over word unigrams and bigrams + logistic regression (C picked on the point's dev
from its row of tuning.TUNING_GRID)."""

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
from workbench.pipelines.tuning import TUNING_GRID, Protocol, chosen_index, selection_record


def _ngrams(tokens) -> list[str]:
    return list(tokens) + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def fit_tfidf(task: Task, train: list[Example], dev: list[Example], c_values: list[float], seed: int):
    """One logistic regression per C on the same features; returns (predict function of the best
    on `dev` (ties: the earlier C), the dev accuracy of each C)."""
    vectorizer = TfidfVectorizer(analyzer=_ngrams, sublinear_tf=True)
    features = vectorizer.fit_transform([ex.tokens for ex in train])
    dev_features = vectorizer.transform([ex.tokens for ex in dev])
    labels = [ex.label for ex in train]
    models, scores = [], []
    for c in c_values:
        models.append(LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(features, labels))
        scores.append(float((models[-1].predict(dev_features) == [ex.label for ex in dev]).mean()))
    model = models[chosen_index(scores)]

    def predict(examples: list[Example]) -> list[int]:
        predicted = model.predict(vectorizer.transform([ex.tokens for ex in examples]))
        return [task.labels.index(label) for label in predicted]

    return predict, scores


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

    def prepare(
        self,
        task: Task,
        corpus_name: str,
        vocab: Vocabulary | None,
        device: str,
        *,
        progress: bool = False,
        assume_yes: bool = False,
    ) -> Prepared:
        if task.kind != CLASSIFICATION:
            raise WorkbenchError(
                f"pipeline tfidf works on classification tasks only; {task.name} is a {task.kind} task"
            )
        return Prepared(pipeline=self, task=task, corpus_name=corpus_name)

    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool, protocol: Protocol) -> None:
        task, configs = prepared.task, list(protocol.tried(TUNING_GRID["tfidf"]))
        for result in results:
            started = time.perf_counter()
            n, seed = result["n"], result["seed"]
            train_examples = [task.splits["train"][i] for i in subset(task, n, seed)]
            dev = [task.splits["dev"][i] for i in protocol.dev_indices(task, n, seed)]
            predict, scores = fit_tfidf(task, train_examples, dev, [config["C"] for config in configs], seed)
            result["selection"] = selection_record(protocol, len(dev), configs, scores, chosen_index(scores))
            result["fit"] = {"C": configs[chosen_index(scores)]["C"], "best_dev": max(scores)}
            evaluated = {split: task.splits[split] for split in EVAL_SPLITS if split in task.splits} | {"dev": dev}
            for split, examples in evaluated.items():
                result["metrics"][split] = score(task, examples, predict(examples))
            result["examples"] = {split: len(examples) for split, examples in evaluated.items()}
            result["seconds"] = time.perf_counter() - started
