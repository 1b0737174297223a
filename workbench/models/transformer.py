"""One pre-LN Transformer for the whole project: the from-scratch encoder of the circa-2017
pipeline and (wrapped with token embeddings and an LM head) every pretrained backbone.

Attention goes through `F.scaled_dot_product_attention` (flash/memory-efficient kernels on a
GPU), bidirectional or causal. Positions are learned or rotary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.folded_attention import attend


@dataclass
class TransformerConfig:
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.1
    max_len: int = 256
    positions: str = "learned"  # "learned" or "rotary"
    causal: bool = False

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.positions not in ("learned", "rotary"):
            raise ValueError(f"positions must be 'learned' or 'rotary', got {self.positions!r}")


def rotary_tables(length: int, head_dim: int, device, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(length, device=device, dtype=torch.float32), inv_freq)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs (x1, x2) of [B, H, T, Dh] by position-dependent angles."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return rotated.flatten(-2).type_as(x)


class SelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def forward(self, x, attn_mask, rotary=None, query=None):
        """attn_mask: bool [B or 1, 1 or H, Tq, Tk], True = may attend. `query` (optional) is a
        separate query stream (XLNet's two-stream attention) attending to keys/values of x."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        if query is not None:
            q = F.linear(query, self.qkv.weight[:d], self.qkv.bias[:d])
        heads = lambda z: z.view(b, -1, self.n_heads, d // self.n_heads).transpose(1, 2)  # noqa: E731
        q, k, v = heads(q), heads(k), heads(v)
        if rotary is not None:
            cos, sin = rotary
            q, k = apply_rotary(q, cos[: q.shape[2]], sin[: q.shape[2]]), apply_rotary(k, cos[:t], sin[:t])
        y = attend(q, k, v, attn_mask, self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, -1, d))


class Block(nn.Module):
    """Pre-LN: x + attn(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.ffn = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, attn_mask, rotary=None):
        x = x + self.drop(self.attn(self.ln1(x), attn_mask, rotary))
        return x + self.drop(self.ffn(self.ln2(x)))

    def query_stream(self, g, h, query_mask, rotary=None):
        """XLNet's query stream: g attends to the content stream h (same weights), never to its own token."""
        g = g + self.drop(self.attn(self.ln1(h), query_mask, rotary, query=self.ln1(g)))
        return g + self.drop(self.ffn(self.ln2(g)))


def attention_mask(pad_mask: torch.Tensor, causal: bool) -> torch.Tensor:
    """bool [B, 1, T, T]: key j visible from query i if j is not padding (and j <= i when causal).

    A padded query row would see nothing, which makes SDPA return NaN; it sees itself instead
    (its output is ignored downstream)."""
    b, t = pad_mask.shape
    mask = pad_mask[:, None, None, :].expand(b, 1, t, t)
    if causal:
        mask = mask & torch.ones(t, t, dtype=torch.bool, device=pad_mask.device).tril()
    return mask | torch.eye(t, dtype=torch.bool, device=pad_mask.device)


POSITION_INIT_STD = 0.02


class TransformerEncoder(nn.Module):
    """Positions + pre-LN blocks + final LayerNorm over input vectors [B, T, d_in]."""

    def __init__(self, cfg: TransformerConfig, d_in: int | None = None):
        super().__init__()
        self.cfg = cfg
        d_in = d_in or cfg.d_model
        self.project = nn.Linear(d_in, cfg.d_model) if d_in != cfg.d_model else nn.Identity()
        self.positions = nn.Embedding(cfg.max_len, cfg.d_model) if cfg.positions == "learned" else None
        if self.positions is not None:
            # On the token embeddings' scale (BERT and GPT-2 draw both from N(0, 0.02)). At torch's default
            # N(0, 1) the position table was 50 times the tokens, and a Transformer trained from random
            # weights sat at chance on micro-sentiment for hundreds of updates (bench/NOTES.md, issue #16).
            nn.init.normal_(self.positions.weight, std=POSITION_INIT_STD)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.output_dim = cfg.d_model

    def rotary(self, length: int, device):
        if self.cfg.positions != "rotary":
            return None
        return rotary_tables(length, self.cfg.d_model // self.cfg.n_heads, device)

    def embed(self, vectors: torch.Tensor) -> torch.Tensor:
        x = self.project(vectors)
        if self.positions is not None:
            t = x.shape[1]
            if t > self.cfg.max_len:
                raise ValueError(f"sequence of {t} tokens is longer than max_len {self.cfg.max_len}")
            x = x + self.positions(torch.arange(t, device=x.device))
        return self.drop(x)

    def forward(self, vectors: torch.Tensor, pad_mask: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """pad_mask: bool [B, T], True at real tokens. `mask` overrides the attention mask."""
        x = self.embed(vectors)
        mask = attention_mask(pad_mask, self.cfg.causal) if mask is None else mask
        rotary = self.rotary(x.shape[1], x.device)
        for block in self.blocks:
            x = block(x, mask, rotary)
        return self.ln_f(x)

    def two_stream(self, vectors, query_init, content_mask, query_mask):
        """Content and query streams side by side (XLNet); returns the final query stream."""
        h = self.embed(vectors)
        g = query_init.expand_as(h)
        if self.positions is not None:
            g = g + self.positions(torch.arange(h.shape[1], device=h.device))
        rotary = self.rotary(h.shape[1], h.device)
        for block in self.blocks:
            h, g = block(h, content_mask, rotary), block.query_stream(g, h, query_mask, rotary)
        return self.ln_f(g)
