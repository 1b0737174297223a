"""The BiLSTM encoder of the circa-2017 pipeline: contextualization learned from labels alone."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from workbench.core.kernels import lstm_scan


@dataclass
class LSTMConfig:
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.3
    bidirectional: bool = True


class LSTM(nn.Module):
    """A (bi)directional multi-layer LSTM with nn.LSTM's parameters, names and initialization, over
    padded batches with a mask instead of packed sequences.

    Why not nn.LSTM: the fused core trains K replicas with torch.func.vmap, which has no batching
    rule for nn.LSTM or for packing. Here each layer does its input projection for all time steps
    in one matmul and leaves only the recurrence to `lstm_scan` (a Triton kernel on a GPU).
    Tested equal to nn.LSTM (same weights) forward and backward.
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0
    ):
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden_size, num_layers, dropout
        self.directions = ("", "_reverse") if bidirectional else ("",)
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else hidden_size * len(self.directions)
            for suffix in self.directions:
                for name, shape in (
                    ("weight_ih", (4 * hidden_size, d_in)),
                    ("weight_hh", (4 * hidden_size, hidden_size)),
                    ("bias_ih", (4 * hidden_size,)),
                    ("bias_hh", (4 * hidden_size,)),
                ):
                    self.register_parameter(
                        f"{name}_l{layer}{suffix}", nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                    )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: [B, T, d_in]; mask: bool [B, T], True at real tokens -> [B, T, H * directions]."""
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            outputs = []
            for suffix in self.directions:
                p = lambda name: getattr(self, f"{name}_l{layer}{suffix}")  # noqa: E731
                xg = x @ p("weight_ih").T + (p("bias_ih") + p("bias_hh"))
                outputs.append(lstm_scan(xg, p("weight_hh"), mask, reverse=bool(suffix)))
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        return x


class BiLSTMEncoder(nn.Module):
    """[B, T, d_in] vectors -> [B, T, 2*hidden] states; padding masked (outputs zero there)."""

    def __init__(self, cfg: LSTMConfig, d_in: int):
        super().__init__()
        self.cfg = cfg
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = LSTM(
            d_in,
            cfg.hidden,
            num_layers=cfg.layers,
            bidirectional=cfg.bidirectional,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.output_dim = cfg.hidden * (2 if cfg.bidirectional else 1)

    def forward(self, vectors: torch.Tensor, pad_mask: torch.Tensor, mask=None) -> torch.Tensor:
        return self.drop(self.lstm(self.drop(vectors), pad_mask))
