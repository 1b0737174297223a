"""The BiLSTM encoder of the circa-2017 pipeline: contextualization learned from labels alone."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


@dataclass
class LSTMConfig:
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.3
    bidirectional: bool = True


class BiLSTMEncoder(nn.Module):
    """[B, T, d_in] vectors -> [B, T, 2*hidden] states; padding handled by packing."""

    def __init__(self, cfg: LSTMConfig, d_in: int):
        super().__init__()
        self.cfg = cfg
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(d_in, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                            bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.output_dim = cfg.hidden * (2 if cfg.bidirectional else 1)

    def forward(self, vectors: torch.Tensor, pad_mask: torch.Tensor, mask=None) -> torch.Tensor:
        lengths = pad_mask.sum(1).cpu()
        packed = pack_padded_sequence(self.drop(vectors), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=vectors.shape[1])
        return self.drop(out)
