"""Every GPU check in one call (GPU time is scarce): kernels against their references, then the
core benchmarks at sizes that fill the GPU, a short table last. Under 5 minutes on an H100.

    python bench/gpu_check.py [--json $OUT/gpu_check.json]

1. each kernel in core.kernels against its torch reference (kernels.self_check), random inputs;
2. attention folded over replicas (bf16) against SDPA per replica; our LSTM against cuDNN's;
3. the fused core's contract on the GPU: K fused replicas = K separate runs (fp32), and a bf16
   fused run stays finite;
4. bench/core (a) fused vs sequential, (b) our LSTM vs cuDNN, (c) Transformer MFU (eager, then
   torch.compile if it pays).
With --fused-only (what bench/pretrain/gpu_session.py runs when time remains): only the fused core from CUDA
graphs (`core.graphs`) against eager, then K runs sequential / fused / fused from graphs.
Exits 1 if a check fails (the benchmarks still run, so one call gives every figure).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
STARTED = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {text}", flush=True)


def rel_err(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.float() - want.float()).norm() / want.float().norm().clamp(min=1e-12)).item()


def check_attention(device) -> list[dict]:
    import torch.nn.functional as F
    from torch.func import vmap

    from workbench.core.folded_attention import attend, replica_folding

    rows = []
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 2e-2)):
        q, k, v = (torch.randn(8, 16, 4, 128, 64, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
        mask = torch.rand(8, 16, 1, 128, 128, device=device) > 0.2
        mask |= torch.eye(128, dtype=torch.bool, device=device)
        with replica_folding():
            out = vmap(lambda q, k, v, m: attend(q, k, v, m, 0.0))(q, k, v, mask)
        want = torch.stack([F.scaled_dot_product_attention(q[i], k[i], v[i], attn_mask=mask[i]) for i in range(8)])
        g = torch.randn_like(out)
        grads = torch.autograd.grad(out, (q, k, v), g)
        ref = torch.autograd.grad(want, (q, k, v), g)
        err = max([rel_err(out, want)] + [rel_err(a, b) for a, b in zip(grads, ref)])
        nan = bool(out.isnan().any()) or any(bool(a.isnan().any()) for a in grads)
        rows.append(
            {
                "kernel": f"folded attention {str(dtype)[6:]}",
                "max_rel_err": err,
                "ok": err < tol and not nan,
                "nan": nan,
            }
        )
    return rows


def check_lstm_vs_cudnn(device) -> dict:
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from workbench.models.lstm import LSTM

    ours = LSTM(100, 128, num_layers=2, bidirectional=True).to(device)
    ref = torch.nn.LSTM(100, 128, num_layers=2, bidirectional=True, batch_first=True).to(device)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(32, 40, 100, device=device, requires_grad=True)
    lengths = torch.randint(5, 41, (32,))
    lengths[0] = 40
    mask = (torch.arange(40)[None] < lengths[:, None]).to(device)
    got = ours(x, mask)
    packed, _ = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    want, _ = pad_packed_sequence(packed, batch_first=True, total_length=40)
    g = torch.randn_like(got)
    a = torch.autograd.grad(got, [x] + list(ours.parameters()), g)
    b = torch.autograd.grad(want, [x] + list(ref.parameters()), g)
    err = max([rel_err(got, want)] + [rel_err(u, w) for u, w in zip(a, b)])
    return {
        "kernel": "our LSTM vs cuDNN nn.LSTM (fp32, fwd+bwd)",
        "max_rel_err": err,
        "ok": err < 1e-4,
        "nan": bool(got.isnan().any()),
    }


def check_fused_contract(device) -> list[dict]:
    from workbench.core.fused import fit_fused, without_dropout
    from workbench.core.train import TrainConfig, fit
    from workbench.data.subsets import subset
    from workbench.data.tasks import resolve_task
    from workbench.data.vocab import build_vocab
    from workbench.pipelines.run import prepare

    corpus = "microworld:100000"
    vocab = build_vocab(corpus)
    rows = []
    for task_name in ("micro-sentiment", "micro-tagging"):
        task = resolve_task(task_name)
        for pipeline in ("random+lstm", "scratch-transformer"):
            prepared = prepare(pipeline, task, corpus, vocab, {}, device)
            dev, dev_examples = prepared.encoded["dev"][:100], task.splits["dev"][:100]
            points = [(16, 0), (48, 1), (48, 2), (100, 3)]
            trains = [[prepared.encoded["train"][i] for i in subset(task, n, s)] for n, s in points]
            seeds = [s for _, s in points]

            def model(seed):
                torch.manual_seed(seed)
                return without_dropout(prepared.pipeline.build_model(prepared))

            for precision in ("fp32", "bf16"):
                cfg = TrainConfig(
                    max_steps=30, min_steps=10, max_evals=3, batch_size=16, patience=1, precision=precision
                )
                fused = fit_fused([model(s) for s in seeds], trains, seeds, dev, dev_examples, task, cfg, device)
                losses = [h[1] for r in fused for h in r.history[1:]]
                finite = all(math.isfinite(x) for x in losses)
                if precision == "bf16":
                    rows.append(
                        {
                            "kernel": f"fused bf16 run {pipeline} {task_name}",
                            "max_rel_err": float("nan"),
                            "ok": finite,
                            "nan": not finite,
                        }
                    )
                    continue
                err = 0.0
                for (_n, s), train, got in zip(points, trains, fused):
                    want = fit(model(s), train, dev, dev_examples, task, cfg, s, device)
                    if (got.steps, got.best_step) != (want.steps, want.best_step):
                        err = float("inf")
                    for h1, h2 in zip(got.history[1:], want.history[1:]):
                        err = max(err, abs(h1[1] - h2[1]) / abs(h2[1]))
                rows.append(
                    {
                        "kernel": f"fused = separate {pipeline} {task_name} (fp32 losses)",
                        "max_rel_err": err,
                        "ok": err < 1e-3 and finite,
                        "nan": not finite,
                    }
                )
    return rows


def fused_runs(pipeline: str, k: int, device, n: int = 256, corpus: str = "microworld:300000"):
    """(models(), trains, seeds, dev, dev_examples, task) for K runs of `pipeline` on micro-sentiment, without
    dropout (so the CUDA-graph path captures them: `core.graphs.capturable`)."""
    from workbench.core.fused import without_dropout
    from workbench.data.subsets import subset
    from workbench.data.tasks import resolve_task
    from workbench.data.vocab import build_vocab
    from workbench.pipelines.run import prepare

    task = resolve_task("micro-sentiment")
    prepared = prepare(pipeline, task, corpus, build_vocab(corpus), {}, str(device))
    seeds = list(range(k))
    trains = [[prepared.encoded["train"][i] for i in subset(task, n, s)] for s in seeds]

    def models():
        out = []
        for s in seeds:
            torch.manual_seed(s)
            out.append(without_dropout(prepared.pipeline.build_model(prepared)))
        return out

    return models, trains, seeds, prepared.encoded["dev"][:128], task.splits["dev"][:128], task


def check_graphs(device) -> list[dict]:
    """Fused runs replayed from CUDA graphs = the same fused runs eager (fp32 losses, same stopping steps)."""
    from workbench.core.fused import fit_fused
    from workbench.core.graphs import cuda_graphs
    from workbench.core.train import TrainConfig

    rows = []
    for pipeline in ("random+lstm", "scratch-transformer"):
        models, trains, seeds, dev, dev_examples, task = fused_runs(pipeline, 4, device, n=48)
        cfg = TrainConfig(max_steps=30, min_steps=10, max_evals=3, batch_size=16, patience=1, precision="fp32")
        eager = fit_fused(models(), trains, seeds, dev, dev_examples, task, cfg, device)
        with cuda_graphs():
            graphed = fit_fused(models(), trains, seeds, dev, dev_examples, task, cfg, device)
        err = 0.0
        for got, want in zip(graphed, eager):
            if (got.steps, got.best_step) != (want.steps, want.best_step):
                err = float("inf")
            for h1, h2 in zip(got.history[1:], want.history[1:]):
                err = max(err, abs(h1[1] - h2[1]) / abs(h2[1]))
        rows.append(
            {
                "kernel": f"fused from CUDA graphs = fused eager {pipeline} (fp32 losses)",
                "max_rel_err": err,
                "ok": err < 1e-3,
                "nan": not math.isfinite(err),
            }
        )
    return rows


def time_three_ways(runs, k: int, steps: int, device) -> dict:
    """Seconds for K runs (`fused_runs`' tuple) one after another, fused, and fused from CUDA graphs."""
    from bench.core.run import timed
    from workbench.core.fused import fit_fused
    from workbench.core.graphs import cuda_graphs
    from workbench.core.train import TrainConfig, fit

    models, trains, seeds, dev, dev_examples, task = runs
    cfg = TrainConfig(min_steps=steps, max_steps=steps, max_epochs=1, max_evals=1, patience=10**6)

    def sequential(count=k):
        for model, train, s in list(zip(models(), trains, seeds))[:count]:
            fit(model, train, dev, dev_examples, task, cfg, s, device)

    def fused():
        fit_fused(models(), trains, seeds, dev, dev_examples, task, cfg, device)

    def graphed():
        with cuda_graphs():
            fused()

    return {
        "sequential_s": timed(sequential, device, 1, warmup=lambda: sequential(1)),
        "fused_s": timed(fused, device, 2),
        "graphed_s": timed(graphed, device, 2),
    }


def bench_graphs(device, ks: list[int], steps: int, stop_after: float) -> list[dict]:
    """K runs (n = 256, exactly `steps` updates, no dropout) one after another, fused, and fused from CUDA graphs."""
    rows = []
    for k in ks:
        for pipeline in ("scratch-transformer", "random+lstm"):
            if time.perf_counter() > stop_after:
                return rows
            t = time_three_ways(fused_runs(pipeline, k, device), k, steps, device)
            rows.append(
                {
                    "bench": "fused+graphs",
                    "pipeline": pipeline,
                    "K": k,
                    "steps": steps,
                    **t,
                    "speedup_fused": t["sequential_s"] / t["fused_s"],
                    "speedup_graphed": t["sequential_s"] / t["graphed_s"],
                }
            )
            log(
                f"K={k} {pipeline}: sequential {t['sequential_s']:.2f} s, fused {t['fused_s']:.2f} s "
                f"({rows[-1]['speedup_fused']:.1f}x), graphed {t['graphed_s']:.2f} s "
                f"({rows[-1]['speedup_graphed']:.1f}x)"
            )
    return rows


def run_checks(device, skip_kernels: bool = False) -> list[dict]:
    rows = []
    try:
        if not skip_kernels:
            from workbench.core import kernels

            rows += kernels.self_check(device)
            log("kernels.self_check done")
    except Exception as exc:  # a broken kernel must not hide the other figures
        rows.append({"kernel": "kernels.self_check", "ok": False, "error": repr(exc)[:300]})
    for name, fn in (("attention", check_attention), ("lstm", check_lstm_vs_cudnn), ("fused", check_fused_contract)):
        try:
            out = fn(device)
            rows += out if isinstance(out, list) else [out]
        except Exception as exc:
            rows.append({"kernel": name, "ok": False, "error": repr(exc)[:300]})
        log(f"check {name} done")
    return rows


def fused_only(device, name: str, args) -> int:
    """`--fused-only`: the CUDA-graph check and the three-way timing, a table, the JSON."""
    ks = [int(k) for k in args.ks.split(",")]
    try:
        checks = check_graphs(device)
    except Exception as exc:  # a failed capture must not hide the eager figures
        checks = [{"kernel": "graphs", "ok": False, "error": repr(exc)[:300]}]
    log("check graphs done")
    try:
        rows = bench_graphs(device, ks, args.steps, STARTED + args.max_seconds)
    except Exception as exc:
        rows = [{"bench": "fused+graphs", "error": repr(exc)[:300]}]
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"device": name, "torch": torch.__version__, "checks": checks, "bench": rows}, indent=2, default=str
            )
        )
    for c in checks:
        print(f"{'PASS' if c.get('ok') else 'FAIL'}  {c['kernel']}  {c.get('max_rel_err', c.get('error'))}")
    print(
        f"{'pipeline':22} {'K':>3} {'sequential s':>12} {'fused s':>8} {'graphed s':>9} {'fused x':>8} {'graphed x':>9}"
    )
    for r in rows:
        if "error" in r:
            print(f"ERROR {r['error']}")
            continue
        print(
            f"{r['pipeline']:22} {r['K']:3} {r['sequential_s']:12.2f} {r['fused_s']:8.2f} {r['graphed_s']:9.2f} "
            f"{r['speedup_fused']:8.1f} {r['speedup_graphed']:9.1f}"
        )
    return 0 if all(c.get("ok") for c in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None)
    parser.add_argument("--ks", default="1,4,16,32,64")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=280,
        help="skip what is left of the benchmarks once this much time has passed (a table still prints)",
    )
    parser.add_argument(
        "--skip-kernels", action="store_true", help="skip kernels.self_check (Triton compiles take ~20 s)"
    )
    parser.add_argument(
        "--fused-only",
        action="store_true",
        help="only the fused core with and without CUDA graphs: graphed = eager, then K runs "
        "sequential / fused / fused from graphs (no dropout, so every variant can be captured)",
    )
    parser.add_argument(
        "--dry-run-cpu",
        action="store_true",
        help="run the whole script on the CPU at tiny sizes, to check it before spending GPU time",
    )
    args = parser.parse_args()
    if args.dry_run_cpu:
        device, args.ks, args.steps = "cpu", "1,2", 3
        torch.set_num_threads(1)
    elif not torch.cuda.is_available():
        print("bench/gpu_check.py needs a CUDA device (or --dry-run-cpu); on CPU run the tests and bench/core/run.py")
        return 2
    else:
        device = "cuda"
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 checks compare fp32, not TF32
        torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)"
    log(f"{name}, torch {torch.__version__}")
    if args.fused_only:
        return fused_only(device, name, args)
    checks = run_checks(device, args.skip_kernels)
    from bench.core.run import bench_fused, bench_lstm, bench_mfu, table

    rows = []
    ks = [int(k) for k in args.ks.split(",")]
    mfu_size = (1024, 8, 512, 16) if device == "cuda" else (128, 1, 32, 2)
    for name, fn in (
        ("mfu", lambda: [bench_mfu(device, 5, *mfu_size)]),
        ("lstm", lambda: bench_lstm(device, [1, 16, 64] if device == "cuda" else [1, 2], 3)),
        ("fused", lambda: bench_fused(device, ks, args.steps, 1, stop_after=STARTED + args.max_seconds)),
    ):
        if time.perf_counter() - STARTED > args.max_seconds:
            rows.append({"bench": name, "error": "skipped: --max-seconds reached"})
            continue
        try:
            rows += fn()
        except Exception as exc:
            rows.append({"bench": name, "error": repr(exc)[:300]})
        log(f"bench {name} done")
    if time.perf_counter() - STARTED < args.max_seconds - 60:
        try:
            rows.append(bench_mfu(device, 5, *mfu_size, compiled=device == "cuda"))
        except Exception as exc:
            rows.append({"bench": "mfu-compiled", "error": repr(exc)[:300]})
        log("bench mfu compiled done")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"device": name, "torch": torch.__version__, "checks": checks, "bench": rows}, indent=2, default=str
            )
        )
    print("\n== checks ==")
    for c in checks:
        err = c.get("max_rel_err")
        print(
            f"{'PASS' if c.get('ok') else 'FAIL'}  {c.get('kernel'):<60} rel err {err if err is None else f'{err:.2e}'}"
            f"{'  ' + c['error'] if 'error' in c else ''}"
        )
    print("\n== benchmarks ==")
    print(table([r for r in rows if "error" not in r]))
    for r in rows:
        if "error" in r:
            print(f"ERROR {r['bench']}: {r['error']}")
    log("total")
    return 0 if all(c.get("ok") for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
