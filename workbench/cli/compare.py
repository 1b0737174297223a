"""`workbench compare`: the main job. Data-efficiency curves over pipelines, sizes and seeds, then a lab report."""

from __future__ import annotations

from workbench.cli.common import add_command, add_task_column_options, add_yes_option, task_options
from workbench.experiments.config import build_config, load_preset, preset_names
from workbench.experiments.runner import run_compare


def register(sub) -> None:
    parser = add_command(
        sub,
        "compare",
        "data-efficiency curves: every pipeline at every labeled size and seed, then a lab report",
        "workbench compare                     # the embedded default (micro-world, micro-sentiment)\n"
        "  workbench compare --corpus wikitext2 --task sst2 --sizes 100,1000,10000 --out runs/sst2\n"
        "  workbench compare --config lab.toml --out runs/lab1\n"
        "  workbench compare --preset imdb-sst2 --out runs/imdb-sst2   # the real-text lab (README: Real text)",
        run,
        description="Prepare each pipeline once from the same unlabeled corpus (static vectors; a pretrained model), "
        "then fine-tune every pipeline on the same nested labeled subsets for each size and seed, "
        "evaluate on test and shifted test, and write curves and a lab report. "
        "Rerun the same command to resume.",
    )
    parser.add_argument("--task", default=None, help="task name or spec (default micro-sentiment)")
    parser.add_argument("--corpus", default=None, help="unlabeled corpus (default microworld)")
    parser.add_argument(
        "--pipelines", default=None, help="comma-separated pipeline names (see `workbench finetune --help`)"
    )
    parser.add_argument("--sizes", default=None, help="comma-separated labeled sizes, 'full' = whole train split")
    parser.add_argument("--seeds", default=None, help="a count (3) or a list (0,1,2)")
    parser.add_argument(
        "--seeds-up-to",
        default=None,
        help="more seeds where labels are few: N:COUNT[,N:COUNT]; 256:5 = 5 seeds at every n <= 256",
    )
    parser.add_argument(
        "--preset",
        default=None,
        help="start from a shipped set of settings (--config and explicit options override it): "
        + "; ".join(f"{name}: {_summary(name)}" for name in preset_names()),
    )
    parser.add_argument("--config", default=None, help="a TOML file with any of these settings")
    parser.add_argument("--out", default=None, help="run folder (default runs/default)")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda")
    parser.add_argument(
        "--budgets",
        action="store_true",
        default=None,
        help="also fine-tune at fixed n on checkpoints of increasing pretraining compute",
    )
    parser.add_argument("--budget-n", type=int, default=None, help="labels for --budgets (default 64)")
    parser.add_argument(
        "--dev",
        default=None,
        help="few (default): each point early-stops and picks its configuration on a dev subset of "
        "its own size; full: on the whole dev split (oracle selection)",
    )
    parser.add_argument(
        "--grid",
        default=None,
        help="configurations each trained point tries, the first N of its family's row of "
        "pipelines.tuning.TUNING_GRID (3: the hand-set rate, a third, three times it); default auto: "
        "3 on a GPU, where they train as fused replicas, 1 (the hand-set recipe) on a CPU",
    )
    parser.add_argument(
        "--fuse",
        default=None,
        help="auto (default): train the points of a pipeline and their configurations K replicas at "
        "a time as one fused model, K chosen from the model size and device memory (1 on a CPU); "
        "off: one at a time; or a number K",
    )
    parser.add_argument(
        "--workers",
        default=None,
        help="local executor: auto (default: a process per CPU core, one on a GPU) or a number",
    )
    parser.add_argument("--executor", default=None, help="local (default) or ray: run the fused groups as Ray tasks")
    parser.add_argument(
        "--address",
        default=None,
        help="with --executor ray: auto or HOST:PORT of a running cluster (default: start a local one)",
    )
    parser.add_argument(
        "--cpus-per-task", type=int, default=None, help="with --executor ray: CPUs per task (default 1)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars (scripts, CI)")
    add_yes_option(parser)
    add_task_column_options(parser)


def _summary(preset: str) -> str:
    """The first sentence of a preset's description, for --help."""
    return load_preset(preset)["description"].split(". ")[0].strip().rstrip(".")


def run(args) -> int:
    if args.preset:
        print(f"preset {args.preset}: {' '.join(load_preset(args.preset)['description'].split())}\n")
    config = build_config(
        args.config,
        preset=args.preset,
        task=args.task,
        corpus=args.corpus,
        pipelines=args.pipelines,
        sizes=args.sizes,
        seeds=args.seeds,
        seeds_up_to=args.seeds_up_to,
        out=args.out,
        device=args.device,
        budgets=args.budgets,
        budget_n=args.budget_n,
        dev=args.dev,
        grid=args.grid,
        fuse=args.fuse,
        workers=args.workers,
        executor=args.executor,
        address=args.address,
        cpus_per_task=args.cpus_per_task,
        task_options=task_options(args) or None,
    )
    folder = run_compare(config, progress=not args.quiet, assume_yes=args.yes)
    print(f"results: {folder / 'results.jsonl'}")
    print(f"report:  {folder / 'report.html'} (and report.md)")
    return 0
