"""A transformers checkpoint as a pipeline (`hf:PATH`): a BERT, RoBERTa, GPT-2 or DistilBERT model
from a local folder (what `save_pretrained` writes: config.json, the weights, the tokenizer's files),
fine-tuned under the workbench's own heads, training loop, nested subsets, dev selection and report,
so that a real BERT-base can join a comparison as the 2018 line. Nothing is downloaded: every load
is `local_files_only`.

transformers is an optional extra (`pip install '.[hf]'`), imported inside this family's methods, so
the CLI and every other pipeline work without it.

The checkpoint reads the task through its OWN tokenizer, not the corpus vocabulary: each example's
words (`Example.tokens`) go in as pre-split words (`is_split_into_words`; the byte-level BPEs of GPT-2
and RoBERTa with `add_prefix_space`, so each word reads as it does after a space in running text),
with the tokenizer's special tokens, cut at min(256, the model's positions). Tagging: a word's tag
sits on its first sub-token and IGNORE on the rest; the head trains and predicts there
(WordTaggingHead), so predictions come back one per word, as the metrics expect.

Never fused: the fused core (core.fused) stacks K replicas' parameters and calls the model through
torch.func's vmap over functional_call, which the workbench's own layers are written for (their
attention folds the replica axis, the LSTM has its own recurrence); a transformers model builds its
masks with data-dependent Python branches and its own attention dispatch, which vmap does not trace
in general. `group_size` is 1 and `run` trains one configuration after another.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from workbench.core.batching import IGNORE, Batch, Encoded
from workbench.core.train import TrainConfig
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Task
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.heads import POOLS, TaggingHead, TaskModel
from workbench.pipelines import HF_FAMILIES, PipelineSpec
from workbench.pipelines.base import Prepared, split_parameters
from workbench.pipelines.neural import NeuralPipeline, head_for
from workbench.pipelines.settings import check_names, table, value
from workbench.pipelines.tuning import TUNING_GRID, Protocol

MAX_TOKENS = 256  # sub-tokens per example at most (and never more than the model has positions)
# what a classification head reads: the first token ([CLS], <s>) for the bidirectional encoders, the
# last real token for GPT-2 (the only one that has read the whole input)
POOL_DEFAULTS = {"bert": "first", "roberta": "first", "distilbert": "first", "gpt2": "last"}
PREFIX_SPACE = ("gpt2", "roberta")  # byte-level BPEs: split words need add_prefix_space
NO_POOLER = ("bert", "roberta")  # base models that carry a pooler (next-sentence prediction) no head reads
LAYERS = {"bert": "encoder.layer", "roberta": "encoder.layer", "distilbert": "transformer.layer", "gpt2": "h"}
EMBEDDINGS = {
    "bert": ("embeddings",),
    "roberta": ("embeddings",),
    "distilbert": ("embeddings",),
    "gpt2": ("wte", "wpe"),
}


def import_transformers(name: str):
    """transformers, or a one-line WorkbenchError saying how to install the extra."""
    try:
        import transformers  # noqa: PLC0415 (the optional hf extra: only hf:PATH pipelines need it)
    except ImportError:
        raise WorkbenchError(f"{name} needs the transformers extra: pip install '.[hf]'") from None
    return transformers


@contextlib.contextmanager
def quiet(transformers):
    """transformers' own notices off while loading (the pooler or LM-head weights a base model leaves
    unread, its load report and progress bars); missing weights are checked here instead."""
    log = transformers.utils.logging
    level, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()
    log.disable_progress_bar()
    try:
        yield
    finally:
        log.set_verbosity(level)
        if bars:
            log.enable_progress_bar()


def base_model_options(model_type: str) -> dict:
    """AutoModel's options for the base model a head reads: without the pooler it would carry unread."""
    return {"add_pooling_layer": False} if model_type in NO_POOLER else {}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def checkpoint_folder(spec: PipelineSpec) -> tuple[Path, str]:
    """(the checkpoint's folder, its model_type), or a one-line WorkbenchError naming the path and what to do."""
    folder = Path(spec.path).expanduser()
    where = f"{spec.name}: {folder}"
    if not folder.is_dir():
        raise WorkbenchError(
            f"{where} is not a folder; give a local folder that holds a transformers checkpoint "
            f"(config.json, weights, tokenizer files, as save_pretrained writes them): nothing is downloaded"
        )
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise WorkbenchError(
            f"{where} has no config.json, so it is not a transformers checkpoint; save the model and its "
            f"tokenizer there with save_pretrained"
        )
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise WorkbenchError(f"{where}: config.json cannot be read ({_first_line(exc)}); save it again") from None
    if model_type not in HF_FAMILIES:
        raise WorkbenchError(
            f"{where} holds a {model_type or 'model without a model_type'}: hf:PATH fine-tunes "
            f"{', '.join(HF_FAMILIES)} checkpoints only"
        )
    return folder.resolve(), model_type


def max_tokens(config, tokenizer) -> int:
    """Sub-tokens per example: MAX_TOKENS, the model's positions and the tokenizer's limit, whichever is least."""
    positions = config.max_position_embeddings  # GPT-2's n_positions under its common name
    if config.model_type == "roberta":  # RoBERTa numbers positions from pad_token_id + 1
        positions -= config.pad_token_id + 1
    limit = tokenizer.model_max_length if tokenizer.model_max_length < 1_000_000 else positions  # unset: huge
    return min(MAX_TOKENS, positions, limit)


def encode_words(tokenizer, task: Task, max_len: int) -> tuple[dict[str, list[Encoded]], dict]:
    """The task's splits in the checkpoint's own sub-tokens, and what the tokenizer made of the words.

    A word the tokenizer turns into no piece at all (an empty string; a zero-width space BERT's
    normaliser deletes) is read as the unknown token instead, so every word keeps its position
    (a tag per word). Tagging: the word's tag on its first sub-token, IGNORE on the rest and on the
    special tokens; in the evaluation splits a tag the train split never shows is written as 0 only to
    mark the word's place (scoring reads the examples' own tags, and no loss is taken there)."""
    unknown_word = tokenizer.unk_token or "?"
    fallback = next(
        i for i in (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, 0) if i is not None
    )
    label_index = {label: i for i, label in enumerate(task.labels)}
    counts = {"words": 0, "one_piece": 0, "pieces": 0, "unknown": 0, "emptied": 0, "cut": 0, "examples": 0}
    encoded, oov = {}, {}
    for split, examples in task.splits.items():
        words = [list(ex.tokens) for ex in examples]
        batch = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_len)
        items, unknown_words, split_words = [], 0, 0
        for i, ex in enumerate(examples):
            ids, word_ids = batch["input_ids"][i], batch.word_ids(i)
            seen = {w for w in word_ids if w is not None}
            last = max(seen, default=-1)
            if len(ids) < max_len:  # not cut: every word should be there
                last = len(words[i]) - 1
            emptied = [w for w in range(last + 1) if w not in seen]
            if emptied:
                counts["emptied"] += len(emptied)
                words[i] = [unknown_word if w in emptied else word for w, word in enumerate(words[i])]
                again = tokenizer([words[i]], is_split_into_words=True, truncation=True, max_length=max_len)
                ids, word_ids = again["input_ids"][0], again.word_ids(0)
            ids = ids or [fallback]  # a tokenizer without special tokens and an empty example
            pieces, first = {}, {}  # word -> its pieces' ids, the position of its first piece
            for position, w in enumerate(word_ids):
                if w is not None:
                    pieces.setdefault(w, []).append(ids[position])
                    first.setdefault(w, position)
            counts["cut"] += max(pieces, default=-1) < len(words[i]) - 1
            counts["examples"] += 1
            for word_pieces in pieces.values():
                counts["words"] += 1
                counts["pieces"] += len(word_pieces)
                counts["one_piece"] += len(word_pieces) == 1
                unknown = tokenizer.unk_token_id is not None and tokenizer.unk_token_id in word_pieces
                counts["unknown"] += unknown
                unknown_words += unknown
            split_words += len(pieces)
            if task.kind == CLASSIFICATION:
                items.append(Encoded(ids, label=label_index[ex.label]))
            else:
                tags = [IGNORE] * len(ids)
                for w, position in first.items():
                    tags[position] = label_index.get(ex.tags[w], 0)
                items.append(Encoded(ids, tags=tags))
        encoded[split] = items
        oov[split] = unknown_words / max(1, split_words)
    return encoded, {"counts": counts, "oov": oov}


def coverage_text(tokenizer, counts: dict) -> str:
    """How the checkpoint's tokenizer reads the task's words (every split), for the report's coverage column."""
    words = max(1, counts["words"])
    text = (
        f"own tokenizer ({type(tokenizer).__name__}, {len(tokenizer):,} pieces): "
        f"{counts['one_piece'] / words:.1%} of the task's words are one piece, "
        f"{counts['pieces'] / words:.2f} pieces per word, {counts['unknown'] / words:.1%} unknown"
    )
    if counts["emptied"]:
        text += f"; {counts['emptied']} words it reads as nothing taken as unknown"
    if counts["cut"]:
        text += f"; {counts['cut']} of {counts['examples']} examples cut"
    return text


class HFEncoder(nn.Module):
    """(ids, pad_mask) -> the base model's last hidden states [B, T, d] (the TaskModel's embed passes the
    ids through). Padded positions get the checkpoint's own pad id (collate pads with 0, which is a real
    token in GPT-2 and RoBERTa; RoBERTa numbers its positions from the pad id) and the attention mask,
    so the real tokens' states are those of the unpadded input."""

    def __init__(self, model: nn.Module, model_type: str, pad_id: int):
        super().__init__()
        self.model = model
        self.model_type = model_type
        self.pad_id = pad_id
        self.output_dim = model.config.hidden_size

    def forward(self, ids: torch.Tensor, pad_mask: torch.Tensor, mask=None) -> torch.Tensor:
        ids = ids.masked_fill(~pad_mask, self.pad_id)
        return self.model(input_ids=ids, attention_mask=pad_mask.long()).last_hidden_state

    # what TaskModel.parameter_groups reads for layer-wise learning-rate decay (`train.layer_decay`):
    # properties, not registered submodules, so no weight is held or saved twice
    @property
    def blocks(self) -> nn.ModuleList:
        return self.model.get_submodule(LAYERS[self.model_type])

    @property
    def positions(self) -> nn.ModuleList:
        """The embeddings (tokens, positions, their norm): the bottom group, which decays most."""
        return nn.ModuleList([self.model.get_submodule(name) for name in EMBEDDINGS[self.model_type]])


class WordTaggingHead(TaggingHead):
    """A tag per word: trained and read at each word's first sub-token, the positions whose encoded tag
    is not IGNORE (encode_words puts one there for every word, in every split)."""

    def predict(self, logits: torch.Tensor, batch: Batch) -> list[list[int]]:
        best = logits.argmax(-1)
        starts = batch.tags != IGNORE
        return [row[keep].tolist() for row, keep in zip(best, starts)]


@dataclass(kw_only=True)
class HFPrepared(Prepared):
    model_type: str
    config: dict  # the checkpoint's config (to_dict), to build a fresh model per point
    backbone_state: dict  # the weights every point starts from, float32
    pad_id: int
    pool: str  # the classification head's pool (settings, or POOL_DEFAULTS for the architecture)


class HFPipeline(NeuralPipeline):
    """`hf:PATH`: a local transformers checkpoint (BERT, RoBERTa, GPT-2, DistilBERT) under a head.

    Settings: `train` (TrainConfig fields over the recipe in tuning.TUNING_GRID["hf"]); `pool` (how a
    classification head reduces the sequence; default: first for the encoders, last for GPT-2).
    """

    uses_vocab = False  # the checkpoint's own tokenizer reads the task

    def __init__(self, spec: PipelineSpec, settings: dict):
        super().__init__(spec)
        check_names(spec.name, settings, ("train", "pool"))
        self.recipe = TUNING_GRID["hf"]
        self.training = table(spec.name, "train", TrainConfig, settings.get("train", {}), self.recipe.train)
        self.pool = value(spec.name, settings, "pool", str, None, POOLS)  # None: the architecture's default

    @classmethod
    def handles(cls, spec: PipelineSpec) -> bool:
        return spec.representation == "hf"

    def prepare(
        self,
        task: Task,
        corpus_name: str,
        vocab: Vocabulary | None,
        device: str,
        *,
        progress: bool = False,
        assume_yes: bool = False,
    ) -> HFPrepared:
        """The checkpoint's config, tokenizer and weights read from its folder (no download), and the task's
        splits in its sub-tokens. `corpus_name`, `vocab`: unused (nothing here is pretrained on the corpus)."""
        if task.kind == SPAN:
            raise WorkbenchError(
                f"{self.name}: span tasks ({task.name}) are not supported for transformers checkpoints yet; "
                f"use a classification or tagging task"
            )
        folder, model_type = checkpoint_folder(self.spec)
        transformers = import_transformers(self.name)
        where = f"{self.name}: {folder}"
        with quiet(transformers):
            try:
                config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
            except Exception as exc:  # transformers raises OSError, ValueError, KeyError, ... for a bad folder
                raise WorkbenchError(f"{where}: transformers cannot read its config ({_first_line(exc)})") from None
            options = {"add_prefix_space": True} if model_type in PREFIX_SPACE else {}
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True, **options)
            except Exception as exc:
                raise WorkbenchError(
                    f"{where}: transformers cannot read a tokenizer there ({_first_line(exc)}); save the "
                    f"checkpoint's tokenizer beside it (tokenizer.save_pretrained)"
                ) from None
            if not tokenizer.is_fast:
                raise WorkbenchError(
                    f"{where}: its tokenizer loads only as a slow (Python) tokenizer, which cannot map sub-tokens "
                    f"to words; save a fast one there (tokenizer.json)"
                )
            try:
                model, loading = transformers.AutoModel.from_pretrained(
                    folder, local_files_only=True, output_loading_info=True, **base_model_options(model_type)
                )
            except Exception as exc:
                raise WorkbenchError(f"{where}: transformers cannot read its weights ({_first_line(exc)})") from None
        missing = sorted(loading.get("missing_keys") or [])
        if missing:
            raise WorkbenchError(
                f"{where}: the checkpoint lacks {len(missing)} of the {model_type} model's weights "
                f"(e.g. {missing[0]}), which would start at random; save the whole model there"
            )
        model = model.float()
        max_len = max_tokens(config, tokenizer)
        encoded, read = encode_words(tokenizer, task, max_len)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        info = {
            "pretraining": {
                "method": f"transformers checkpoint ({model_type})",
                "folder": str(folder),
                "parameters": sum(p.numel() for p in model.parameters()),
                "seconds": 0.0,
            },
            "coverage": coverage_text(tokenizer, read["counts"]),
            "oov": read["oov"],  # share of each split's words with an unknown piece
            "max_tokens": max_len,
        }
        return HFPrepared(
            pipeline=self,
            task=task,
            corpus_name=corpus_name,
            encoded=encoded,
            info=info,
            model_type=model_type,
            config=config.to_dict(),
            backbone_state={k: v.clone() for k, v in model.state_dict().items()},
            pad_id=pad_id,
            pool=self.pool or POOL_DEFAULTS[model_type],
        )

    def build_model(self, prepared: HFPrepared) -> TaskModel:
        transformers = import_transformers(self.name)
        config = transformers.AutoConfig.for_model(**prepared.config)
        config.use_cache = False  # GPT-2 would otherwise keep every layer's keys and values for generation
        with quiet(transformers):
            model = transformers.AutoModel.from_config(config, **base_model_options(prepared.model_type)).float()
        model.load_state_dict(prepared.backbone_state)
        encoder = HFEncoder(model, prepared.model_type, prepared.pad_id)
        if prepared.task.kind == TAGGING:
            head = WordTaggingHead(encoder.output_dim, len(prepared.task.labels))
        else:
            head = head_for(prepared.task, encoder.output_dim, prepared.pool)
        return TaskModel(nn.Identity(), encoder, head)

    def train_config(self) -> TrainConfig:
        return self.training

    def parameter_counts(self, prepared: HFPrepared) -> dict:
        """Pretrained: the whole checkpoint (embeddings and layers); the task head learns from the labels."""
        model = self.build_model(prepared)
        return split_parameters(model, [model.encoder])

    def group_size(self, prepared: Prepared, fuse: str, device: str) -> int:
        return 1  # not fused: see the module's docstring

    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool, protocol: Protocol) -> None:
        super().run(prepared, results, device, False, protocol)  # one run after another, whatever was asked
