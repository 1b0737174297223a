"""Benchmarks of the fused training core, each measured against its own baseline in the same run.

    python bench/core/run.py [--device auto] [--ks 1,4,16] [--steps 30] [--repeats 3] [--json out.json]

(a) fused: K runs of one pipeline trained as one fused model (core.fused.fit_fused) vs the same
    K runs one after another (core.train.fit), same steps and same data; runs/s and tokens/s,
    for the BiLSTM (random+lstm) and the Transformer (scratch-transformer).
(b) lstm: our LSTM (replica-batched, the recurrence in core.kernels) vs nn.LSTM (cuDNN on a
    GPU), forward + backward, time per replica.
(c) mfu: the Transformer core (forward + backward, bf16 autocast on a GPU) in FLOP/s, against
    the dense matmul rate measured on the same device in the same run (bf16 on a GPU, float32
    on a CPU).
Figures are medians over --repeats; bench/NOTES.md records them with the device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.core.fused import fit_fused  # noqa: E402
from workbench.core.train import TrainConfig, autocast, fit  # noqa: E402
from workbench.data.subsets import subset  # noqa: E402
from workbench.data.tasks import resolve_task  # noqa: E402
from workbench.data.vocab import build_vocab  # noqa: E402
from workbench.models.lstm import LSTM  # noqa: E402
from workbench.models.transformer import TransformerConfig, TransformerEncoder  # noqa: E402
from workbench.pipelines.run import prepare  # noqa: E402

PIPELINES = {"random+lstm": {"encoder": {"hidden": 128}}, "scratch-transformer": {}}


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeats: int, warmup=None) -> float:
    """Median seconds of fn() over repeats, after one warm-up call (of `warmup` if given: a cheaper
    call that compiles and caches the same kernels)."""
    (warmup or fn)()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_rate(device, dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    return 10 * 2 * size**3 / timed(lambda: [a @ b for _ in range(10)], device, repeats)


def bench_fused(
    device,
    ks: list[int],
    steps: int,
    repeats: int,
    n: int = 256,
    corpus: str = "microworld:300000",
    stop_after: float = float("inf"),
) -> list[dict]:
    """(a): the same K runs (seeds 0..K-1, n labels each, exactly `steps` updates, dev scored at the
    end) fused and sequential. Stops early (keeping what it has) once perf_counter passes `stop_after`."""
    task = resolve_task("micro-sentiment")
    vocab = build_vocab(corpus)
    cfg = TrainConfig(min_steps=steps, max_steps=steps, max_epochs=1, max_evals=1, patience=10**6)
    dev, dev_examples = None, task.splits["dev"][:128]
    rows = []
    prepared_all = {p: prepare(p, task, corpus, vocab, settings, str(device)) for p, settings in PIPELINES.items()}
    for k, pipeline in [(k, pipeline) for k in ks for pipeline in PIPELINES]:
        if time.perf_counter() > stop_after:
            break
        prepared = prepared_all[pipeline]
        dev = prepared.encoded["dev"][:128]
        mean_len = statistics.mean(len(e.ids) for e in prepared.encoded["train"])
        seeds = list(range(k))
        trains = [[prepared.encoded["train"][i] for i in subset(task, n, s)] for s in seeds]

        def models():
            out = []
            for s in seeds:
                torch.manual_seed(s)
                out.append(prepared.pipeline.build_model(prepared))
            return out

        def fused():
            fit_fused(models(), trains, seeds, dev, dev_examples, task, cfg, device)

        def sequential(count=k):
            for model, train, s in list(zip(models(), trains, seeds))[:count]:
                fit(model, train, dev, dev_examples, task, cfg, s, device)

        t_fused = timed(fused, device, repeats)
        t_seq = timed(sequential, device, repeats, warmup=lambda: sequential(1))
        tokens = k * steps * min(n, cfg.batch_size) * mean_len
        rows.append(
            {
                "bench": "fused",
                "pipeline": pipeline,
                "K": k,
                "steps": steps,
                "fused_s": t_fused,
                "sequential_s": t_seq,
                "fused_runs_per_s": k / t_fused,
                "sequential_runs_per_s": k / t_seq,
                "fused_tokens_per_s": tokens / t_fused,
                "sequential_tokens_per_s": tokens / t_seq,
                "speedup": t_seq / t_fused,
            }
        )
    return rows


def bench_lstm(
    device, ks: list[int], repeats: int, batch: int = 32, length: int = 40, d: int = 100, hidden: int = 128
) -> list[dict]:
    """(b): one bidirectional layer, forward + backward; ours fused over K replicas vs nn.LSTM on one."""
    from torch.func import functional_call, vmap
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lengths = torch.randint(length // 2, length + 1, (batch,))
    lengths[0] = length
    mask = (torch.arange(length)[None] < lengths[:, None]).to(device)
    reference = torch.nn.LSTM(d, hidden, batch_first=True, bidirectional=True).to(device)
    x1 = torch.randn(batch, length, d, device=device, requires_grad=True)

    def nn_lstm():
        packed = pack_padded_sequence(x1, lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=length)
        out.sum().backward()

    t_ref = timed(nn_lstm, device, repeats)
    rows = []
    for k in ks:
        ours = LSTM(d, hidden, bidirectional=True).to(device)
        params = {name: torch.stack([p.detach()] * k).requires_grad_() for name, p in ours.named_parameters()}
        xk = torch.randn(k, batch, length, d, device=device, requires_grad=True)

        def fused_lstm():
            out = vmap(lambda p, x: functional_call(ours, p, (x, mask)))(params, xk)
            out.sum().backward()

        t_ours = timed(fused_lstm, device, repeats)
        rows.append(
            {
                "bench": "lstm",
                "K": k,
                "ours_per_replica_ms": 1e3 * t_ours / k,
                "nn_lstm_ms": 1e3 * t_ref,
                "ratio_nn_over_ours": t_ref / (t_ours / k),
            }
        )
    return rows


def transformer_flops(cfg: TransformerConfig, batch: int, length: int) -> float:
    """Forward + backward FLOPs of the blocks: 6 per weight per token plus attention's QK^T and AV."""
    d, layers = cfg.d_model, cfg.n_layers
    weights = layers * (4 * d * d + 2 * d * cfg.d_ff)
    return 6 * weights * batch * length + layers * 12 * batch * length * length * d


def bench_mfu(device, repeats: int, d: int, layers: int, length: int, batch: int, compiled: bool = False) -> dict:
    """(c): the Transformer core's achieved FLOP/s against the measured matmul rate (eager, or
    under torch.compile to see whether it pays)."""
    cuda = torch.device(device).type == "cuda"
    cfg = TransformerConfig(
        d_model=d, n_layers=layers, n_heads=max(1, d // 64), d_ff=4 * d, dropout=0.0, max_len=length
    )
    model = TransformerEncoder(cfg).to(device)
    forward = torch.compile(model) if compiled else model
    x = torch.randn(batch, length, d, device=device)
    pad = torch.ones(batch, length, dtype=torch.bool, device=device)

    def step():
        with autocast(device):
            out = forward(x, pad)
        out.float().square().mean().backward()

    seconds = timed(step, device, repeats)
    achieved = transformer_flops(cfg, batch, length) / seconds
    peak = matmul_rate(device, torch.bfloat16 if cuda else torch.float32, 8192 if cuda else 1024)
    return {
        "bench": "mfu",
        "d_model": d,
        "layers": layers,
        "length": length,
        "batch": batch,
        "step_ms": 1e3 * seconds,
        "achieved_tflops": achieved / 1e12,
        "matmul_tflops": peak / 1e12,
        "fraction_of_matmul": achieved / peak,
        "precision": "bf16" if cuda else "fp32",
        "compiled": compiled,
    }


def table(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        if r["bench"] == "fused":
            lines.append(
                f"fused  {r['pipeline']:<20} K={r['K']:<3} fused {r['fused_runs_per_s']:8.3f} runs/s "
                f"{r['fused_tokens_per_s']:10.0f} tok/s | sequential {r['sequential_runs_per_s']:8.3f} runs/s "
                f"| speedup {r['speedup']:.2f}x"
            )
        elif r["bench"] == "lstm":
            lines.append(
                f"lstm   K={r['K']:<3} ours {r['ours_per_replica_ms']:8.2f} ms/replica | nn.LSTM "
                f"{r['nn_lstm_ms']:8.2f} ms | nn/ours {r['ratio_nn_over_ours']:.2f}"
            )
        elif r["bench"] == "mfu":
            lines.append(
                f"mfu    {'compiled' if r['compiled'] else 'eager'} d={r['d_model']} L={r['layers']} T={r['length']} B={r['batch']} "
                f"{r['achieved_tflops']:.3f} TFLOP/s of {r['matmul_tflops']:.3f} measured {r['precision']} "
                f"matmul = {100 * r['fraction_of_matmul']:.0f}%"
            )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ks", default=None, help="replica counts (default 1,4,16 on CPU; 1,4,16,32,64 on a GPU)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="fused,lstm,mfu")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    device = (
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    cuda = device.startswith("cuda")
    if not cuda:
        torch.set_num_threads(1)  # see workbench.runs.resolve_device
    ks = [int(k) for k in (args.ks or ("1,4,16,32,64" if cuda else "1,4,16")).split(",")]
    rows = []
    only = args.only.split(",")
    if "fused" in only:
        rows += bench_fused(device, ks, args.steps, args.repeats)
    if "lstm" in only:
        rows += bench_lstm(device, ks, args.repeats)
    if "mfu" in only:
        rows.append(bench_mfu(device, args.repeats, *((1024, 8, 512, 16) if cuda else (512, 2, 128, 8))))
    device_name = torch.cuda.get_device_name(0) if cuda else "cpu, 1 thread"
    print(f"device: {device_name}; torch {torch.__version__}")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"device": device_name, "torch": torch.__version__, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
