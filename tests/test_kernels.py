"""core/kernels.py: the torch paths against the references (incl. autograd and vmap, as the fused
core uses them), and the Triton kernels under Triton's CPU interpreter at tiny sizes."""

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from float64_references import cross_entropy_float64, lstm_float64

from workbench.core import kernels
from workbench.core.kernels import cross_entropy, lstm_scan, lstm_scan_reference
from workbench.models.lstm import LSTM


def random_case(b=5, t=9, hidden=16, dtype=torch.float64, seed=0, gaps=False):
    """Random projections and weights; lengths from 1 to t (or a mask with holes, `gaps`)."""
    gen = torch.Generator().manual_seed(seed)
    xg = torch.randn(b, t, 4 * hidden, generator=gen, dtype=dtype)
    w = torch.randn(4 * hidden, hidden, generator=gen, dtype=dtype) / hidden**0.5
    if gaps:
        mask = torch.rand(b, t, generator=gen) < 0.7
    else:
        lengths = torch.tensor([t, 1, *torch.randint(1, t + 1, (b - 2,), generator=gen).tolist()])
        mask = torch.arange(t)[None] < lengths[:, None]
    return xg, w, mask


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("gaps", [False, True])
def test_lstm_scan_equals_reference_forward_and_grads(reverse, gaps):
    xg, w, mask = random_case(gaps=gaps)
    xg.requires_grad_(), w.requires_grad_()
    probe = torch.randn(*mask.shape, w.shape[1], dtype=xg.dtype)
    out, ref = lstm_scan(xg, w, mask, reverse), lstm_scan_reference(xg, w, mask, reverse)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
    assert out.abs().max() > 0.1 and not out.isnan().any()
    grads = torch.autograd.grad((out * probe).sum(), (xg, w))
    ref_grads = torch.autograd.grad((ref * probe).sum(), (xg, w))
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
        assert want.abs().max() > 1e-3


def test_lstm_scan_float32_and_bf16_inputs():
    """float32 in -> float32 out at float32 precision; bf16 xg (autocast's output) -> bf16 out."""
    xg, w, mask = random_case(dtype=torch.float32, seed=1)
    torch.testing.assert_close(lstm_scan(xg, w, mask), lstm_scan_reference(xg, w, mask), rtol=1e-5, atol=1e-6)
    out = lstm_scan(xg.bfloat16(), w, mask, reverse=True)
    assert out.dtype == torch.bfloat16
    want = lstm_scan_reference(xg.bfloat16().float(), w, mask, True)
    torch.testing.assert_close(out.float(), want, rtol=0, atol=2e-2)


def test_vmap_over_replicas_equals_loop():
    """The fused core's call: replicas on a leading axis, forward and gradients, any nesting."""
    replicas = 3
    cases = [random_case(b=4, t=7, dtype=torch.float32, seed=k) for k in range(replicas)]
    xg, w = torch.stack([c[0] for c in cases]), torch.stack([c[1] for c in cases])
    mask = cases[0][2]
    probe = torch.randn(replicas, 4, 7, 16)

    def loss(fn, x, w_, p):
        return (fn(x, w_, mask, True) * p).sum()

    out = torch.func.vmap(lstm_scan, in_dims=(0, 0, None, None), randomness="different")(xg, w, mask, True)
    want = torch.stack([lstm_scan_reference(xg[k], w[k], mask, True) for k in range(replicas)])
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-6)
    want_grads = [
        torch.func.grad(loss, argnums=(1, 2))(lstm_scan_reference, xg[k], w[k], probe[k]) for k in range(replicas)
    ]
    want_grads = [torch.stack(g) for g in zip(*want_grads)]
    vmap_grad = torch.func.vmap(torch.func.grad(loss, argnums=(1, 2)), in_dims=(None, 0, 0, 0))(lstm_scan, xg, w, probe)
    xs, ws = xg.clone().requires_grad_(), w.clone().requires_grad_()
    torch.func.vmap(lambda *a: loss(lstm_scan, *a))(xs, ws, probe).sum().backward()
    for grads in (vmap_grad, (xs.grad, ws.grad)):
        for got, ref in zip(grads, want_grads):
            torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)
    # nested vmap, weights shared (unbatched) at the inner level
    nested = torch.func.vmap(torch.func.vmap(lambda x, w_: lstm_scan(x, w_, mask), in_dims=(0, None)))(
        xg[:, None].expand(replicas, 2, *xg.shape[1:]), w
    )
    torch.testing.assert_close(nested[2, 1], lstm_scan_reference(xg[2], w[2], mask), rtol=1e-5, atol=1e-6)


def test_lstm_module_under_vmap_of_functional_call():
    """workbench.models.lstm.LSTM with stacked replica parameters, as the fused core trains it."""
    torch.manual_seed(0)
    models = [LSTM(8, 16, num_layers=2, bidirectional=True) for _ in range(2)]
    params, buffers = torch.func.stack_module_state(models)
    x, mask = torch.randn(3, 6, 8), torch.arange(6)[None] < torch.tensor([[6], [2], [4]])

    def loss(p, b):
        return (torch.func.functional_call(models[0], (p, b), (x, mask)) ** 2).sum()

    grads = torch.func.vmap(torch.func.grad(loss))(params, buffers)
    for k, model in enumerate(models):
        (model(x, mask) ** 2).sum().backward()
        for name, param in model.named_parameters():
            torch.testing.assert_close(grads[name][k], param.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("gaps", [False, True])
def test_lstm_scan_equals_the_recurrence_written_out_in_float64(reverse, gaps):
    """Against float64_references, not the module's own reference: a shared mistake cannot hide."""
    xg, w, mask = random_case(seed=3, gaps=gaps)
    xg.requires_grad_(), w.requires_grad_()
    probe = torch.randn(*mask.shape, w.shape[1], dtype=xg.dtype)
    out, want = lstm_scan(xg, w, mask, reverse), lstm_float64(xg, w, mask, reverse)
    torch.testing.assert_close(out, want, rtol=1e-10, atol=1e-10)
    assert (out[~mask] == 0).all() and out.abs().max() > 0.1
    grads = torch.autograd.grad((out * probe).sum(), (xg, w))
    for got, ref in zip(grads, torch.autograd.grad((want * probe).sum(), (xg, w))):
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)
    out32 = lstm_scan(xg.detach().float(), w.detach().float(), mask, reverse)
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32.double(), want.detach(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ignore_index", [-100, 3])
def test_cross_entropy_equals_log_sum_exp_written_out_in_float64(dtype, ignore_index):
    """The CPU path (F.cross_entropy) against the float64 formula, loss and gradient, with ignored rows
    (also an ignore_index that is a valid class) and large logits (a naive exp would overflow)."""
    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn(12, 7, generator=gen, dtype=torch.float64) * 30).to(dtype).requires_grad_()
    targets = torch.randint(0, 7, (12,), generator=gen)
    targets[::3] = ignore_index
    loss = cross_entropy(logits, targets, ignore_index=ignore_index)
    want_loss, want_grad = cross_entropy_float64(logits, targets, ignore_index)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert loss.dtype == dtype and loss.item() > 0.5
    torch.testing.assert_close(loss.double(), want_loss, rtol=tol, atol=tol)
    torch.testing.assert_close(torch.autograd.grad(loss, logits)[0].double(), want_grad, rtol=tol, atol=tol)


def test_self_check_passes_on_cpu():
    rows = kernels.self_check("cpu", tiny=True)
    assert rows and all(r["ok"] and not r["nan"] for r in rows), rows


INTERPRETER_SCRIPT = """
import json, torch, torch.nn.functional as F
from workbench.core import kernels
kernels.TRITON_ON_CPU = True
launches = {"_lstm_fwd_kernel": 0, "_ce_fwd_kernel": 0, "_ce_bwd_kernel": 0}
class Counted:
    def __init__(self, name):
        self.name, self.kernel = name, getattr(kernels, name)
    def __getitem__(self, grid):
        launches[self.name] += 1
        return self.kernel[grid]
for name in launches:
    setattr(kernels, name, Counted(name))
rows = kernels.self_check("cpu", tiny=True)
# vmap over the Triton cross-entropy (its rows fold into one launch) and its gradient
gen = torch.Generator().manual_seed(1)
logits, targets = torch.randn(2, 5, 33, generator=gen), torch.randint(0, 33, (2, 5), generator=gen)
targets[:, 0] = -100
got = torch.func.vmap(torch.func.grad(lambda l, t: kernels.cross_entropy(l, t)))(logits, targets)
want = torch.stack([torch.func.grad(lambda l: F.cross_entropy(l, targets[k]))(logits[k]) for k in range(2)])
rows.append({"kernel": "cross_entropy[vmap grad]", "max_rel_err": kernels._rel_err(got, want),
             "nan": bool(got.isnan().any())})
rows[-1]["ok"] = rows[-1]["max_rel_err"] < 1e-5 and not rows[-1]["nan"]
print(json.dumps({"rows": rows, "launches": launches}))
"""


def test_triton_kernels_under_interpreter_equal_references():
    """TRITON_INTERPRET must be set before triton is imported, hence the subprocess."""
    pytest.importorskip("triton", reason="triton is not installed: its kernels cannot run here")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", INTERPRETER_SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(n >= 3 for n in result["launches"].values()), result["launches"]  # kernels ran, not fallbacks
    kinds = {r["kernel"].split("[")[0] for r in result["rows"]}
    assert kinds == {"lstm_scan", "cross_entropy"}
    assert all(r["ok"] and not r["nan"] for r in result["rows"]), result["rows"]


INTERPRETER_CASES = """
import json, sys, torch
sys.path.insert(0, "tests")
from float64_references import cross_entropy_float64, lstm_float64
from workbench.core import kernels
kernels.TRITON_ON_CPU = True
grids = {"_lstm_fwd_kernel": [], "_ce_fwd_kernel": [], "_ce_bwd_kernel": []}
class Counted:
    def __init__(self, name):
        self.name, self.kernel = name, getattr(kernels, name)
    def __getitem__(self, grid):
        grids[self.name].append(list(grid))
        return self.kernel[grid]
for name in grids:
    setattr(kernels, name, Counted(name))
gen = torch.Generator().manual_seed(2)
rows = []
def err(got, want):
    return ((got.double() - want).abs().max() / want.abs().max()).item()
# 20 rows = two row blocks of 16; H = 20 in a 32-wide block: masked rows and columns. (bf16 is not
# tried here: the interpreter's tl.dot on bf16 returns garbage, even against zero weights.)
b, t, hidden = 20, 5, 20
xg = torch.randn(b, t, 4 * hidden, generator=gen)
w = torch.randn(4 * hidden, hidden, generator=gen) / hidden ** 0.5
mask = torch.arange(t)[None] < torch.tensor([t, 1, *torch.randint(1, t + 1, (b - 2,), generator=gen).tolist()])[:, None]
mask[3, 2] = False  # a hole inside a sequence: the state carries over it
probe = torch.randn(b, t, hidden, generator=gen, dtype=torch.float64)
for reverse in (False, True):
    x, w_ = xg.clone().requires_grad_(), w.clone().requires_grad_()
    out = kernels.lstm_scan(x, w_, mask, reverse)
    got = torch.autograd.grad((out.double() * probe).sum(), (x, w_))
    xr, wr = xg.double().requires_grad_(), w.double().requires_grad_()
    ref = lstm_float64(xr, wr, mask, reverse)
    want = torch.autograd.grad((ref * probe).sum(), (xr, wr))
    rows.append({"case": f"lstm reverse={reverse}", "errors": [err(out, ref.detach()), *map(err, got, want)],
                 "tol": 1e-5, "masked_zero": bool((out[~mask] == 0).all())})
# 37 columns in one 64-wide block; 5000 in two 4096-wide blocks, the second masked; float32 and bf16
for (n, c), dtype, tol in [((7, 37), torch.float32, 1e-5), ((3, 5000), torch.float32, 1e-5),
                           ((7, 37), torch.bfloat16, 1e-2), ((3, 5000), torch.bfloat16, 1e-2)]:
    logits = (torch.randn(n, c, generator=gen) * 3).to(dtype).requires_grad_()
    targets = torch.randint(0, c, (n,), generator=gen)
    targets[1] = -100
    targets[2] = c - 1  # the last column, in the masked tail
    loss = kernels.cross_entropy(logits, targets)
    grad, = torch.autograd.grad(loss, logits)
    want_loss, want_grad = cross_entropy_float64(logits, targets)
    rows.append({"case": f"cross_entropy {n}x{c} {dtype}", "errors": [err(loss, want_loss), err(grad, want_grad)],
                 "tol": tol, "dtypes": [str(loss.dtype), str(grad.dtype)],
                 "ignored_grad_zero": bool((grad[1] == 0).all())})
print(json.dumps({"rows": rows, "grids": grids}))
"""


def test_triton_kernels_under_interpreter_masked_blocks_and_bf16_against_float64():
    """The kernels' edges: the LSTM over several row blocks with H short of its block (masked columns),
    the cross-entropy over masked column tails, in float32 and (cross-entropy) bf16, against float64."""
    pytest.importorskip("triton", reason="triton is not installed: its kernels cannot run here")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", INTERPRETER_CASES], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["grids"]["_lstm_fwd_kernel"] == [[1, 2], [1, 2]]  # two row blocks per direction: the kernel ran
    assert len(result["grids"]["_ce_fwd_kernel"]) == len(result["grids"]["_ce_bwd_kernel"]) == 4
    for row in result["rows"]:
        assert all(e <= row["tol"] for e in row["errors"]), row
        assert row.get("masked_zero", True) and row.get("ignored_grad_zero", True), row
        if "bfloat16" in row["case"]:
            assert row["dtypes"] == ["torch.bfloat16", "torch.bfloat16"], row
