"""The modern paradigm: a whole pretrained language model under the shared heads.

The backbone (token embedding + encoder) comes from `workbench pretrain`: a folder given
explicitly, the checkpoint shipped in the package (workbench/shipped/) for the embedded default, or the
artifact cache (pretrained on first use). `scratch-transformer` is the same backbone with
random weights: the control that isolates what pretraining adds.

Prompt mode (PET, Schick & Schuetze 2021) reuses the LM head: the task sentence is followed by
a template ("i gave it" + a slot), and the class scores are the LM's scores for each label's
verbalizer words at the slot.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from workbench.core.batching import encode
from workbench.core.kernels import cross_entropy
from workbench.core.train import TrainConfig
from workbench.data.subsets import subset
from workbench.data.types import CLASSIFICATION, Task
from workbench.data.vocab import Vocabulary, task_oov_rates
from workbench.errors import WorkbenchError
from workbench.models.heads import POOLS, TaskModel
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pipelines import PRETRAINED, PipelineSpec
from workbench.pipelines.base import Prepared, split_parameters
from workbench.pipelines.neural import NeuralPipeline, compact, head_for
from workbench.pipelines.settings import check_names, table, value
from workbench.pipelines.tuning import TUNING_GRID
from workbench.pretrain import PretrainConfig, PretrainOptions, load_model, pretrain_cached, record_for
from workbench.pretrain.folder import read_config
from workbench.pretrain.presets import CORPUS_DEFAULTS, preset_options

# the package's own files, wherever it is installed (pip installs a package unpacked: a folder)
SHIPPED = Path(str(resources.files("workbench.shipped")))
OBJECTIVE_OF = {"mlm": "mlm", "clm": "clm", "plm": "plm", "lstm-lm": "clm", "scratch-transformer": "mlm"}
POOL_DEFAULTS = {"mlm": "mean", "plm": "mean", "scratch-transformer": "mean", "clm": "last", "lstm-lm": "last"}
DEFAULT_SHOTS = 4  # four micro-world reviews with their verdicts fill about half of a 256-token context


@dataclass(frozen=True)
class PromptTemplate:
    """Words appended after the example (its final `strip` token removed first), then a slot
    whose LM scores for each label's words decide."""

    template: tuple[str, ...]
    verbalizers: dict  # label -> tuple of words
    strip: str | None = None
    answers: dict | None = (
        None  # label -> how an in-context example's answer is written (default: its first verbalizer)
    )


PROMPTS = {
    # In the micro-world's reviews a clause is often followed by its consequence ("the soup was not
    # bad at all , so we came back ."): the most local evidence of a clause's meaning a LM can learn.
    "micro-sentiment": PromptTemplate(
        (",", "so", "we"),
        {
            "positive": ("came", "stayed", "ordered", "watched", "booked"),
            "negative": ("left", "asked", "sent", "walked", "checked", "went"),
        },
        strip=".",
        answers={"positive": ("came", "back"), "negative": ("left", "early")},
    ),
    "sst2": PromptTemplate(("it", "was"), {"1": ("great", "good"), "0": ("terrible", "bad")}),
}


def lm_config(pipeline: str, settings: dict | None = None) -> tuple[LMConfig, PretrainConfig]:
    """The default backbone of `pipeline` on the settings' corpus: the corpus's preset for it where it names one
    (CORPUS_DEFAULTS: the model that ships), else the configs `workbench pretrain` uses without options; the
    settings' `steps` over either."""
    settings = settings or {}
    corpus = settings.get("corpus", PretrainOptions.corpus)
    preset = CORPUS_DEFAULTS.get(corpus, {}).get(pipeline)
    if preset is not None:
        options = preset_options(preset)
    else:
        options = PretrainOptions(
            objective=OBJECTIVE_OF[pipeline], arch="lstm" if pipeline == "lstm-lm" else "transformer", corpus=corpus
        )
    return replace(options, steps=settings.get("steps", options.steps)).configs()


def shipped_folder(pipeline: str, corpus_name: str, vocab: Vocabulary, settings: dict) -> Path | None:
    """The checkpoint shipped in the package (SHIPPED), if it is exactly the default model for this corpus and vocabulary."""
    folder = SHIPPED / f"{corpus_name}-{pipeline}"
    if not (folder / "model.safetensors").is_file():
        return None
    model_cfg, cfg = lm_config(pipeline, {"corpus": corpus_name, **settings})
    model_cfg.vocab_size = len(vocab)
    meta = read_config(folder)
    same = (
        meta.get("model") == model_cfg.to_dict()
        and meta.get("pretrain") == asdict(cfg)
        and meta.get("vocab_fingerprint") == vocab.fingerprint()
    )
    return folder if same else None


def shipped_backbones() -> list[str]:
    """The shipped checkpoints' folder names (CORPUS-PIPELINE), for the notice before a CPU pretraining."""
    return sorted(entry.name for entry in SHIPPED.iterdir() if (entry / "model.safetensors").is_file())


def load_backbone(
    spec: PipelineSpec,
    corpus_name: str,
    vocab: Vocabulary,
    settings: dict,
    device: str = "cpu",
    progress: bool = False,
    assume_yes: bool = False,
) -> tuple[LanguageModel, dict]:
    """(language model, info about its pretraining: folder, tokens, FLOPs, seconds). Pretrains it (into the
    artifact cache) when neither given, shipped nor cached: a long CPU pretraining asks first at a terminal,
    unless `assume_yes`."""
    if spec.representation == "scratch-transformer":
        model_cfg, _ = lm_config("scratch-transformer", {"corpus": corpus_name})
        model_cfg.vocab_size = len(vocab)
        torch.manual_seed(0)
        return LanguageModel(model_cfg), {"method": "none (random weights)", "tokens": 0, "flops": 0.0, "seconds": 0.0}
    folder = settings.get("backbone")
    checkpoint = settings.get("checkpoint", "model.safetensors")
    if folder is None:
        folder = shipped_folder(spec.representation, corpus_name, vocab, settings)
    if folder is None:  # the default for the run's corpus, as `workbench pretrain --corpus CORPUS` trains it
        model_cfg, cfg = lm_config(spec.representation, {"corpus": corpus_name, **settings})
        folder, _ = pretrain_cached(
            model_cfg,
            cfg,
            corpus_name,
            device=device,
            progress=progress,
            vocab=vocab,
            ask=not assume_yes,
            shipped=shipped_backbones(),
        )
    model, _, meta = load_model(folder, expected_vocab=vocab, checkpoint=checkpoint)
    record = record_for(folder, checkpoint)
    info = {
        "method": spec.representation,
        "folder": str(folder),
        "checkpoint": checkpoint,
        "tokens": record.get("tokens"),
        "flops": record.get("flops"),
        "seconds": record.get("seconds"),
        "val_loss": record.get("val_loss"),
    }
    return model, info


class PromptHead(nn.Module):
    """Class scores = log-sum-exp of the LM head's logits for each label's verbalizer words at the slot
    (the last real position: the [mask] for MLM/PLM, the position before the next word for a CLM)."""

    def __init__(self, lm_head: nn.Linear, verbalizer_ids: list[list[int]]):
        super().__init__()
        self.lm_head = lm_head
        self.verbalizer_ids = verbalizer_ids

    def forward(self, states, batch):
        last = batch.pad_mask.sum(1) - 1
        slot = states[torch.arange(states.shape[0], device=states.device), last]
        vocab_logits = self.lm_head(slot).log_softmax(-1)
        return torch.stack([vocab_logits[:, ids].logsumexp(-1) for ids in self.verbalizer_ids], dim=-1)

    def loss(self, logits, batch):
        return cross_entropy(logits, batch.labels)

    def predict(self, logits, batch):
        return logits.argmax(-1).tolist()


class QueryStreamEncoder(nn.Module):
    """PLM prompting: the slot is read from the query stream, which sees every other position but not itself."""

    def __init__(self, lm: LanguageModel):
        super().__init__()
        self.lm = lm
        self.output_dim = lm.encoder.output_dim

    def forward(self, vectors, pad_mask, mask=None):
        b, t = pad_mask.shape
        eye = torch.eye(t, dtype=torch.bool, device=pad_mask.device)
        content = (pad_mask[:, None, :] | eye)[:, None]
        query = ((pad_mask[:, None, :] & ~eye) | (eye & ~pad_mask[:, :, None]))[:, None]
        return self.lm.encoder.two_stream(vectors, self.lm.query_init, content, query)


def demonstration_answers(task: Task, vocab: Vocabulary) -> list[list[int]]:
    """Per label (task.labels order), the ids an in-context example's answer is written with."""
    prompt = PROMPTS[task.name]
    return [vocab.encode((prompt.answers or {}).get(label, prompt.verbalizers[label][:1])) for label in task.labels]


def prompt_suffix(task: Task, vocab: Vocabulary, objective: str) -> tuple[list[int], list[list[int]], int | None]:
    """(suffix ids appended after each example, verbalizer ids per label in task.labels order,
    id of a final token to strip from each example first)."""
    if task.kind != CLASSIFICATION or task.name not in PROMPTS:
        raise WorkbenchError(
            f"prompt mode needs a classification task with a prompt template ({', '.join(PROMPTS)}); "
            f"{task.name} has none: use the pipeline without :prompt"
        )
    prompt = PROMPTS[task.name]
    missing = [w for w in prompt.template + sum(prompt.verbalizers.values(), ()) if w not in vocab]
    if missing:
        raise WorkbenchError(f"prompt words {missing} are not in the corpus vocabulary; prompt mode cannot score them")
    suffix = vocab.encode(prompt.template) + ([vocab.mask_id] if objective in ("mlm", "plm") else [])
    strip = vocab.encode([prompt.strip])[0] if prompt.strip else None
    return suffix, [vocab.encode(prompt.verbalizers[label]) for label in task.labels], strip


@dataclass(kw_only=True)
class PretrainedPrepared(Prepared):
    vocab: Vocabulary
    backbone_state: dict  # the weights every point starts from
    backbone_config: LMConfig
    verbalizer_ids: list | None = None  # prompted: per label, its verbalizer words' ids
    prompt: dict | None = None  # prompted: suffix, strip, max_len (in-context encoding reuses them)


class PretrainedPipeline(NeuralPipeline):
    """`MODEL[:probe|:prompt|:icl]`: a whole pretrained language model (or the scratch control) under a head.

    Settings: `train` (TrainConfig fields over the recipe in tuning.TUNING_GRID); `pool` (fine-tuned
    and probed); `shots` (:icl); `backbone`, `checkpoint`, `steps`, `corpus` (which pretrained model:
    see load_backbone, lm_config).
    """

    def __init__(self, spec: PipelineSpec, settings: dict):
        super().__init__(spec)
        scratch = spec.representation == "scratch-transformer"
        known = ["train"] + ([] if self.prompted else ["pool"]) + (["shots"] if spec.mode == "icl" else [])
        known += [] if scratch else ["backbone", "checkpoint", "steps", "corpus"]
        check_names(spec.name, settings, known)
        self.recipe = TUNING_GRID["scratch" if scratch else "prompt" if self.prompted else spec.mode]
        self.training = table(spec.name, "train", TrainConfig, settings.get("train", {}), self.recipe.train)
        self.pool = value(spec.name, settings, "pool", str, POOL_DEFAULTS[spec.representation], POOLS)
        self.shots = value(spec.name, settings, "shots", int, DEFAULT_SHOTS)
        if self.shots < 1:
            raise WorkbenchError(f"settings for {spec.name}, shots = {self.shots}: give a positive number of examples")
        # which pretrained model, as load_backbone and lm_config read it (only the keys given)
        self.backbone_settings = {
            key: value(spec.name, settings, key, kind)
            for key, kind in (("backbone", str), ("checkpoint", str), ("steps", int), ("corpus", str))
            if key in settings
        }

    @property
    def prompted(self) -> bool:
        """Classifies through the LM head with verbalizer words (prompt and in-context modes)."""
        return self.spec.mode in ("prompt", "icl")

    @classmethod
    def handles(cls, spec: PipelineSpec) -> bool:
        return spec.representation in PRETRAINED

    def prepare(
        self,
        task: Task,
        corpus_name: str,
        vocab: Vocabulary,
        device: str,
        *,
        progress: bool = False,
        assume_yes: bool = False,
    ) -> PretrainedPrepared:
        info = {"oov": task_oov_rates(vocab, task)}
        lm, info["pretraining"] = load_backbone(
            self.spec, corpus_name, vocab, self.backbone_settings, device, progress, assume_yes
        )
        state = {k: v.clone() for k, v in lm.state_dict().items()}
        suffix = strip = verbalizer_ids = prompt = None
        max_len = lm.cfg.transformer.max_len if lm.cfg.arch == "transformer" else 10_000
        if self.prompted:
            suffix, verbalizer_ids, strip = prompt_suffix(task, vocab, lm.cfg.objective)
            prompt = {"suffix": suffix, "strip": strip, "max_len": max_len}
        encoded = {
            split: encode(examples, task.kind, vocab, task.labels, max_len=max_len, suffix=suffix, strip_final=strip)
            for split, examples in task.splits.items()
        }
        rows, encoded = (None, encoded) if self.prompted else compact(encoded)
        return PretrainedPrepared(
            pipeline=self,
            task=task,
            corpus_name=corpus_name,
            encoded=encoded,
            info=info,
            rows=rows,
            vocab=vocab,
            backbone_state=state,
            backbone_config=lm.cfg,
            verbalizer_ids=verbalizer_ids,
            prompt=prompt,
        )

    def build_model(self, prepared: PretrainedPrepared) -> TaskModel:
        lm = LanguageModel(prepared.backbone_config)
        lm.load_state_dict(prepared.backbone_state)
        if self.prompted:
            encoder = QueryStreamEncoder(lm) if lm.cfg.objective == "plm" else lm.encoder
            return TaskModel(lm.embed, encoder, PromptHead(lm.head, prepared.verbalizer_ids))
        if self.spec.mode == "probe":
            for parameter in list(lm.embed.parameters()) + list(lm.encoder.parameters()):
                parameter.requires_grad = False
        return TaskModel(lm.embed, lm.encoder, head_for(prepared.task, lm.encoder.output_dim, self.pool))

    def train_config(self) -> TrainConfig:
        return self.training

    def parameter_counts(self, prepared: PretrainedPrepared) -> dict:
        """Pretrained: the token embedding and the encoder, and in prompt and in-context modes the LM head
        that scores the verbalizers; the task head learns from the labels. The scratch control: nothing."""
        model = self.build_model(prepared)
        if self.spec.representation == "scratch-transformer":
            return split_parameters(model, [])
        return split_parameters(model, [model.embed, model.encoder] + ([model.head] if self.prompted else []))

    def trains(self, n: int) -> bool:
        return not (self.spec.mode == "icl" or (n == 0 and self.prompted))

    def untrained_inputs(self, prepared: PretrainedPrepared, n: int, seed: int) -> tuple[dict, dict]:
        demonstrations = self.demonstrations(prepared, n, seed)
        if demonstrations:
            note = "in-context: labeled examples written before each input, no training"
            return _with_prefix(prepared, demonstrations), {"steps": 0, "shots": len(demonstrations), "note": note}
        note = "zero-shot: the LM head's verbalizer scores, no training"
        return prepared.encoded, {"steps": 0, "shots": 0, "note": note}

    def demonstrations(self, prepared: PretrainedPrepared, n: int, seed: int) -> list:
        """Up to `shots` of the point's n labeled examples, labels interleaved (a, b, a, b, ...) so that
        neither label is only at the end, where a causal LM would simply copy it."""
        if self.spec.mode != "icl" or n == 0:
            return []
        task = prepared.task
        examples = [task.splits["train"][i] for i in subset(task, n, seed)]
        by_label = {label: [ex for ex in examples if ex.label == label] for label in task.labels}
        chosen = []
        for rank in range(len(examples)):
            for label in task.labels:
                if rank < len(by_label[label]) and len(chosen) < self.shots:
                    chosen.append(by_label[label][rank])
        return chosen

    @property
    def budgets(self) -> bool:
        return self.spec.representation != "scratch-transformer"

    def budget_checkpoints(self, prepared: PretrainedPrepared) -> list[dict]:
        """The log-spaced checkpoints the backbone's folder kept, with the FLOPs spent at each."""
        folder = prepared.info["pretraining"].get("folder")
        log = Path(folder) / "log.jsonl" if folder else None
        if not log or not log.exists():
            return []
        records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return [r for r in records if r.get("checkpoint") and (Path(folder) / r["checkpoint"]).is_file()]

    def at_checkpoint(self, prepared: PretrainedPrepared, checkpoint: str) -> PretrainedPipeline:
        other = copy.copy(self)
        folder = prepared.info["pretraining"]["folder"]
        other.backbone_settings = {**self.backbone_settings, "backbone": folder, "checkpoint": checkpoint}
        return other


def _with_prefix(prepared: PretrainedPrepared, demonstrations: list) -> dict:
    """The evaluation splits re-encoded with the demonstrations (each: its words, the template,
    its label's answer words, the stripped full stop) before every input."""
    prompt, vocab, task = prepared.prompt, prepared.vocab, prepared.task
    answers = demonstration_answers(task, vocab)
    prefix = []
    for ex in demonstrations:
        words = vocab.encode(ex.tokens)
        if prompt["strip"] is not None and words and words[-1] == prompt["strip"]:
            words = words[:-1]
        answer = answers[task.labels.index(ex.label)]
        prefix += words + prompt["suffix"] + answer + ([prompt["strip"]] if prompt["strip"] is not None else [])
    if len(prefix) > prompt["max_len"] // 2:
        raise WorkbenchError(
            f"{len(demonstrations)} in-context examples take {len(prefix)} tokens, more than half of "
            f"the model's {prompt['max_len']}; ask for fewer with settings shots"
        )
    return {
        split: encode(
            examples,
            task.kind,
            vocab,
            task.labels,
            max_len=prompt["max_len"],
            suffix=prompt["suffix"],
            strip_final=prompt["strip"],
            prefix=prefix,
        )
        for split, examples in task.splits.items()
        if split != "train"
    }
