"""`workbench pretrain`: whole-model pretraining with progress, checkpoints, resume and a cache."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from workbench.cli.common import add_command
from workbench.errors import WorkbenchError
from workbench.pretrain import PretrainOptions, preset_options, pretrain_cached, save_half
from workbench.pretrain.options import ARCHS, OBJECTIVES, POSITIONS
from workbench.pretrain.presets import presets_help
from workbench.runs import resolve_device


def add_model_options(parser) -> None:
    """The `PretrainOptions` fields as options. Their defaults are `PretrainOptions`'s, or --preset's: an option
    left out takes the preset's value, so argparse records only the options given (SUPPRESS)."""
    default = PretrainOptions()
    given = {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="start from a named configuration (below); options given beside it override it",
    )
    parser.add_argument(
        "--objective",
        choices=OBJECTIVES,
        **given,
        help=f"masked, causal or permutation LM (default {default.objective})",
    )
    parser.add_argument("--arch", choices=ARCHS, **given, help="lstm: the ULMFiT/ELMo-style CLM")
    parser.add_argument(
        "--corpus", **given, help=f"microworld, wikitext2, imdb or text:PATH (default {default.corpus})"
    )
    parser.add_argument(
        "--steps", type=int, **given, help="optimizer steps (default: the measured default for the corpus)"
    )
    for option in ("batch_size", "seq_len", "d_model", "layers", "heads", "d_ff", "lstm_layers"):
        parser.add_argument(
            f"--{option.replace('_', '-')}", type=int, **given, help=f"(default {getattr(default, option)})"
        )
    parser.add_argument("--lstm-hidden", type=int, **given, help="LSTM width (default 2 x --d-model)")
    parser.add_argument("--positions", choices=POSITIONS, **given, help=f"(default {default.positions})")
    parser.add_argument("--tie-embeddings", action="store_true", **given, help="share input embedding and output layer")
    parser.add_argument("--lr", type=float, **given, help=f"(default {default.lr})")
    parser.add_argument("--seed", type=int, **given, help=f"(default {default.seed})")


def options_from_args(args) -> PretrainOptions:
    """The preset's options (or the defaults), with the options given on the command line in their place."""
    base = preset_options(args.preset) if getattr(args, "preset", None) else PretrainOptions()
    return replace(base, **{name: getattr(args, name) for name in PretrainOptions.names() if hasattr(args, name)})


def register(sub) -> None:
    parser = add_command(
        sub,
        "pretrain",
        "pretrain a whole language model (MLM, CLM, PLM, or an LSTM LM) on a corpus",
        "workbench pretrain --objective clm --corpus microworld --out runs/pretrain/clm\n"
        "  workbench pretrain --preset imdb-clm --time-budget 300 --half --device cuda --out runs/pretrain/imdb-clm\n\n"
        f"presets:\n{presets_help()}",
        run,
        description="Pretrain a whole model on unlabeled text. Shows loss and tokens/s, validates (loss, perplexity, "
        "accuracy), saves safetensors checkpoints at log-spaced steps (with tokens and FLOPs), and resumes "
        "from the last checkpoint when rerun after an interruption. Without --out the model goes to the "
        "artifact cache, keyed by corpus, vocabulary and config, where `workbench finetune` finds it. "
        "--nproc N (or torchrun) trains with DDP on N processes, same global batch, same loss curve.",
    )
    add_model_options(parser)
    parser.add_argument("--out", default=None, help="output folder (default: the artifact cache)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="instead of --steps: the steps that fit SECONDS on this device, measured by timing a "
        "few seconds of the run's own step first (recorded in config.json: --steps remakes it)",
    )
    parser.add_argument(
        "--half",
        action="store_true",
        help="save the final model.safetensors in float16 (what ships; checkpoints stay float32)",
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="train in N local processes with DDP (gloo on CPU, NCCL on GPUs, one GPU each); "
        "--batch-size stays the global batch. Under torchrun, leave it at 1",
    )


def check_nproc(nproc: int) -> None:
    """One-line errors before any process starts (pretrain checks that the batch splits over the processes)."""
    if nproc < 1:
        raise WorkbenchError(f"--nproc {nproc}: must be a positive whole number of processes")
    if nproc > 1 and "WORLD_SIZE" in os.environ:
        raise WorkbenchError(
            f"--nproc {nproc} under torchrun (WORLD_SIZE is set): torchrun starts the processes; drop --nproc"
        )


def run(args) -> int:
    device = resolve_device(args.device)
    options = options_from_args(args)
    model_cfg, cfg = options.configs()
    check_nproc(args.nproc)
    folder, final = pretrain_cached(
        model_cfg,
        cfg,
        options.corpus,
        out=Path(args.out) if args.out else None,
        device=device,
        progress=not args.quiet,
        nproc=args.nproc,
        time_budget=args.time_budget,
    )
    if os.environ.get("RANK", "0") != "0":  # under torchrun every rank returns here; one summary is enough
        return 0
    if args.half:
        save_half(folder)
    shown = "  ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in final.items() if k != "checkpoint"
    )
    print(f"pretrained {options.objective} ({options.arch}) on {options.corpus}: {shown}")
    print(f"model folder: {folder}")
    return 0
