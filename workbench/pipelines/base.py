"""The pipeline contract: what every family (static vectors + encoder, a whole pretrained model,
TF-IDF) offers the comparison, so that the point runner, the executors and the CLI never ask
which family they hold.

A family is one class in its own file, registered in `pipelines.registry`. It is built from a
parsed name and its settings (checked there: an unknown table or key is an error), prepares
what all points on one task share (`prepare`), and runs points (`run`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from torch import nn

from workbench.data.types import Task
from workbench.data.vocab import Vocabulary
from workbench.pipelines import PipelineSpec
from workbench.pipelines.tuning import Protocol

EVAL_SPLITS = ("test", "shifted")


@dataclass(kw_only=True)
class Prepared:
    """What every point of one pipeline on one task shares; each family adds its own fields."""

    pipeline: Pipeline
    task: Task
    corpus_name: str
    encoded: dict = field(default_factory=dict)  # split -> encoded examples (families that train a model)
    info: dict = field(default_factory=dict)  # pretraining compute, coverage, OOV rates
    rows: list[int] | None = None  # vocabulary ids the encoded splits index, if compacted (pipelines.neural.compact)


class Pipeline(ABC):
    """One named pipeline with its checked settings."""

    uses_vocab = True  # prepare() needs the corpus vocabulary
    budgets = False  # --budgets fine-tunes it on checkpoints of increasing pretraining compute

    def __init__(self, spec: PipelineSpec):
        self.spec = spec
        self.name = spec.name

    @classmethod
    @abstractmethod
    def handles(cls, spec: PipelineSpec) -> bool:
        """Whether a parsed name belongs to this family."""

    @abstractmethod
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
        """Vocabulary, pretrained artifact, encoded splits: whatever every point on `task` starts from.
        `progress`: a bar for each long step (training vectors, pretraining); `assume_yes`: a long CPU
        pretraining starts without asking (pretrain.cpu_cost)."""

    @abstractmethod
    def run(self, prepared: Prepared, results: list[dict], device: str, fused: bool, protocol: Protocol) -> None:
        """Train and select each result's (n, seed) point as `protocol` says (pipelines.tuning), evaluate
        the chosen model; fill its metrics, examples, selection, fit and seconds."""

    @abstractmethod
    def parameter_counts(self, prepared: Prepared) -> dict:
        """What the model of a point starts from: {"total", "pretrained", "from_labels"} parameter counts,
        so the report can show how much of each model its pretraining supplied (None where a count
        depends on each point's own data, as tf-idf's features do)."""

    def trains(self, n: int) -> bool:
        """False: a point with n labels is evaluated without any update (zero-shot, in-context)."""
        return True

    def group_size(self, prepared: Prepared, fuse: str, device: str) -> int:
        """How many replicas to train as one fused model, for --fuse auto or a number K (1: nothing to fuse)."""
        return 1

    def budget_checkpoints(self, prepared: Prepared) -> list[dict]:
        """The pretraining checkpoints --budgets fine-tunes on, each with its FLOPs and tokens."""
        return []

    def at_checkpoint(self, prepared: Prepared, checkpoint: str) -> Pipeline:
        """The same pipeline starting from one of `budget_checkpoints(prepared)`."""
        raise NotImplementedError(f"{self.name} keeps no pretraining checkpoints")


def split_parameters(model: nn.Module, pretrained: list[nn.Module]) -> dict:
    """`model`'s parameters (each shared tensor once) split into those inside the `pretrained` modules
    and the rest, which start untrained and are learned from the labels only."""
    inside = {id(p) for module in pretrained for p in module.parameters()}
    counts = [(p.numel(), id(p) in inside) for p in model.parameters()]
    total = sum(size for size, _ in counts)
    pretrained_count = sum(size for size, is_pretrained in counts if is_pretrained)
    return {"total": total, "pretrained": pretrained_count, "from_labels": total - pretrained_count}
