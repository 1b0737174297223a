"""`workbench finetune`: one point of a curve, printed and recorded in a run folder."""

from __future__ import annotations

import time
from pathlib import Path

from workbench.atomic import write_json
from workbench.cli.common import Formatter, add_task_column_options, add_yes_option, task_options
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_task, task_arguments
from workbench.errors import WorkbenchError
from workbench.pipelines import describe_names
from workbench.pipelines.registry import pipeline_for
from workbench.pipelines.run import prepare, run_point
from workbench.pipelines.tuning import GRID_AUTO, Protocol, grid_for, parse_grid
from workbench.runs import environment, resolve_device


def register(sub) -> None:
    parser = sub.add_parser(
        "finetune",
        help="train one pipeline on a labeled subset (n, seed) and report test/shifted metrics",
        description="Train one pipeline on the nested labeled subset (n, seed) of a task, select it on a dev subset "
        "of n examples (each configuration of its tuning grid; --dev full: the whole dev split), and "
        "report its metrics on the test and shifted test splits.\n\n" + describe_names(),
        epilog="example:\n  workbench finetune --pipeline word2vec+lstm --task micro-sentiment --n 256 --seed 0",
        formatter_class=Formatter,
    )
    parser.add_argument("--pipeline", required=True, help="a pipeline name (listed above)")
    parser.add_argument("--task", default="micro-sentiment", help="a task name or spec (default: micro-sentiment)")
    parser.add_argument("--corpus", default="microworld", help="unlabeled corpus for pretraining (default: microworld)")
    parser.add_argument("--n", type=int, default=None, help="labeled examples (default: the whole train split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--max-steps", type=int, default=None, help="cap on training updates")
    parser.add_argument(
        "--backbone",
        default=None,
        help="pretrained pipelines: a `workbench pretrain` output folder (default: shipped or cached model)",
    )
    parser.add_argument(
        "--checkpoint",
        default="model.safetensors",
        help="which checkpoint of the backbone folder, e.g. checkpoints/step_0000512.safetensors",
    )
    parser.add_argument(
        "--layer-decay", type=float, default=None, help="layer-wise learning-rate decay, e.g. 0.8 (default off)"
    )
    parser.add_argument(
        "--shots",
        type=int,
        default=None,
        help=":icl pipelines: labeled examples written before each input (default 4, at most n)",
    )
    parser.add_argument(
        "--dev",
        default="few",
        help="few (default): early-stop and pick the configuration on a dev subset of n examples; "
        "full: on the whole dev split (oracle selection)",
    )
    parser.add_argument(
        "--grid",
        default="auto",
        help="configurations to try, the first N of the family's row of pipelines.tuning.TUNING_GRID "
        f"(default auto: {GRID_AUTO['cuda']} on a GPU, {GRID_AUTO['cpu']} on a CPU)",
    )
    parser.add_argument("--out", default=None, help="run folder (default: runs/finetune/PIPELINE_TASK_nN_sSEED)")
    add_yes_option(parser)
    add_task_column_options(parser)
    parser.set_defaults(func=run)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def _tried(config: dict, chosen: bool) -> str:
    """One configuration of the selection record: what it set and its dev score, `*` if chosen."""
    settings = " ".join(f"{key}={value:g}" for key, value in config.items() if key != "dev_score")
    return f"{settings} {config['dev_score']:.3f}{'*' if chosen else ''}"


def run(args) -> int:
    device = resolve_device(args.device)
    task = resolve_task(args.task, **task_arguments(task_options(args)))
    n = args.n if args.n is not None else len(task.splits["train"])
    if args.max_steps is not None and args.max_steps < 1:
        raise WorkbenchError(f"--max-steps {args.max_steps}: give a positive number of updates")
    train = {}
    if args.max_steps:
        train["max_steps"] = args.max_steps
    if args.layer_decay is not None:
        if not 0 < args.layer_decay <= 1:
            raise WorkbenchError(f"--layer-decay {args.layer_decay}: choose a factor in (0, 1]")
        train["layer_decay"] = args.layer_decay
    settings = {"train": train} if train else {}
    if args.shots is not None:
        if args.shots < 1:
            raise WorkbenchError(f"--shots {args.shots}: give a positive number of in-context examples")
        settings["shots"] = args.shots
    if args.backbone:
        settings["backbone"] = args.backbone
    if args.checkpoint != "model.safetensors":
        settings["checkpoint"] = args.checkpoint
    pipeline = pipeline_for(args.pipeline, settings)  # an option this pipeline does not read is an error
    out = Path(args.out or f"runs/finetune/{_safe(args.pipeline)}_{_safe(task.name)}_n{n}_s{args.seed}")
    grid = grid_for(parse_grid(args.grid), device)
    protocol = Protocol(args.dev, grid)
    config = {
        "command": "finetune",
        "pipeline": args.pipeline,
        "task": args.task,
        "corpus": args.corpus,
        "n": n,
        "seed": args.seed,
        "device": device,
        "settings": settings,
        "dev": args.dev,
        "grid": grid,
    }
    started = time.perf_counter()
    if n > 0 or pipeline.trains(0):
        subset(task, n, args.seed)  # validate n before any training (n = 0 is zero-shot where nothing is trained)
    prepared = prepare(
        args.pipeline, task, args.corpus, settings=settings, device=device, progress=True, assume_yes=args.yes
    )
    result = run_point(prepared, n, args.seed, device, protocol)
    result["prepare_info"] = prepared.info
    result["total_seconds"] = time.perf_counter() - started
    write_json(out / "config.json", config)
    write_json(out / "environment.json", environment(device))
    write_json(out / "results.json", result)
    print(f"{args.pipeline} on {task.name}, n={n}, seed={args.seed} ({result['total_seconds']:.1f} s)")
    if "coverage" in prepared.info:
        print(f"  coverage: {prepared.info['coverage']}")  # the vectors' words, or a checkpoint's own tokenizer
    pre = prepared.info.get("pretraining", {})
    if pre.get("tokens"):
        where = f" ({pre['folder']})" if pre.get("folder") else ""
        print(f"  pretraining: {pre['method']}, {pre['tokens']:,} tokens, {pre['flops']:.3g} FLOPs{where}")
    elif pre.get("parameters") and pre.get(
        "folder"
    ):  # a checkpoint made elsewhere (hf:PATH): its tokens and FLOPs are not known here
        print(f"  pretraining: {pre['method']}, {pre['parameters']:,} parameters ({pre['folder']})")
    selection = result["selection"]
    if selection["dev"] != "none":
        print(
            f"  selected on {selection['dev_size']} dev examples ({selection['dev']}): "
            + ", ".join(_tried(config, i == selection["chosen"]) for i, config in enumerate(selection["configs"]))
        )
    for split, values in result["metrics"].items():
        shown = "  ".join(f"{k}={v:.3f}" for k, v in values.items())
        print(f"  {split:8} {shown}")
    print(f"run folder: {out}")
    return 0
