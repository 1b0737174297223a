"""The BiLSTM encoder of the circa-2017 pipeline: contextualization learned from labels alone."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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
    rule for nn.LSTM or for packing. Under such a transform (and on CUDA, where it is a Triton
    kernel) each layer does its input projection for all time steps in one matmul and leaves only
    the recurrence to `lstm_scan`. Called plainly on a CPU (one run, not fused), it runs torch's own
    LSTM kernel (`torch.lstm` on packed sequences) with these same parameters instead: 1.45x faster
    forward and backward at the default comparison's sizes (bench/NOTES.md). Both paths are tested
    equal to nn.LSTM (same weights) forward and backward.
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
        if x.device.type == "cpu" and not torch._C._are_functorch_transforms_active():  # not under vmap
            lengths = mask.sum(dim=1)
            if bool((lengths > 0).all()) and torch.equal(mask, torch.arange(mask.shape[1]) < lengths[:, None]):
                return self.packed(x, lengths)
        return self.scanned(x, mask)

    def packed(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """torch's LSTM kernel over packed sequences (padding at the end, every length >= 1)."""
        seqs = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        data = seqs.data
        zeros = data.new_zeros(len(self.directions), len(lengths), self.hidden_size)
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                data = nn.functional.dropout(data, self.dropout, training=True)
            weights = [
                getattr(self, f"{name}_l{layer}{suffix}")
                for suffix in self.directions
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            data = torch.lstm(
                data, seqs.batch_sizes, (zeros, zeros), weights, True, 1, 0.0, self.training, len(self.directions) > 1
            )[0]
        out, _ = pad_packed_sequence(seqs._replace(data=data), batch_first=True, total_length=x.shape[1])
        return out

    def scanned(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Input projections as one matmul per layer, the recurrence in `lstm_scan` (any mask; under vmap)."""
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
