"""The hot loops of the training core, each with a torch reference that runs everywhere.

`lstm_scan` is the LSTM recurrence (the part that cannot be one big matmul); `cross_entropy`
is the loss. On a CUDA device with Triton installed, each dispatches to a fused Triton kernel;
anywhere else (CPU, no Triton, float64) to torch code, and the torch references below are what
the kernels are tested against (`self_check`, tests/test_kernels.py).

Both are autograd.Functions with vmap rules, because the fused core trains K replicas
by calling the model through `torch.func.vmap` (over a leading replica axis) and differentiates
through it. The LSTM function's native form therefore carries a replica axis R, and its vmap
rule folds each vmapped dimension into R: one kernel launch serves all replicas.

Tests run the Triton kernels on CPU under Triton's interpreter: set TRITON_INTERPRET=1 before
triton is imported and `TRITON_ON_CPU = True` here.
"""

from __future__ import annotations

import functools
import os

import torch
import torch.nn.functional as F

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU-only installs: the torch paths serve
    triton = None

TRITON_ON_CPU = False
"""Send CPU tensors to the Triton kernels too (only honoured when TRITON_INTERPRET=1): for tests."""

ON_CHIP_BYTES = 128 * 1024
"""The LSTM kernel keeps W_hh in shared memory (227 KiB per block on an H100) for the whole
sequence: bf16 up to H=128, float32 up to H=64. Bigger weights take the torch path."""


def lstm_scan_reference(
    xg: torch.Tensor, w_hh: torch.Tensor, mask: torch.Tensor, reverse: bool = False
) -> torch.Tensor:
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
    for step in range(t - 1, -1, -1) if reverse else range(t):
        i, f, g, o = (xg[:, step] + h @ w_hh.T).chunk(4, dim=-1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        real = mask[:, step, None]
        c, h = torch.where(real, c_new, c), torch.where(real, h_new, h)
        outputs[step] = h_new * real
    return torch.stack(outputs, dim=1)


def lstm_scan(xg: torch.Tensor, w_hh: torch.Tensor, mask: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """`lstm_scan_reference`'s contract, through `_LSTMScan` (Triton on CUDA).

    The state is kept in float32 (float64 for float64 inputs) whatever the input dtype; under
    bf16 autocast xg arrives in bf16, and the recurrent matmul then rounds h and W_hh to bf16
    (as autocast would) with float32 accumulation. The output has xg's dtype. Only the forward
    is a Triton kernel; the backward (BPTT) is torch ops on every device.
    """
    hs, _ = _LSTMScan.apply(xg[None], w_hh[None], mask[None], reverse)
    return (hs[0] * mask[..., None]).to(xg.dtype)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over the targets that are not `ignore_index` (as F.cross_entropy).

    logits [N, C] on CUDA go to the fused Triton kernel (per-row losses in one pass, float32
    inside); everything else to F.cross_entropy.
    """
    if logits.dim() != 2 or not _use_triton(logits):
        return F.cross_entropy(logits, targets, ignore_index=ignore_index)
    losses, _ = _CERows.apply(logits, targets, ignore_index)
    return (losses.sum() / (targets != ignore_index).sum()).to(logits.dtype)


# ----------------------------------------------------------------------------- dispatch


def _use_triton(t: torch.Tensor) -> bool:
    if t.dtype not in (torch.float32, torch.bfloat16, torch.float16):
        return False
    on_device = t.is_cuda or (TRITON_ON_CPU and t.device.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1")
    return on_device and triton is not None


def _compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    return functools.reduce(torch.promote_types, [t.dtype for t in tensors], torch.float32)


# ----------------------------------------------------------------------------- LSTM function


def _fold(info, in_dims, *tensors):
    """Move each vmapped dim to the front (expanding unbatched tensors) and merge it with the
    leading replica/row axis, so that one call serves the whole vmapped batch."""
    out = []
    for x, d in zip(tensors, in_dims):
        x = x.expand(info.batch_size, *x.shape) if d is None else x.movedim(d, 0)
        out.append(x.reshape(-1, *x.shape[2:]))
    return out


class _LSTMScan(torch.autograd.Function):
    """Replica-batched recurrence: xg [R, B, T, 4H], w_hh [R, 4H, H], mask [R, B, T] -> the
    carried states (h, c), each [R, B, T, H] in the compute dtype (masked steps repeat the state).

    An autograd.Function rather than a torch.library custom op: only the former composes with
    torch.func.grad as well as with vmap and .backward()."""

    @staticmethod
    def forward(xg, w_hh, mask, reverse):
        xg, w_hh, mask = xg.contiguous(), w_hh.contiguous(), mask.contiguous()
        if _use_triton(xg) and 4 * _block(w_hh.shape[-1]) ** 2 * xg.element_size() <= ON_CHIP_BYTES:
            return _lstm_scan_triton(xg, w_hh, mask, reverse)
        dtype = _compute_dtype(xg, w_hh)
        with torch.autocast(xg.device.type, enabled=False):
            return _lstm_scan_torch(xg.to(dtype), w_hh.to(dtype), mask, reverse)

    @staticmethod
    def setup_context(ctx, inputs, output):
        xg, w_hh, mask, reverse = inputs
        ctx.save_for_backward(xg, w_hh, mask, *output)
        ctx.reverse = reverse
        ctx.set_materialize_grads(False)  # the c output is rarely used: skip its zero gradient

    @staticmethod
    def backward(ctx, dhs, dcs):
        """BPTT in torch ops on every device (so it also runs under vmap): the gates are recomputed
        for all steps in one matmul from the saved states; only the gradient carry is a loop."""
        xg, w_hh, mask, hs, cs = ctx.saved_tensors
        dtype, t = hs.dtype, hs.shape[2]
        with torch.autocast(xg.device.type, enabled=False):
            w = w_hh.to(dtype)
            zero = hs.new_zeros(hs[:, :, :1].shape)
            shift = (
                (lambda s: torch.cat([s[:, :, 1:], zero], 2))
                if ctx.reverse
                else (lambda s: torch.cat([zero, s[:, :, :-1]], 2))
            )
            h_prev, c_prev = shift(hs), shift(cs)
            i, f, g, o = (xg.to(dtype) + torch.einsum("rbth,rgh->rbtg", h_prev, w)).chunk(4, dim=-1)
            i, f, g, o, tc = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o), torch.tanh(cs)
            # d(pre-activations) = [dc, dc, dc, dh] * coef, with dc/dh the grads of this step's new c/h.
            coef = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)], dim=-1)
            dh_from_c = o * (1 - tc * tc)
            real = mask[..., None].to(dtype)
            dh, dc = torch.zeros_like(hs[:, :, 0]), torch.zeros_like(cs[:, :, 0])
            da = [None] * t
            for step in range(t) if ctx.reverse else range(t - 1, -1, -1):
                m = real[:, :, step]
                if dhs is not None:
                    dh = dh + dhs[:, :, step].to(dtype)
                if dcs is not None:
                    dc = dc + dcs[:, :, step].to(dtype)
                dh_new = m * dh
                dc_new = m * dc + dh_new * dh_from_c[:, :, step]
                da[step] = torch.cat([dc_new, dc_new, dc_new, dh_new], dim=-1) * coef[:, :, step]
                dh = (1 - m) * dh + torch.bmm(da[step], w)
                dc = (1 - m) * dc + dc_new * f[:, :, step]
            da = torch.stack(da, dim=2)
            dw = torch.einsum("rbtg,rbth->rgh", da, h_prev)
        return da.to(xg.dtype), dw.to(w_hh.dtype), None, None

    @staticmethod
    def vmap(info, in_dims, xg, w_hh, mask, reverse):
        """vmap over the replica function = a bigger replica axis: R' = V * R, one launch."""
        hs, cs = _LSTMScan.apply(*_fold(info, in_dims[:3], xg, w_hh, mask), reverse)
        return (hs.unflatten(0, (info.batch_size, -1)), cs.unflatten(0, (info.batch_size, -1))), (0, 0)


def _lstm_scan_torch(xg, w_hh, mask, reverse):
    r, b, t, _ = xg.shape
    h = xg.new_zeros(r, b, w_hh.shape[-1])
    c = torch.zeros_like(h)
    hs, cs = xg.new_empty(r, b, t, h.shape[-1]), xg.new_empty(r, b, t, h.shape[-1])
    w_t = w_hh.transpose(1, 2)
    for step in range(t - 1, -1, -1) if reverse else range(t):
        i, f, g, o = (xg[:, :, step] + torch.bmm(h, w_t)).chunk(4, dim=-1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        real = mask[:, :, step, None]
        c, h = torch.where(real, c_new, c), torch.where(real, h_new, h)
        hs[:, :, step], cs[:, :, step] = h, c
    return hs, cs


def _lstm_scan_triton(xg, w_hh, mask, reverse):
    r, b, t, four_h = xg.shape
    hidden = four_h // 4
    hs = xg.new_empty(r, b, t, hidden, dtype=torch.float32)
    cs = torch.empty_like(hs)
    block_h = _block(hidden)
    block_b = 16
    # The recurrent matmul runs in xg's precision (bf16 under autocast; exact fp32 otherwise).
    w = w_hh.to(xg.dtype).contiguous()
    _lstm_fwd_kernel[(r, triton.cdiv(b, block_b))](
        xg,
        w,
        mask.view(torch.uint8),
        hs,
        cs,
        b,
        t,
        hidden,
        REVERSE=reverse,
        BLOCK_B=block_b,
        BLOCK_H=block_h,
        IEEE=xg.dtype == torch.float32,
        num_warps=4 if block_h <= 64 else 8,
    )
    return hs, cs


# ----------------------------------------------------------------------------- cross-entropy functions


class _CERows(torch.autograd.Function):
    """Per-row loss (0 at ignored rows) and logsumexp, float32, from logits [N, C]: one Triton pass."""

    @staticmethod
    def forward(logits, targets, ignore_index):
        logits, targets = logits.contiguous(), targets.contiguous()
        n, c = logits.shape
        losses, lse = logits.new_empty(n, dtype=torch.float32), logits.new_empty(n, dtype=torch.float32)
        _ce_fwd_kernel[(n,)](logits, targets, losses, lse, c, ignore_index, BLOCK_C=min(4096, _block(c)))
        return losses, lse

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, targets, ignore_index = inputs
        ctx.save_for_backward(logits, targets, output[1])
        ctx.ignore_index = ignore_index
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx, dlosses, _dlse):
        logits, targets, lse = ctx.saved_tensors
        return _CERowsBackward.apply(logits, targets, lse, dlosses, ctx.ignore_index), None, None

    @staticmethod
    def vmap(info, in_dims, logits, targets, ignore_index):
        """Rows are independent: vmapped rows are just more rows."""
        losses, lse = _CERows.apply(*_fold(info, in_dims[:2], logits, targets), ignore_index)
        return (losses.unflatten(0, (info.batch_size, -1)), lse.unflatten(0, (info.batch_size, -1))), (0, 0)


class _CERowsBackward(torch.autograd.Function):
    """d loss_row / d logits = (softmax - onehot) * grad_row, 0 at ignored rows: one Triton pass.
    Its own Function so that the backward also runs under vmap (no double backward)."""

    @staticmethod
    def forward(logits, targets, lse, grad, ignore_index):
        logits, targets, lse, grad = (
            logits.contiguous(),
            targets.contiguous(),
            lse.contiguous(),
            grad.float().contiguous(),
        )
        out = torch.empty_like(logits)
        n, c = logits.shape
        _ce_bwd_kernel[(n,)](logits, targets, lse, grad, out, c, ignore_index, BLOCK_C=min(4096, _block(c)))
        return out

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def vmap(info, in_dims, logits, targets, lse, grad, ignore_index):
        out = _CERowsBackward.apply(*_fold(info, in_dims[:4], logits, targets, lse, grad), ignore_index)
        return out.unflatten(0, (info.batch_size, -1)), 0


def _block(n: int) -> int:
    """Triton blocks are powers of two, and tl.dot needs at least 16."""
    return max(16, 1 << (n - 1).bit_length())


# ----------------------------------------------------------------------------- Triton kernels

if triton is not None:

    @triton.jit
    def _tanh(x):
        return 2 * tl.sigmoid(2 * x) - 1

    @triton.jit
    def _lstm_fwd_kernel(
        xg_ptr,
        w_ptr,
        mask_ptr,
        hs_ptr,
        cs_ptr,
        B,
        T,
        H,
        REVERSE: tl.constexpr,
        BLOCK_B: tl.constexpr,
        BLOCK_H: tl.constexpr,
        IEEE: tl.constexpr,
    ):
        """Persistent over time: program (replica r, rows block) loads r's W_hh^T once, as four
        [H, H] gate blocks kept on chip, then runs all T steps with h and c in registers."""
        r = tl.program_id(0).to(tl.int64)
        rows = tl.program_id(1) * BLOCK_B + tl.arange(0, BLOCK_B)
        cols = tl.arange(0, BLOCK_H)
        row_ok, col_ok = rows < B, cols < H
        w_at = w_ptr + r * 4 * H * H + cols[None, :] * H + cols[:, None]  # [k, n] -> W[n, k]
        w_ok = col_ok[:, None] & col_ok[None, :]
        w_i = tl.load(w_at, mask=w_ok, other=0.0)
        w_f = tl.load(w_at + H * H, mask=w_ok, other=0.0)
        w_g = tl.load(w_at + 2 * H * H, mask=w_ok, other=0.0)
        w_o = tl.load(w_at + 3 * H * H, mask=w_ok, other=0.0)
        io_ok = row_ok[:, None] & col_ok[None, :]
        x_base = xg_ptr + ((r * B + rows[:, None]) * T) * 4 * H + cols[None, :]
        state_at = ((r * B + rows[:, None]) * T) * H + cols[None, :]
        m_base = mask_ptr + (r * B + rows) * T
        h = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
        c = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
        precision: tl.constexpr = "ieee" if IEEE else "tf32"
        step = 0
        while (
            step < T
        ):  # not `for range(T)`: Triton 3.6's interpreter cannot index with a runtime int under numpy >= 2.4
            t = T - 1 - step if REVERSE else step
            x = x_base + t * 4 * H
            hd = h.to(w_i.dtype)
            a_i = tl.load(x, mask=io_ok, other=0.0).to(tl.float32) + tl.dot(hd, w_i, input_precision=precision)
            a_f = tl.load(x + H, mask=io_ok, other=0.0).to(tl.float32) + tl.dot(hd, w_f, input_precision=precision)
            a_g = tl.load(x + 2 * H, mask=io_ok, other=0.0).to(tl.float32) + tl.dot(hd, w_g, input_precision=precision)
            a_o = tl.load(x + 3 * H, mask=io_ok, other=0.0).to(tl.float32) + tl.dot(hd, w_o, input_precision=precision)
            c_new = tl.sigmoid(a_f) * c + tl.sigmoid(a_i) * _tanh(a_g)
            h_new = tl.sigmoid(a_o) * _tanh(c_new)
            real = (tl.load(m_base + t, mask=row_ok, other=0) != 0)[:, None]
            c = tl.where(real, c_new, c)
            h = tl.where(real, h_new, h)
            tl.store(hs_ptr + state_at + t * H, h, mask=io_ok)
            tl.store(cs_ptr + state_at + t * H, c, mask=io_ok)
            step += 1

    @triton.jit
    def _ce_fwd_kernel(logits_ptr, targets_ptr, loss_ptr, lse_ptr, C, ignore_index, BLOCK_C: tl.constexpr):
        """One row per program: online max/sum over C in blocks, then loss = lse - logit[target]."""
        row = tl.program_id(0).to(tl.int64)
        base = logits_ptr + row * C
        cols = tl.arange(0, BLOCK_C)
        run_max = tl.full((BLOCK_C,), -1e30, dtype=tl.float32)  # finite: exp(max - max) stays 1, never nan
        run_sum = tl.zeros((BLOCK_C,), dtype=tl.float32)
        start = 0
        while start < C:  # see _lstm_fwd_kernel on `while`
            x = tl.load(base + start + cols, mask=start + cols < C, other=float("-inf")).to(tl.float32)
            new_max = tl.maximum(run_max, x)
            run_sum = run_sum * tl.exp(run_max - new_max) + tl.exp(x - new_max)
            run_max = new_max
            start += BLOCK_C
        top = tl.max(run_max, axis=0)
        lse = top + tl.log(tl.sum(run_sum * tl.exp(run_max - top), axis=0))
        target = tl.load(targets_ptr + row)
        keep = target != ignore_index
        picked = tl.load(base + target, mask=keep, other=0.0).to(tl.float32)
        tl.store(loss_ptr + row, tl.where(keep, lse - picked, 0.0))
        tl.store(lse_ptr + row, lse)

    @triton.jit
    def _ce_bwd_kernel(logits_ptr, targets_ptr, lse_ptr, grad_ptr, out_ptr, C, ignore_index, BLOCK_C: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.arange(0, BLOCK_C)
        target = tl.load(targets_ptr + row)
        scale = tl.where(target != ignore_index, tl.load(grad_ptr + row), 0.0)
        lse = tl.load(lse_ptr + row)
        start = 0
        while start < C:  # see _lstm_fwd_kernel on `while`
            ok = start + cols < C
            x = tl.load(logits_ptr + row * C + start + cols, mask=ok, other=0.0).to(tl.float32)
            g = (tl.exp(x - lse) - tl.where(start + cols == target, 1.0, 0.0)) * scale
            tl.store(out_ptr + row * C + start + cols, g.to(out_ptr.dtype.element_ty), mask=ok)
            start += BLOCK_C


# ----------------------------------------------------------------------------- self-check


def _rel_err(got: torch.Tensor, want: torch.Tensor) -> float:
    """Max-norm relative error: max |got - want| / max |want|."""
    return ((got.float() - want.float()).abs().max() / want.float().abs().max().clamp_min(1e-12)).item()


def self_check(device, tiny: bool = False) -> list[dict]:
    """Each kernel against its torch reference on random inputs (never zeros), forward and
    gradients, at a few sizes on `device`. The reference sees the same (rounded) inputs in float32;
    tolerances: 1e-4 for float32, 2e-2 for bf16. `tiny` keeps sizes interpreter-friendly."""
    gen = torch.Generator().manual_seed(0)
    rand = lambda *shape: torch.randn(*shape, generator=gen).to(device)  # noqa: E731
    rows = []

    def record(kernel, shape, dtype, got, want, tol):
        for part, g, w in zip(("out", "grad_input", "grad_weight"), got, want):
            err, nan = _rel_err(g, w), bool(torch.isnan(g).any())
            rows.append(
                {
                    "kernel": f"{kernel}[{part}]",
                    "shape": shape,
                    "dtype": str(dtype).removeprefix("torch."),
                    "max_rel_err": err,
                    "ok": err <= tol and not nan,
                    "nan": nan,
                }
            )

    lstm_sizes = [(3, 5, 16)] if tiny else [(4, 7, 32), (16, 33, 64), (64, 50, 128)]
    lstm_cases = [(s, rev, torch.float32) for s in lstm_sizes for rev in (False, True)]
    lstm_cases += [] if tiny else [(lstm_sizes[-1], False, torch.bfloat16)]
    for (b, t, hidden), reverse, dtype in lstm_cases:
        xg32, w32, probe = rand(b, t, 4 * hidden), rand(4 * hidden, hidden) / hidden**0.5, rand(b, t, hidden)
        lengths = torch.randint(1, t + 1, (b,), generator=gen).to(device)
        mask = torch.arange(t, device=device)[None] < lengths[:, None]
        xg, w = xg32.to(dtype).requires_grad_(), w32.to(dtype).requires_grad_()
        out = lstm_scan(xg, w, mask, reverse)
        got = (out, *torch.autograd.grad((out.float() * probe).sum(), (xg, w)))
        xr, wr = xg.detach().float().requires_grad_(), w.detach().float().requires_grad_()
        ref = lstm_scan_reference(xr, wr, mask, reverse)
        want = (ref, *torch.autograd.grad((ref * probe).sum(), (xr, wr)))
        record(
            "lstm_scan" + ("[reverse]" if reverse else ""),
            (b, t, hidden),
            dtype,
            got,
            want,
            1e-4 if dtype == torch.float32 else 2e-2,
        )

    replicas, (b, t, hidden) = 3, lstm_sizes[-1]  # the fused core's call: vmap over a replica axis
    xg, w = rand(replicas, b, t, 4 * hidden), rand(replicas, 4 * hidden, hidden) / hidden**0.5
    mask = torch.arange(t, device=device)[None] < torch.randint(1, t + 1, (b, 1), generator=gen).to(device)
    loss = lambda x, w_: (lstm_scan(x, w_, mask) ** 2).sum()  # noqa: E731
    ref_loss = lambda x, w_: (lstm_scan_reference(x, w_, mask) ** 2).sum()  # noqa: E731
    got = (
        torch.func.vmap(lstm_scan, in_dims=(0, 0, None))(xg, w, mask),
        *torch.func.vmap(torch.func.grad(loss, argnums=(0, 1)))(xg, w),
    )
    want = [
        torch.stack(parts)
        for parts in zip(
            *[
                (lstm_scan_reference(xg[k], w[k], mask), *torch.func.grad(ref_loss, argnums=(0, 1))(xg[k], w[k]))
                for k in range(replicas)
            ]
        )
    ]
    record("lstm_scan[vmap]", (replicas, b, t, hidden), torch.float32, got, want, 1e-4)

    ce_sizes = [(6, 20), (4, 5000)] if tiny else [(64, 10), (512, 3000), (1024, 50257)]
    ce_cases = [(s, torch.float32) for s in ce_sizes] + ([] if tiny else [(ce_sizes[1], torch.bfloat16)])
    for (n, c), dtype in ce_cases:
        logits = (rand(n, c) * 3).to(dtype).requires_grad_()
        targets = torch.randint(0, c, (n,), generator=gen).to(device)
        targets[::5] = -100
        loss = cross_entropy(logits, targets)
        lr = logits.detach().float().requires_grad_()
        ref = F.cross_entropy(lr, targets)
        record(
            "cross_entropy",
            (n, c),
            dtype,
            (loss, *torch.autograd.grad(loss, logits)),
            (ref, *torch.autograd.grad(ref, lr)),
            1e-4 if dtype == torch.float32 else 2e-2,
        )
    return rows
