"""One point of a data-efficiency curve: (pipeline, task, n, seed) -> metrics on dev, test, shifted.

`prepare` does what all points of a pipeline share (vocabulary, pretrained artifact, encoded
splits); `run_point` trains on the nested subset and evaluates. The comparison calls these
two functions for every point; `workbench finetune` calls them for one.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch

from workbench.core.batching import encode
from workbench.core.train import TrainConfig, evaluate, fit, score
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_corpus
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Task
from workbench.data.vocab import Vocabulary, task_oov_rates
from workbench.models.heads import ClassificationHead, SpanHead, TaggingHead, TaskModel
from workbench.pipelines import PipelineSpec, parse_pipeline
from workbench.pipelines import static
from workbench.pipelines.tfidf import fit_tfidf

EVAL_SPLITS = ("test", "shifted")
TRAIN_DEFAULTS = {"lstm": {"lr": 2e-3}, "transformer": {"lr": 5e-4, "weight_decay": 0.01}}
POOL_DEFAULTS = {"lstm": "max", "transformer": "mean"}


@dataclass
class Prepared:
    """What every point of one pipeline on one task shares."""

    spec: PipelineSpec
    task: Task
    corpus_name: str
    vocab: Vocabulary | None = None
    matrix: torch.Tensor | None = None
    encoded: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # pretraining compute, coverage, OOV rates


def build_vocab(corpus_name: str, min_count: int = 2, max_size: int = 30_000) -> Vocabulary:
    return Vocabulary.build(resolve_corpus(corpus_name).documents, min_count=min_count, max_size=max_size)


def prepare(pipeline: str, task: Task, corpus_name: str = "microworld", vocab: Vocabulary | None = None,
            settings: dict | None = None) -> Prepared:
    spec = parse_pipeline(pipeline)
    settings = settings or {}
    prepared = Prepared(spec, task, corpus_name)
    if spec.representation == "tfidf":
        # tfidf needs no corpus: it sees only the labeled subset
        return prepared
    vocab = vocab or build_vocab(corpus_name)
    prepared.vocab = vocab
    prepared.info["oov"] = task_oov_rates(vocab, task)
    dim = settings.get("vectors", {}).get("dim", static.VECTOR_DEFAULTS["dim"])
    if spec.representation == "random":
        prepared.matrix = static.random_matrix(len(vocab), dim, seed=0)
        prepared.info["pretraining"] = {"method": "none", "seconds": 0.0}
    else:
        vectors = static.prepare_vectors(spec.representation, resolve_corpus(corpus_name), corpus_name, vocab,
                                         settings=settings.get("vectors"))
        prepared.matrix = vectors["matrix"]
        prepared.info["coverage"] = vectors["coverage"]
        prepared.info["pretraining"] = {"method": spec.representation, "seconds": vectors["seconds"],
                                        "corpus_tokens": vectors["meta"]["corpus_tokens"], "cached": vectors["cached"]}
    max_len = settings.get("encoder", {}).get("max_len", 256) if spec.encoder == "transformer" else 10_000
    prepared.encoded = {split: encode(examples, task.kind, vocab, task.labels, max_len=max_len)
                        for split, examples in task.splits.items()}
    return prepared


def build_model(prepared: Prepared, settings: dict | None = None) -> TaskModel:
    settings = settings or {}
    spec, task = prepared.spec, prepared.task
    embedding = static.build_embedding(spec, prepared.matrix)
    encoder = static.build_encoder(spec.encoder, prepared.matrix.shape[1], settings.get("encoder"))
    d = encoder.output_dim
    if task.kind == CLASSIFICATION:
        head = ClassificationHead(d, len(task.labels), pool=settings.get("pool", POOL_DEFAULTS[spec.encoder]))
    elif task.kind == TAGGING:
        head = TaggingHead(d, len(task.labels))
    else:
        head = SpanHead(d)
    return TaskModel(embedding, encoder, head)


def run_point(prepared: Prepared, n: int, seed: int, device: str = "cpu", settings: dict | None = None) -> dict:
    """Train on the nested subset (n, seed), select on dev, evaluate on test and shifted test."""
    settings = settings or {}
    task = prepared.task
    chosen = subset(task, n, seed)
    train_examples = [task.splits["train"][i] for i in chosen]
    started = time.perf_counter()
    result = {"pipeline": prepared.spec.name, "task": task.name, "n": n, "seed": seed, "metrics": {}}
    if prepared.spec.representation == "tfidf":
        predict, c, dev_accuracy = fit_tfidf(task, train_examples, seed)
        result["fit"] = {"C": c, "best_dev": dev_accuracy}
        for split in EVAL_SPLITS + ("dev",):
            if split in task.splits:
                result["metrics"][split] = score(task, task.splits[split], predict(task.splits[split]))
    else:
        torch.manual_seed(seed)
        model = build_model(prepared, settings)
        train_cfg = TrainConfig(**{**TRAIN_DEFAULTS[prepared.spec.encoder], **settings.get("train", {})})
        train_items = [prepared.encoded["train"][i] for i in chosen]
        fitted = fit(model, train_items, prepared.encoded["dev"], task.splits["dev"], task, train_cfg, seed, device)
        result["fit"] = {"steps": fitted.steps, "best_step": fitted.best_step, "best_dev": fitted.best_dev,
                         "train_config": asdict(train_cfg)}
        for split in EVAL_SPLITS + ("dev",):
            if split in task.splits:
                result["metrics"][split] = evaluate(model, prepared.encoded[split], task.splits[split], task, device)
    result["seconds"] = time.perf_counter() - started
    result["pretraining"] = prepared.info.get("pretraining", {"method": "none", "seconds": 0.0})
    return result
