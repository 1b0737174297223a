"""The kernels' contracts written out again in float64, independently of workbench.core.kernels
(and of F.cross_entropy, which *is* the CPU path): what tests/test_kernels.py compares every path
against, including the Triton kernels under the interpreter (imported by its subprocess)."""

import torch


def lstm_float64(xg: torch.Tensor, w_hh: torch.Tensor, mask: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """h [B, T, H] in float64, one sequence and one step at a time: gates i, f, g, o from
    xg[b, t] + W_hh h; a masked step is skipped (state kept, output 0). Differentiable."""
    xg, w_hh = xg.double(), w_hh.double()
    b, t, four_h = xg.shape
    hidden = four_h // 4
    rows = []
    for row in range(b):
        h, c = xg.new_zeros(hidden), xg.new_zeros(hidden)
        outputs = [xg.new_zeros(hidden)] * t
        for step in reversed(range(t)) if reverse else range(t):
            if not mask[row, step]:
                continue
            a = xg[row, step] + w_hh @ h
            i, f = torch.sigmoid(a[:hidden]), torch.sigmoid(a[hidden : 2 * hidden])
            g, o = torch.tanh(a[2 * hidden : 3 * hidden]), torch.sigmoid(a[3 * hidden :])
            c = f * c + i * g
            h = o * torch.tanh(c)
            outputs[step] = h
        rows.append(torch.stack(outputs))
    return torch.stack(rows)


def cross_entropy_float64(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100):
    """(mean loss over the kept rows, its gradient d loss / d logits), both float64, from the
    log-sum-exp and softmax written out: loss_r = lse_r - x[r, y_r]; grad_r = (softmax_r - onehot_r) / kept."""
    x = logits.detach().double()
    keep = targets != ignore_index
    kept = keep.sum()
    top = x.max(dim=1, keepdim=True).values
    lse = top[:, 0] + (x - top).exp().sum(dim=1).log()
    safe = torch.where(keep, targets, torch.zeros_like(targets))
    picked = x[torch.arange(x.shape[0]), safe]
    loss = torch.where(keep, lse - picked, torch.zeros_like(lse)).sum() / kept
    onehot = torch.zeros_like(x)
    onehot[torch.arange(x.shape[0]), safe] = 1.0
    grad = ((x - lse[:, None]).exp() - onehot) * keep[:, None] / kept
    return loss, grad
