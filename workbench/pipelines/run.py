"""One point of a data-efficiency curve: (pipeline, task, n, seed) -> metrics on dev, test, shifted.

`prepare` does what all points of a pipeline share (vocabulary, pretrained artifact, encoded
splits); `run_point` trains on the nested subset and evaluates. The comparison calls these
two functions for every point; `workbench finetune` calls them for one.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import torch

from workbench.core.batching import encode
from workbench.core.fused import ReplicaStack, fit_fused, predict_fused
from workbench.core.train import TrainConfig, evaluate, fit, score
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_corpus
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Task
from workbench.data.vocab import Vocabulary, build_vocab, task_oov_rates
from workbench.models.heads import ClassificationHead, SpanHead, TaggingHead, TaskModel
from workbench.errors import WorkbenchError
from workbench.pipelines import PipelineSpec, parse_pipeline
from workbench.pipelines import pretrained, static
from workbench.pipelines.tfidf import fit_tfidf

EVAL_SPLITS = ("test", "shifted")
# Fine-tuning recipes, one per family. A Transformer trained from random weights sits on a
# plateau before it learns (measured on micro-sentiment, n=1024: lr 5e-4 stayed at chance,
# 2e-3 reached .64 after 960 steps), so it gets a larger rate than a pretrained backbone, whose
# features only need adjusting. Every family gets the same update budget (TrainConfig's minimum
# and epochs): 300 minimum steps instead of 120 left the scratch Transformer at chance for
# n <= 256 all the same (.51/.50/.53, bench/NOTES.md) and cost 2.5 times as much.
TRAIN_DEFAULTS = {"lstm": {"lr": 2e-3},
                  "transformer": {"lr": 2e-3, "weight_decay": 0.01},
                  "scratch": {"lr": 2e-3, "weight_decay": 0.01},
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
    prompt: dict | None = None  # prompted pipelines: suffix, strip, max_len (in-context encoding reuses them)


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
    max_len = lm.cfg.transformer.max_len if lm.cfg.arch == "transformer" else 10_000
    if spec.prompted:
        suffix, prepared.verbalizer_ids, strip = pretrained.prompt_suffix(task, vocab, lm.cfg.objective)
        prepared.prompt = {"suffix": suffix, "strip": strip, "max_len": max_len}
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
    if spec.prompted:
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
        return TRAIN_DEFAULTS["pretrained" if spec.mode == "finetune" else "prompt" if spec.prompted else spec.mode]
    return TRAIN_DEFAULTS[spec.encoder]


def run_point(prepared: Prepared, n: int, seed: int, device: str = "cpu", settings: dict | None = None) -> dict:
    """Train on the nested subset (n, seed), select on dev, evaluate on test and shifted test."""
    return run_points(prepared, [(n, seed)], device, settings, fused=False)[0]


def run_points(prepared: Prepared, points: list[tuple[int, int]], device: str = "cpu", settings: dict | None = None,
               fused: bool = True) -> list[dict]:
    """Several (n, seed) points of one pipeline. fused: train them as replicas of one fused model
    (core.fused, same results as one by one); else one after another with core.train.fit.
    tf-idf and zero-shot points have nothing to fuse and always run alone."""
    settings = settings or {}
    task = prepared.task
    results = [{"pipeline": prepared.spec.name, "task": task.name, "n": n, "seed": seed, "metrics": {}}
               for n, seed in points]
    pretraining = prepared.info.get("pretraining", {"method": "none", "seconds": 0.0})
    if prepared.spec.representation == "tfidf":
        for result in results:
            _run_tfidf(task, result)
    else:
        trained = [r for r in results if not (prepared.spec.mode == "icl" or (r["n"] == 0 and prepared.spec.prompted))]
        for result in results:
            if result not in trained:
                _run_without_training(prepared, result, device, settings)
        if trained:
            (_train_fused if fused and len(trained) > 1 else _train_one_by_one)(prepared, trained, device, settings)
    for result in results:
        result["pretraining"] = pretraining
    return results


def _run_tfidf(task: Task, result: dict) -> None:
    started = time.perf_counter()
    train_examples = [task.splits["train"][i] for i in subset(task, result["n"], result["seed"])]
    predict, c, dev_accuracy = fit_tfidf(task, train_examples, result["seed"])
    result["fit"] = {"C": c, "best_dev": dev_accuracy}
    for split in EVAL_SPLITS + ("dev",):
        if split in task.splits:
            result["metrics"][split] = score(task, task.splits[split], predict(task.splits[split]))
    result["seconds"] = time.perf_counter() - started


def _run_without_training(prepared: Prepared, result: dict, device: str, settings: dict) -> None:
    """Zero-shot (n = 0) and in-context points: the LM head scores the label words, no update."""
    started = time.perf_counter()
    torch.manual_seed(result["seed"])
    model = build_model(prepared, settings)
    demonstrations = _demonstrations(prepared, result["n"], result["seed"], settings.get("shots", DEFAULT_SHOTS))
    if demonstrations:
        prepared = _with_prefix(prepared, demonstrations)
        result["fit"] = {"steps": 0, "shots": len(demonstrations),
                         "note": "in-context: labeled examples written before each input, no training"}
    else:
        result["fit"] = {"steps": 0, "shots": 0, "note": "zero-shot: the LM head's verbalizer scores, no training"}
    _evaluate_all(prepared, model, result, device, _train_config(prepared, settings).precision)
    result["seconds"] = time.perf_counter() - started


DEFAULT_SHOTS = 4  # four micro-world reviews with their verdicts fill about half of a 256-token context


def _demonstrations(prepared: Prepared, n: int, seed: int, shots: int) -> list:
    """Up to `shots` of the point's n labeled examples, labels interleaved (a, b, a, b, ...) so that
    neither label is only at the end, where a causal LM would simply copy it."""
    if prepared.spec.mode != "icl" or n == 0:
        return []
    examples = [prepared.task.splits["train"][i] for i in subset(prepared.task, n, seed)]
    by_label = {label: [ex for ex in examples if ex.label == label] for label in prepared.task.labels}
    chosen = []
    for rank in range(len(examples)):
        for label in prepared.task.labels:
            if rank < len(by_label[label]) and len(chosen) < shots:
                chosen.append(by_label[label][rank])
    return chosen


def _with_prefix(prepared: Prepared, demonstrations: list) -> Prepared:
    """The evaluation splits re-encoded with the demonstrations (each: its words, the template,
    its label's answer words, the stripped full stop) before every input."""
    prompt, vocab, task = prepared.prompt, prepared.vocab, prepared.task
    answers = pretrained.demonstration_answers(task, vocab)
    prefix = []
    for ex in demonstrations:
        words = vocab.encode(ex.tokens)
        if prompt["strip"] is not None and words and words[-1] == prompt["strip"]:
            words = words[:-1]
        answer = answers[task.labels.index(ex.label)]
        prefix += words + prompt["suffix"] + answer + ([prompt["strip"]] if prompt["strip"] is not None else [])
    if len(prefix) > prompt["max_len"] // 2:
        raise WorkbenchError(f"{len(demonstrations)} in-context examples take {len(prefix)} tokens, more than half of "
                             f"the model's {prompt['max_len']}; ask for fewer with settings shots")
    encoded = {split: encode(examples, task.kind, vocab, task.labels, max_len=prompt["max_len"], suffix=prompt["suffix"],
                             strip_final=prompt["strip"], prefix=prefix)
               for split, examples in task.splits.items() if split != "train"}
    return replace(prepared, encoded=encoded)


def _train_config(prepared: Prepared, settings: dict) -> TrainConfig:
    return TrainConfig(**{**train_defaults(prepared.spec), **settings.get("train", {})})


def _evaluate_all(prepared: Prepared, model, result: dict, device: str, precision: str) -> None:
    task = prepared.task
    for split in EVAL_SPLITS + ("dev",):
        if split in task.splits:
            result["metrics"][split] = evaluate(model, prepared.encoded[split], task.splits[split], task, device, precision)


def _setup(prepared: Prepared, result: dict, settings: dict):
    """The point's model (seeded init) and its training items (the nested subset)."""
    torch.manual_seed(result["seed"])
    model = build_model(prepared, settings)
    chosen = subset(prepared.task, result["n"], result["seed"])
    return model, [prepared.encoded["train"][i] for i in chosen]


def _record_fit(result: dict, fitted, train_cfg: TrainConfig, seconds: float, replicas: int) -> None:
    result["fit"] = {"steps": fitted.steps, "best_step": fitted.best_step, "best_dev": fitted.best_dev,
                     "train_config": asdict(train_cfg), "fused_replicas": replicas}
    result["seconds"] = seconds


def _train_one_by_one(prepared: Prepared, results: list[dict], device: str, settings: dict) -> None:
    task, train_cfg = prepared.task, _train_config(prepared, settings)
    for result in results:
        started = time.perf_counter()
        model, train_items = _setup(prepared, result, settings)
        fitted = fit(model, train_items, prepared.encoded["dev"], task.splits["dev"], task, train_cfg, result["seed"], device)
        _evaluate_all(prepared, model, result, device, train_cfg.precision)
        _record_fit(result, fitted, train_cfg, time.perf_counter() - started, 1)


def _train_fused(prepared: Prepared, results: list[dict], device: str, settings: dict) -> None:
    task, train_cfg = prepared.task, _train_config(prepared, settings)
    started = time.perf_counter()
    models, trains = zip(*(_setup(prepared, result, settings) for result in results))
    fitted = fit_fused(list(models), list(trains), [r["seed"] for r in results], prepared.encoded["dev"],
                       task.splits["dev"], task, train_cfg, device)
    stack = ReplicaStack(list(models), device)
    for split in EVAL_SPLITS + ("dev",):
        if split in task.splits:
            for result, predictions in zip(results, predict_fused(stack, prepared.encoded[split], train_cfg.precision)):
                result["metrics"][split] = score(task, task.splits[split], predictions)
    seconds = (time.perf_counter() - started) / len(results)  # the group's wall time, shared evenly
    for result, one in zip(results, fitted):
        _record_fit(result, one, train_cfg, seconds, len(results))
