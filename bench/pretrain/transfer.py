"""What a pretrained backbone transfers to micro-sentiment: accuracy on test and shifted test, mean
over seeds, and by phenomenon (negation, contrast, ...), for one pipeline at one labeled size.

    python bench/pretrain/transfer.py --pipeline mlm --backbone runs/pretrain/mlm --n 64 --seeds 0,1,2
    python bench/pretrain/transfer.py --pipeline clm:prompt --backbone runs/pretrain/clm --n 0
    python bench/pretrain/transfer.py --pipeline scratch-transformer --n 64

The same code path as `workbench finetune` and `workbench compare` (prepare, run_points), one
point after another on the CPU; the figures in bench/NOTES.md come from it.
"""

from __future__ import annotations

import argparse
import statistics

from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.pipelines.run import prepare, run_points
from workbench.runs import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument(
        "--backbone", default=None, help="a `workbench pretrain` output folder (default: shipped or cached)"
    )
    parser.add_argument("--checkpoint", default="model.safetensors")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    device = resolve_device("cpu")
    task, vocab = resolve_task("micro-sentiment"), build_vocab("microworld")
    settings = {"backbone": args.backbone, "checkpoint": args.checkpoint} if args.backbone else {}
    prepared = prepare(args.pipeline, task, "microworld", vocab, settings, device)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = run_points(prepared, [(args.n, s) for s in seeds], device, fused=False)
    for split in ("test", "shifted"):
        accs = [r["metrics"][split]["accuracy"] for r in results]
        print(
            f"{args.pipeline} n={args.n} {split}: {' '.join(f'{a:.3f}' for a in accs)}  mean {statistics.mean(accs):.3f}"
        )
    keys = sorted(k for k in results[0]["metrics"]["test"] if k.startswith("accuracy["))
    print(
        "by phenomenon (test, mean): "
        + ", ".join(f"{k[9:-1]} {statistics.mean(r['metrics']['test'][k] for r in results):.2f}" for k in keys)
    )


if __name__ == "__main__":
    main()
