"""The three data shapes every loader produces and every pipeline consumes.

A corpus is unlabeled text; a task is labeled examples with fixed splits. Both are already
tokenized (lists of word strings): tokenization is a data concern, settled once here, so the
two pipelines can never see different words for the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLASSIFICATION = "classification"
TAGGING = "tagging"
SPAN = "span"
TASK_KINDS = (CLASSIFICATION, TAGGING, SPAN)


@dataclass(frozen=True)
class Example:
    """One labeled example. Which fields are set depends on the task kind.

    classification: tokens + label
    tagging:        tokens + tags (one per token)
    span:           tokens (the passage) + question + span (start, end), inclusive token indices
    `phenomenon` names the construction an example exercises (e.g. "negation"), when known,
    so that results can be broken down by it.
    """

    tokens: tuple[str, ...]
    label: str | None = None
    tags: tuple[str, ...] | None = None
    question: tuple[str, ...] | None = None
    span: tuple[int, int] | None = None
    phenomenon: str | None = None


@dataclass
class Task:
    """A named labeled dataset: kind, label set and splits.

    Split names: "train" (labeled subsets are drawn from it), "dev" (model selection),
    "test" (reported), and optionally "shifted" (a test split whose frames or words the
    train split never shows).
    """

    name: str
    kind: str
    splits: dict[str, list[Example]]
    labels: list[str] = field(default_factory=list)
    description: str = ""
    split_notes: str = ""

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task kind must be one of {TASK_KINDS}, got {self.kind!r}")


@dataclass
class Corpus:
    """Unlabeled text as documents (a list of token lists), plus an optional held-out part."""

    name: str
    documents: list[list[str]]
    valid: list[list[str]] = field(default_factory=list)
    description: str = ""

    @property
    def n_tokens(self) -> int:
        return sum(len(d) for d in self.documents)
