"""`workbench pretrain`: whole-model pretraining with progress, checkpoints, resume and a cache."""
from __future__ import annotations

import os
from pathlib import Path

from workbench.cli.common import add_command
from workbench.errors import WorkbenchError


def add_model_options(parser) -> None:
    parser.add_argument("--objective", choices=("mlm", "clm", "plm"), default="clm", help="masked, causal or permutation LM")
    parser.add_argument("--arch", choices=("transformer", "lstm"), default="transformer", help="lstm: the ULMFiT/ELMo-style CLM")
    parser.add_argument("--corpus", default="microworld", help="microworld, wikitext2 or text:PATH")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the measured default for the corpus)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--d-ff", type=int, default=512)
    parser.add_argument("--positions", choices=("learned", "rotary"), default="learned")
    parser.add_argument("--tie-embeddings", action="store_true", help="share input embedding and output layer")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)


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


def configs_from_args(args):
    from workbench.models.lm import LMConfig
    from workbench.models.transformer import TransformerConfig
    from workbench.pretrain import PretrainConfig, default_steps

    for option in ("steps", "batch_size", "seq_len", "d_model", "layers", "heads", "d_ff"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise WorkbenchError(f"--{option.replace('_', '-')} {value}: must be a positive whole number")
    if args.d_model % args.heads:
        raise WorkbenchError(f"--d-model {args.d_model} is not divisible by --heads {args.heads}; pick sizes that divide")
    transformer = TransformerConfig(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, d_ff=args.d_ff,
                                    positions=args.positions, max_len=max(256, args.seq_len))
    if args.arch == "lstm" and args.objective != "clm":
        raise WorkbenchError(f"--arch lstm trains a causal LM: use --objective clm (not {args.objective})")
    model = LMConfig(objective=args.objective, arch=args.arch, tie_embeddings=args.tie_embeddings,
                     transformer=transformer, lstm_hidden=args.d_model * 2)
    steps = args.steps or default_steps(args.corpus)
    return model, PretrainConfig(steps=steps, batch_size=args.batch_size, seq_len=args.seq_len, lr=args.lr, seed=args.seed)


def check_nproc(nproc: int) -> None:
    """One-line errors before any process starts (pretrain checks that the batch splits over the processes)."""
    if nproc < 1:
        raise WorkbenchError(f"--nproc {nproc}: must be a positive whole number of processes")
    if nproc > 1 and "WORLD_SIZE" in os.environ:
        raise WorkbenchError(f"--nproc {nproc} under torchrun (WORLD_SIZE is set): torchrun starts the processes; drop --nproc")


def run(args) -> int:
    from workbench.pretrain import pretrain_cached
    from workbench.runs import resolve_device

    device = resolve_device(args.device)
    model_cfg, cfg = configs_from_args(args)
    check_nproc(args.nproc)
    folder, final = pretrain_cached(model_cfg, cfg, args.corpus, out=Path(args.out) if args.out else None,
                                    device=device, progress=not args.quiet, nproc=args.nproc)
    if os.environ.get("RANK", "0") != "0":  # under torchrun every rank returns here; one summary is enough
        return 0
    shown = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in final.items() if k != "checkpoint")
    print(f"pretrained {args.objective} ({args.arch}) on {args.corpus}: {shown}")
    print(f"model folder: {folder}")
    return 0
