"""Named pipelines: what is pretrained, which encoder contextualizes, which head reads out.

Names are regular: `REPRESENTATION+ENCODER[:frozen]`, e.g. `word2vec+lstm`, `glove+lstm:frozen`,
`random+transformer`; plus `tfidf`, the classical anchor (classification only).
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError

STATIC_REPRESENTATIONS = ("random", "word2vec", "fasttext", "glove")
ENCODERS = ("lstm", "transformer")
CLASSICAL = ("tfidf",)


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    representation: str
    encoder: str | None = None
    frozen: bool = False


def pipeline_names() -> list[str]:
    names = [f"{r}+{e}" for e in ENCODERS for r in STATIC_REPRESENTATIONS]
    return names + list(CLASSICAL)


def describe_names() -> str:
    return ("static pipelines: " + ", ".join(pipeline_names()) +
            " (append :frozen to keep pretrained vectors fixed, e.g. word2vec+lstm:frozen)")


def parse_pipeline(name: str) -> PipelineSpec:
    if name in CLASSICAL:
        return PipelineSpec(name, name)
    base, _, mode = name.partition(":")
    representation, plus, encoder = base.partition("+")
    if plus and representation in STATIC_REPRESENTATIONS and encoder in ENCODERS and mode in ("", "frozen"):
        return PipelineSpec(name, representation, encoder, frozen=mode == "frozen")
    raise WorkbenchError(f"unknown pipeline {name!r}: choose one of {', '.join(pipeline_names())} (optionally with :frozen)")
