"""Named pipelines: what is pretrained, which encoder contextualizes, which head reads out.

Names are regular:
- static (circa 2017): `REPRESENTATION+ENCODER[:frozen]`, e.g. `word2vec+lstm`, `glove+lstm:frozen`,
  `random+transformer`; `:frozen` keeps the vectors fixed;
- pretrained whole models: `mlm`, `clm`, `plm`, `lstm-lm`, and the control `scratch-transformer`
  (the same backbone with random weights), optionally `:probe` (frozen backbone, a linear
  head: linear probing) or `:prompt` (PET-style: classify through the LM head with verbalizer
  words; n = 0 is zero-shot), or, for the causal LMs (`clm`, `lstm-lm`), `:icl`: in-context
  learning, no training: up to `shots` of the n labeled examples, with their verbalizer word,
  are written before each input and the LM head scores the label words after it;
- `tfidf`, the classical anchor (classification only);
- `hf:PATH`, a transformers checkpoint from a local folder (BERT, RoBERTa, GPT-2, DistilBERT) fine-tuned
  under the same heads and loop with its own tokenizer (the optional `hf` extra); PATH is everything
  after `hf:`, so it takes no mode.

This module is the name grammar only (cheap to import: the CLI lists the names in its help).
Each family (static.py, pretrained.py, tfidf.py, hf.py) implements the contract in base.py;
registry.py builds the family for a name with its settings checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError

STATIC_REPRESENTATIONS = ("random", "word2vec", "fasttext", "glove")
ENCODERS = ("lstm", "transformer")
CLASSICAL = ("tfidf",)
PRETRAINED = ("mlm", "clm", "plm", "lstm-lm", "scratch-transformer")
PRETRAINED_MODES = ("finetune", "probe", "prompt", "icl")
CAUSAL = ("clm", "lstm-lm")
HF_PREFIX = "hf:"  # hf:PATH, a local transformers checkpoint (open-ended: not in pipeline_names)
HF_FAMILIES = ("bert", "roberta", "gpt2", "distilbert")  # the model_types an hf:PATH checkpoint may have


@dataclass(frozen=True)
class PipelineSpec:
    """A parsed pipeline name; `pipelines.registry` maps it to its family (which reads these fields)."""

    name: str
    representation: str
    encoder: str | None = None
    frozen: bool = False
    mode: str = "finetune"  # pretrained pipelines: finetune, probe, prompt or icl
    path: str | None = None  # hf:PATH: the checkpoint's folder as given (~ not yet expanded)


def pipeline_names() -> list[str]:
    names = [f"{r}+{e}" for e in ENCODERS for r in STATIC_REPRESENTATIONS]
    return names + list(PRETRAINED) + list(CLASSICAL)


def describe_names() -> str:
    static = [f"{r}+{e}" for e in ENCODERS for r in STATIC_REPRESENTATIONS]
    return (
        "static-vector pipelines: " + ", ".join(static) + " (append :frozen to keep the vectors fixed)\n"
        "pretrained-model pipelines: "
        + ", ".join(PRETRAINED)
        + " (append :probe for a frozen backbone, :prompt for PET-style prompting, n=0 with :prompt is zero-shot; "
        ":icl for in-context examples with clm or lstm-lm)\n"
        "classical: tfidf\n"
        "a transformers checkpoint: hf:PATH, a local folder (config, weights, tokenizer) of a "
        + ", ".join(HF_FAMILIES)
        + " model, fine-tuned with its own tokenizer (pip install '.[hf]'; nothing is downloaded)"
    )


def parse_pipeline(name: str) -> PipelineSpec:
    if name in CLASSICAL:
        return PipelineSpec(name, name)
    if name.startswith(HF_PREFIX):
        path = name[len(HF_PREFIX) :]
        if not path.strip():
            raise WorkbenchError(
                f"pipeline {name!r}: give the checkpoint's folder after hf:, e.g. hf:~/models/bert-base"
            )
        return PipelineSpec(name, "hf", path=path)
    base, _, mode = name.partition(":")
    if base in PRETRAINED and mode in ("",) + PRETRAINED_MODES:
        if base == "scratch-transformer" and mode in ("prompt", "icl"):
            raise WorkbenchError("scratch-transformer has no trained LM head to prompt: use mlm:prompt or clm:prompt")
        if mode == "icl" and base not in CAUSAL:
            raise WorkbenchError(
                f"{name}: in-context examples need a causal LM (clm:icl or lstm-lm:icl); for {base} use {base}:prompt"
            )
        return PipelineSpec(name, base, mode=mode or "finetune")
    representation, plus, encoder = base.partition("+")
    if plus and representation in STATIC_REPRESENTATIONS and encoder in ENCODERS and mode in ("", "frozen"):
        return PipelineSpec(name, representation, encoder, frozen=mode == "frozen")
    raise WorkbenchError(
        f"unknown pipeline {name!r}: choose one of {', '.join(pipeline_names())} "
        f"(static ones with :frozen, pretrained ones with :probe or :prompt), "
        f"or hf:PATH for a local transformers checkpoint"
    )
