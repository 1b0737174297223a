"""`workbench pretrain`: whole-model pretraining with progress, checkpoints, resume and a cache."""
from __future__ import annotations

import os
from pathlib import Path

from workbench.cli.common import add_command
from workbench.errors import WorkbenchError
from workbench.pretrain import PretrainOptions, pretrain_cached
from workbench.pretrain.options import ARCHS, OBJECTIVES, POSITIONS
from workbench.runs import resolve_device


def add_model_options(parser) -> None:
    """The `PretrainOptions` fields as options, with its defaults."""
    default = PretrainOptions()
    parser.add_argument("--objective", choices=OBJECTIVES, default=default.objective,
                        help="masked, causal or permutation LM")
    parser.add_argument("--arch", choices=ARCHS, default=default.arch, help="lstm: the ULMFiT/ELMo-style CLM")
    parser.add_argument("--corpus", default=default.corpus, help="microworld, wikitext2 or text:PATH")
    parser.add_argument("--steps", type=int, default=default.steps,
                        help="optimizer steps (default: the measured default for the corpus)")
    parser.add_argument("--batch-size", type=int, default=default.batch_size)
    parser.add_argument("--seq-len", type=int, default=default.seq_len)
    parser.add_argument("--d-model", type=int, default=default.d_model)
    parser.add_argument("--layers", type=int, default=default.layers)
    parser.add_argument("--heads", type=int, default=default.heads)
    parser.add_argument("--d-ff", type=int, default=default.d_ff)
    parser.add_argument("--positions", choices=POSITIONS, default=default.positions)
    parser.add_argument("--tie-embeddings", action="store_true", default=default.tie_embeddings,
                        help="share input embedding and output layer")
    parser.add_argument("--lr", type=float, default=default.lr)
    parser.add_argument("--seed", type=int, default=default.seed)


def options_from_args(args) -> PretrainOptions:
    return PretrainOptions(**{name: getattr(args, name) for name in PretrainOptions.names()})


def register(sub) -> None:
    parser = add_command(
        sub, "pretrain", "pretrain a whole language model (MLM, CLM, PLM, or an LSTM LM) on a corpus",
        "workbench pretrain --objective clm --corpus microworld --out runs/pretrain/clm", run,
        description="Pretrain a whole model on unlabeled text. Shows loss and tokens/s, validates (loss, perplexity, "
                    "accuracy), saves safetensors checkpoints at log-spaced steps (with tokens and FLOPs), and resumes "
                    "from the last checkpoint when rerun after an interruption. Without --out the model goes to the "
                    "artifact cache, keyed by corpus, vocabulary and config, where `workbench finetune` finds it. "
                    "--nproc N (or torchrun) trains with DDP on N processes, same global batch, same loss curve.")
    add_model_options(parser)
    parser.add_argument("--out", default=None, help="output folder (default: the artifact cache)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--nproc", type=int, default=1,
                        help="train in N local processes with DDP (gloo on CPU, NCCL on GPUs, one GPU each); "
                             "--batch-size stays the global batch. Under torchrun, leave it at 1")


def check_nproc(nproc: int) -> None:
    """One-line errors before any process starts (pretrain checks that the batch splits over the processes)."""
    if nproc < 1:
        raise WorkbenchError(f"--nproc {nproc}: must be a positive whole number of processes")
    if nproc > 1 and "WORLD_SIZE" in os.environ:
        raise WorkbenchError(f"--nproc {nproc} under torchrun (WORLD_SIZE is set): torchrun starts the processes; "
                             f"drop --nproc")


def run(args) -> int:
    device = resolve_device(args.device)
    model_cfg, cfg = options_from_args(args).configs()
    check_nproc(args.nproc)
    folder, final = pretrain_cached(model_cfg, cfg, args.corpus, out=Path(args.out) if args.out else None,
                                    device=device, progress=not args.quiet, nproc=args.nproc)
    if os.environ.get("RANK", "0") != "0":  # under torchrun every rank returns here; one summary is enough
        return 0
    shown = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in final.items() if k != "checkpoint")
    print(f"pretrained {args.objective} ({args.arch}) on {args.corpus}: {shown}")
    print(f"model folder: {folder}")
    return 0
