"""Pretraining throughput and model FLOP utilization, against the matmul rate measured in the same run.

    python bench/pretrain/run.py [--steps 40] [--device auto] [--threads 2]

For each objective (MLM, CLM, PLM on the Transformer; CLM on the LSTM) at the default backbone
size, times `--steps` optimizer steps on the micro-world after a warm-up, and reports tokens/s,
achieved FLOP/s (the same 6 x params x tokens + head + attention count that checkpoints record)
and its ratio to the device's measured dense matmul rate (float32 on CPU, bf16 on a GPU).
Medians over repeats. Also: tied vs untied input/output embeddings, validation loss after
`--tie-steps` steps of CLM (an option the issue asked to measure).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import build_vocab
from workbench.models.lm import LanguageModel
from workbench.pretrain import PretrainOptions, pretrain
from workbench.pretrain.loop import sample_blocks, token_stream
from workbench.pretrain.objectives import TARGETS_PER_TOKEN, flops_per_step, lm_loss


def matmul_rate(device: str, dtype: torch.dtype, size: int = 1024, repeats: int = 5) -> float:
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    rates = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        rates.append(10 * 2 * size**3 / (time.perf_counter() - start))
    return statistics.median(rates)


def args_for(objective: str, arch: str = "transformer", batch_size: int = 32):
    """The default backbone's configs (what `workbench pretrain` trains), at another batch size."""
    return PretrainOptions(objective=objective, arch=arch, batch_size=batch_size).configs()


def time_steps(
    objective: str, arch: str, stream, vocab, steps: int, device: str, repeats: int, batch_size: int = 32
) -> dict:
    model_cfg, cfg = args_for(objective, arch, batch_size)
    model_cfg.vocab_size = len(vocab)
    model = LanguageModel(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    )

    def step():
        ids = sample_blocks(stream, cfg.batch_size, cfg.seq_len, generator)
        with autocast:
            loss, _, _ = lm_loss(model, ids, generator, vocab.mask_id)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    timings = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
        timings.append((time.perf_counter() - start) / steps)
    seconds = statistics.median(timings)
    flops = flops_per_step(model, cfg, TARGETS_PER_TOKEN[objective])
    return {
        "tokens_per_s": cfg.batch_size * cfg.seq_len / seconds,
        "flops_per_s": flops / seconds,
        "params": model.n_params(False),
    }


def tie_comparison(steps: int, device: str) -> dict:
    corpus, vocab = resolve_corpus("microworld"), build_vocab("microworld")
    out = {}
    for tie in (False, True):
        model_cfg, cfg = args_for("clm")
        model_cfg.tie_embeddings = tie
        cfg.steps, cfg.eval_every = steps, steps
        with tempfile.TemporaryDirectory() as folder:
            out["tied" if tie else "untied"] = pretrain(
                model_cfg, cfg, corpus, "microworld", vocab, folder, device, progress=False
            )["val_loss"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batch-sizes",
        default="32",
        help="comma-separated; the default pretraining batch is 32, a GPU needs more rows to fill",
    )
    parser.add_argument("--tie-steps", type=int, default=0, help="also compare tied/untied CLM after this many steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = (
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    peak = matmul_rate(device, dtype, size=4096 if device == "cuda" else 1024)
    name = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; measured {str(dtype).split('.')[-1]} matmul rate: {peak / 1e9:.1f} GFLOP/s")
    vocab = build_vocab("microworld")
    stream = token_stream(resolve_corpus("microworld").documents, vocab).to("cpu")
    print(f"{'model':22} {'batch':>5} {'params':>9} {'tokens/s':>10} {'GFLOP/s':>9} {'MFU':>6}")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        for objective, arch in (
            ("mlm", "transformer"),
            ("clm", "transformer"),
            ("plm", "transformer"),
            ("clm", "lstm"),
        ):
            r = time_steps(objective, arch, stream, vocab, args.steps, device, args.repeats, batch_size)
            print(
                f"{objective + ' ' + arch:22} {batch_size:5} {r['params']:9,} {r['tokens_per_s']:10,.0f} "
                f"{r['flops_per_s'] / 1e9:9.2f} {r['flops_per_s'] / peak:6.1%}",
                flush=True,
            )
    if args.tie_steps:
        print(f"CLM validation loss after {args.tie_steps} steps: {tie_comparison(args.tie_steps, device)}")


if __name__ == "__main__":
    main()
