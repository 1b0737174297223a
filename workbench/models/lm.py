"""Whole-model language models: a Transformer (MLM, CLM or PLM) or an LSTM (CLM).

Each is token embedding -> encoder -> LM head. The LM head is untied from the input
embedding by default: at d=128 tying them blocked learning in the calibration runs (measured
again in bench/pretrain). The encoder and embedding are what fine-tuning reuses.

The Transformer CLM and MLM are built to compute exactly what a standard transformers class computes,
so that `workbench export` writes them as that class (workbench/export): the CLM is GPT-2 (its LM head
has no bias), the MLM is Megatron-BERT (pre-LN, learned positions from 0, no embedding LayerNorm; its
LM head transforms each state by dense -> GELU -> LayerNorm before the vocabulary projection).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from workbench.models.transformer import TransformerConfig, TransformerEncoder

OBJECTIVES = ("mlm", "clm", "plm")
ARCHS = ("transformer", "lstm")


LEGACY_HEAD = {"head_bias": True, "head_transform": False}


def standard_head(objective: str, arch: str) -> tuple[bool, bool]:
    """(bias, transform) of a new model's LM head: GPT-2's for the Transformer CLM, BERT's for the Transformer
    MLM; the PLM and the LSTM LM, which no standard class computes, keep the plain biased layer."""
    if arch == "transformer" and objective == "clm":
        return False, False
    if arch == "transformer" and objective == "mlm":
        return True, True
    return LEGACY_HEAD["head_bias"], LEGACY_HEAD["head_transform"]


@dataclass
class LMConfig:
    objective: str = "clm"
    arch: str = "transformer"
    vocab_size: int = 0
    tie_embeddings: bool = False
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    lstm_hidden: int = 256
    lstm_layers: int = 2
    plm_k: int = 4
    head_bias: bool | None = None  # None: the objective's standard head (`standard_head`)
    head_transform: bool | None = None

    def __post_init__(self):
        bias, transform = standard_head(self.objective, self.arch)
        self.head_bias = bias if self.head_bias is None else self.head_bias
        self.head_transform = transform if self.head_transform is None else self.head_transform

    def to_dict(self) -> dict:
        """The config as data (config.json, and so the artifact cache's key). The head fields came after
        models were cached and shipped: they are written only where they differ from the head every model
        had before them, so the recorded configs of those models (PLM, LSTM) stay valid keys."""
        data = asdict(self)
        for name, before in LEGACY_HEAD.items():
            if data[name] == before:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        data = {**LEGACY_HEAD, **data}  # a config written before the head fields: the head it was trained with
        data["transformer"] = TransformerConfig(**data["transformer"])
        return cls(**data)


class LMHead(nn.Linear):
    """Hidden states -> vocabulary logits: a linear layer (with or without bias), optionally after BERT's
    transform (dense -> GELU -> LayerNorm). An nn.Linear itself, so tying and the weight's name
    (head.weight) are those of a plain output layer."""

    def __init__(self, d_in: int, vocab_size: int, bias: bool, transform: bool):
        super().__init__(d_in, vocab_size, bias=bias)
        self.transform = (
            nn.Sequential(nn.Linear(d_in, d_in), nn.GELU(), nn.LayerNorm(d_in)) if transform else nn.Identity()
        )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return super().forward(self.transform(hidden))


class UnidirectionalLSTM(nn.Module):
    """The ULMFiT/ELMo-style encoder: a stacked left-to-right LSTM (causal by construction)."""

    def __init__(self, d_in: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(d_in, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.output_dim = hidden

    def forward(self, vectors, pad_mask, mask=None):
        out, _ = self.lstm(self.drop(vectors))  # padding sits at the end, so earlier states never see it
        return self.drop(out)


class LanguageModel(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        if cfg.objective not in OBJECTIVES or cfg.arch not in ARCHS:
            raise ValueError(f"objective {cfg.objective!r} / arch {cfg.arch!r}")
        if cfg.arch == "lstm" and cfg.objective != "clm":
            raise ValueError("the LSTM language model is causal: use objective clm")
        self.cfg = cfg
        tcfg = cfg.transformer
        d = tcfg.d_model
        self.embed = nn.Embedding(cfg.vocab_size, d, padding_idx=0)
        nn.init.normal_(self.embed.weight, std=0.02)
        if cfg.arch == "transformer":
            # attention direction follows the objective; a copy, so the caller's config (a cache key) is untouched
            self.encoder = TransformerEncoder(replace(tcfg, causal=cfg.objective == "clm"))
        else:
            self.encoder = UnidirectionalLSTM(d, cfg.lstm_hidden, cfg.lstm_layers, tcfg.dropout)
        if cfg.objective == "plm":
            self.query_init = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.head = LMHead(self.encoder.output_dim, cfg.vocab_size, cfg.head_bias, cfg.head_transform)
        if cfg.tie_embeddings:
            if self.encoder.output_dim != d:
                raise ValueError("tied embeddings need encoder width == embedding width")
            self.head.weight = self.embed.weight

    def hidden(self, ids: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
        """Contextual states [B, T, d] (bidirectional for MLM/PLM backbones, causal for CLM)."""
        return self.encoder(self.embed(ids), pad_mask)

    def forward(self, ids, pad_mask):
        return self.head(self.hidden(ids, pad_mask))

    def plm_hidden(self, ids, content_mask, query_mask):
        return self.encoder.two_stream(self.embed(ids), self.query_init, content_mask, query_mask)

    def n_params(self, non_embedding: bool = True) -> int:
        total = sum(p.numel() for p in self.parameters())
        return (
            total - self.embed.weight.numel() - (0 if self.cfg.tie_embeddings else self.head.weight.numel())
            if non_embedding
            else total
        )
