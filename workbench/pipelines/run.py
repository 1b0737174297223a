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
from workbench.errors import WorkbenchError
from workbench.pipelines import PipelineSpec, parse_pipeline
from workbench.pipelines import pretrained, static
from workbench.pipelines.tfidf import fit_tfidf

EVAL_SPLITS = ("test", "shifted")
# Fine-tuning recipes, one per family. A Transformer trained from random weights sits on a
# plateau before it learns (measured on micro-sentiment, n=1024: lr 5e-4 stayed at chance,
# 2e-3 reached .64 after 960 steps), so it gets a larger rate and a longer minimum run than
# a pretrained backbone, whose features only need adjusting.
TRAIN_DEFAULTS = {"lstm": {"lr": 2e-3},
                  "transformer": {"lr": 2e-3, "weight_decay": 0.01, "min_steps": 300},
                  "scratch": {"lr": 2e-3, "weight_decay": 0.01, "min_steps": 300},
                  "pretrained": {"lr": 3e-4, "weight_decay": 0.01}, "probe": {"lr": 3e-3},
                  "prompt": {"lr": 1e-4, "weight_decay": 0.01}}
POOL_DEFAULTS = {"lstm": "max", "transformer": "mean", "mlm": "mean", "plm": "mean", "scratch-transformer": "mean",
                 "clm": "last", "lstm-lm": "last"}


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
    backbone_state: dict | None = None  # pretrained pipelines: weights every point starts from
    backbone_config: object = None
    verbalizer_ids: list | None = None


def build_vocab(corpus_name: str, min_count: int = 2, max_size: int = 30_000) -> Vocabulary:
    return Vocabulary.build(resolve_corpus(corpus_name).documents, min_count=min_count, max_size=max_size)


def prepare(pipeline: str, task: Task, corpus_name: str = "microworld", vocab: Vocabulary | None = None,
            settings: dict | None = None, device: str = "cpu") -> Prepared:
    spec = parse_pipeline(pipeline)
    settings = settings or {}
    prepared = Prepared(spec, task, corpus_name)
    if spec.representation == "tfidf":
        if task.kind != CLASSIFICATION:
            raise WorkbenchError(f"pipeline tfidf works on classification tasks only; {task.name} is a {task.kind} task")
        return prepared  # tfidf needs no corpus: it sees only the labeled subset
    vocab = vocab or build_vocab(corpus_name)
    prepared.vocab = vocab
    prepared.info["oov"] = task_oov_rates(vocab, task)
    if spec.pretrained:
        return _prepare_pretrained(prepared, settings, device)
    dim = settings.get("vectors", {}).get("dim", static.VECTOR_DEFAULTS["dim"])
    if spec.representation == "random":
        prepared.matrix = static.random_matrix(len(vocab), dim, seed=0)
        prepared.info["pretraining"] = {"method": "none", "seconds": 0.0}
    else:
        vectors = static.prepare_vectors(spec.representation, resolve_corpus(corpus_name), corpus_name, vocab,
                                         settings=settings.get("vectors"))
        prepared.matrix = vectors["matrix"]
        prepared.info["coverage"] = vectors["coverage"]
        meta = vectors["meta"]
        prepared.info["pretraining"] = {
            "method": spec.representation, "seconds": vectors["seconds"], "corpus_tokens": meta["corpus_tokens"],
            "tokens": meta["corpus_tokens"] * (meta.get("epochs") or static.VECTOR_DEFAULTS["epochs"]),
            "flops": static.vector_flops(spec.representation, meta["corpus_tokens"], meta), "cached": vectors["cached"]}
    max_len = settings.get("encoder", {}).get("max_len", 256) if spec.encoder == "transformer" else 10_000
    prepared.encoded = {split: encode(examples, task.kind, vocab, task.labels, max_len=max_len)
                        for split, examples in task.splits.items()}
    return prepared


def _prepare_pretrained(prepared: Prepared, settings: dict, device: str) -> Prepared:
    spec, task, vocab = prepared.spec, prepared.task, prepared.vocab
    lm, info = pretrained.load_backbone(spec, prepared.corpus_name, vocab, settings, device)
    prepared.backbone_state = {k: v.clone() for k, v in lm.state_dict().items()}
    prepared.backbone_config = lm.cfg
    prepared.info["pretraining"] = info
    suffix = strip = None
    if spec.mode == "prompt":
        suffix, prepared.verbalizer_ids, strip = pretrained.prompt_suffix(task, vocab, lm.cfg.objective)
    max_len = lm.cfg.transformer.max_len if lm.cfg.arch == "transformer" else 10_000
    prepared.encoded = {split: encode(examples, task.kind, vocab, task.labels, max_len=max_len, suffix=suffix,
                                      strip_final=strip)
                        for split, examples in task.splits.items()}
    return prepared


def _head(task: Task, d: int, pool: str):
    if task.kind == CLASSIFICATION:
        return ClassificationHead(d, len(task.labels), pool=pool)
    if task.kind == TAGGING:
        return TaggingHead(d, len(task.labels))
    return SpanHead(d)


def _build_pretrained_model(prepared: Prepared, settings: dict) -> TaskModel:
    spec = prepared.spec
    lm = pretrained.LanguageModel(prepared.backbone_config)
    lm.load_state_dict(prepared.backbone_state)
    if spec.mode == "prompt":
        encoder = pretrained.QueryStreamEncoder(lm) if lm.cfg.objective == "plm" else lm.encoder
        return TaskModel(lm.embed, encoder, pretrained.PromptHead(lm.head, prepared.verbalizer_ids))
    if spec.mode == "probe":
        for parameter in list(lm.embed.parameters()) + list(lm.encoder.parameters()):
            parameter.requires_grad = False
    pool = settings.get("pool", POOL_DEFAULTS[spec.representation])
    return TaskModel(lm.embed, lm.encoder, _head(prepared.task, lm.encoder.output_dim, pool))


def build_model(prepared: Prepared, settings: dict | None = None) -> TaskModel:
    settings = settings or {}
    spec, task = prepared.spec, prepared.task
    if spec.pretrained:
        return _build_pretrained_model(prepared, settings)
    embedding = static.build_embedding(spec, prepared.matrix)
    encoder = static.build_encoder(spec.encoder, prepared.matrix.shape[1], settings.get("encoder"))
    return TaskModel(embedding, encoder, _head(task, encoder.output_dim, settings.get("pool", POOL_DEFAULTS[spec.encoder])))


def train_defaults(spec: PipelineSpec) -> dict:
    if spec.representation == "scratch-transformer":
        return TRAIN_DEFAULTS["scratch"]
    if spec.pretrained:
        return TRAIN_DEFAULTS["pretrained" if spec.mode == "finetune" else spec.mode]
    return TRAIN_DEFAULTS[spec.encoder]


def run_point(prepared: Prepared, n: int, seed: int, device: str = "cpu", settings: dict | None = None) -> dict:
    """Train on the nested subset (n, seed), select on dev, evaluate on test and shifted test."""
    settings = settings or {}
    task = prepared.task
    zero_shot = n == 0 and prepared.spec.mode == "prompt"
    chosen = [] if zero_shot else subset(task, n, seed)
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
        train_cfg = TrainConfig(**{**train_defaults(prepared.spec), **settings.get("train", {})})
        if zero_shot:
            result["fit"] = {"steps": 0, "note": "zero-shot: the LM head's verbalizer scores, no training"}
        else:
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
