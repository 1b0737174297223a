"""Attention that the fused core can fold: K replicas' attention as ONE SDPA call.

The fused core (`core.fused`) runs K replicas of a model under `torch.func.vmap`. vmap has no
batching rule for SDPA's fused kernels and would loop over the replicas, so the Transformer's
attention goes through `attend`, which, inside `replica_folding()`, merges the replica axis into
SDPA's batch axis (one flash/memory-efficient call) and keeps each replica's dropout masks.
Models import this module; it imports no model, so `core` never depends on `models`.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch
import torch.nn.functional as F

_FOLD_REPLICAS = contextvars.ContextVar("fold_replicas", default=False)


@contextlib.contextmanager
def replica_folding():
    """Inside, attention called under torch.func.vmap folds the replica axis into SDPA's batch
    (the fused core's K replicas become one flash/memory-efficient attention call). vmap has no
    batching rule for SDPA's fused kernels and would otherwise loop over the replicas."""
    token = _FOLD_REPLICAS.set(True)
    try:
        yield
    finally:
        _FOLD_REPLICAS.reset(token)


def _rng_state(device) -> torch.Tensor:
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state()


def _sdpa_on_graph(q, k, v, mask, dropout_p):
    """SDPA with autograd on, so forward and backward's recomputation pick the same kernel (on CPU the
    kernel, and with it how dropout draws its mask, depends on whether gradients are wanted)."""
    with torch.enable_grad():
        q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
        return (q, k, v), F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)


class _FoldedAttention(torch.autograd.Function):
    """SDPA with a vmap rule that merges the vmapped axis into the batch axis. Backward recomputes
    the attention from the RNG state the forward started from (so dropout masks match)."""

    generate_vmap_rule = False

    @staticmethod
    def forward(q, k, v, mask, dropout_p, rng):
        return _sdpa_on_graph(q, k, v, mask, dropout_p)[1].detach()

    @staticmethod
    def setup_context(ctx, inputs, output):
        q, k, v, mask, dropout_p, rng = inputs
        ctx.save_for_backward(q, k, v, mask)
        ctx.dropout_p, ctx.rng = dropout_p, rng

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask = ctx.saved_tensors
        # without dropout there is no RNG state to replay (and none may be read while a CUDA graph is captured)
        with torch.random.fork_rng(devices=[q.device] if q.is_cuda else [], enabled=bool(ctx.dropout_p)):
            if ctx.dropout_p:
                torch.cuda.set_rng_state(ctx.rng, q.device) if q.is_cuda else torch.set_rng_state(ctx.rng)
            inputs, out = _sdpa_on_graph(q, k, v, mask, ctx.dropout_p)
            dq, dk, dv = torch.autograd.grad(out, inputs, grad)
        return dq, dk, dv, None, None, None

    @staticmethod
    def vmap(info, in_dims, q, k, v, mask, dropout_p, rng):
        size = info.batch_size

        def fold(t, dim, batch=None):
            t = t.expand(size, *t.shape) if dim is None else t.movedim(dim, 0)
            if batch is not None:  # a mask broadcast over the batch ([1, ...]) is expanded first
                t = t.expand(size, batch, *t.shape[2:])
            return t.reshape(size * t.shape[1], *t.shape[2:])

        q, k, v = fold(q, in_dims[0]), fold(k, in_dims[1]), fold(v, in_dims[2])
        mask = None if mask is None else fold(mask, in_dims[3], q.shape[0] // size)
        out = _FoldedAttention.apply(q, k, v, mask, dropout_p, _rng_state(q.device) if dropout_p else None)
        return out.reshape(size, -1, *out.shape[1:]), 0


def attend(q, k, v, mask, dropout_p: float) -> torch.Tensor:
    if _FOLD_REPLICAS.get():
        return _FoldedAttention.apply(q, k, v, mask, dropout_p, None)  # its vmap rule takes the RNG state
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
