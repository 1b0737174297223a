"""What a pretraining run is, as data: the options a user states (with the defaults that `workbench pretrain`
and the default backbones share), their one validation, and the model and training configs they give."""

from __future__ import annotations

from dataclasses import dataclass, fields

from workbench.errors import WorkbenchError
from workbench.models.lm import LMConfig
from workbench.models.transformer import TransformerConfig

OBJECTIVES = ("mlm", "clm", "plm")
ARCHS = ("transformer", "lstm")
POSITIONS = ("learned", "rotary")
SIZES = ("steps", "batch_size", "seq_len", "d_model", "layers", "heads", "d_ff", "lstm_hidden", "lstm_layers")

# Sized by measurement (bench/NOTES.md): on the micro-world a d=128 CLM leaves the unigram plateau
# after a few million tokens and uses polarity between 4M and 8M, but reads negation only by ~38M
# (18,500 steps: zero-shot 1.00 on every phenomenon; 12M tokens gave .44 on negated sentences).
DEFAULT_STEPS = {"microworld": 18500}


def default_steps(corpus_name: str) -> int:
    return DEFAULT_STEPS.get(corpus_name, 3000)


@dataclass
class PretrainConfig:
    steps: int = 3000
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: int = 100
    clip_norm: float = 1.0
    seed: int = 0
    eval_every: int = 250
    eval_blocks: int = 64


@dataclass(frozen=True)
class PretrainOptions:
    """A pretraining run as a user states it. The field names are the `workbench pretrain` options (d_model is
    --d-model), and these defaults are the CLI's defaults: the default backbones are what the CLI trains bare."""

    objective: str = "clm"
    arch: str = "transformer"
    corpus: str = "microworld"
    steps: int | None = None  # None: the measured default for the corpus (`default_steps`)
    batch_size: int = 32
    seq_len: int = 64
    d_model: int = 128
    layers: int = 2
    heads: int = 4
    d_ff: int = 512
    positions: str = "learned"
    tie_embeddings: bool = False
    lstm_hidden: int | None = None  # None: 2 x d_model (the LSTM LM's default); d_model allows tied embeddings
    lstm_layers: int = 2
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def validate(self) -> None:
        """One-line errors naming the CLI option at fault."""
        for option, value, allowed in (
            ("objective", self.objective, OBJECTIVES),
            ("arch", self.arch, ARCHS),
            ("positions", self.positions, POSITIONS),
        ):
            if value not in allowed:
                raise WorkbenchError(f"--{option} {value!r}: use one of {', '.join(allowed)}")
        for option in SIZES:
            value = getattr(self, option)
            if value is not None and value < 1:
                raise WorkbenchError(f"--{option.replace('_', '-')} {value}: must be a positive whole number")
        if self.d_model % self.heads:
            raise WorkbenchError(
                f"--d-model {self.d_model} is not divisible by --heads {self.heads}; pick sizes that divide"
            )
        if self.arch == "lstm" and self.objective != "clm":
            raise WorkbenchError(f"--arch lstm trains a causal LM: use --objective clm (not {self.objective})")
        if self.arch == "lstm" and self.tie_embeddings and (self.lstm_hidden or 2 * self.d_model) != self.d_model:
            raise WorkbenchError(
                f"--tie-embeddings with --arch lstm needs --lstm-hidden equal to --d-model "
                f"({self.d_model}): the output layer is the input embedding"
            )

    def configs(self) -> tuple[LMConfig, PretrainConfig]:
        """(model config, training config), validated; the model's vocab_size is set once the vocabulary is built."""
        self.validate()
        transformer = TransformerConfig(
            d_model=self.d_model,
            n_layers=self.layers,
            n_heads=self.heads,
            d_ff=self.d_ff,
            positions=self.positions,
            max_len=max(256, self.seq_len),
        )
        model = LMConfig(
            objective=self.objective,
            arch=self.arch,
            tie_embeddings=self.tie_embeddings,
            transformer=transformer,
            lstm_hidden=self.lstm_hidden or self.d_model * 2,
            lstm_layers=self.lstm_layers,
        )
        steps = self.steps or default_steps(self.corpus)
        return model, PretrainConfig(
            steps=steps, batch_size=self.batch_size, seq_len=self.seq_len, lr=self.lr, seed=self.seed
        )
