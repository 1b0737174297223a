"""Shared argparse helpers: every subcommand has a description and an example; the task-column options."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.pipelines import PRETRAINED, parse_pipeline
from workbench.pipelines.pretrained import load_backbone
from workbench.pretrain import load_model

# dest: (default, help); the defaults are resolve_task's
TASK_COLUMN_OPTIONS = {
    "text_col": ("text", "text column of a TSV/CSV/JSONL task (name, or 0-based number without header)"),
    "label_col": ("label", "label column of a TSV/CSV/JSONL task"),
    "tag_col": (None, "tag column of a CoNLL(-U) task: a number, or upos/xpos for CoNLL-U"),
    "word_col": (None, "word column of a CoNLL(-U) task (default: first / FORM)"),
    "labels": (None, "comma-separated allowed labels; any other label is an error"),
}


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and example epilogs."""


def add_command(sub, name: str, help: str, example: str, func, description: str | None = None):
    parser = sub.add_parser(
        name, help=help, description=description or help, epilog=f"example:\n  {example}", formatter_class=Formatter
    )
    parser.set_defaults(func=func)
    return parser


def add_yes_option(parser) -> None:
    """--yes: a long CPU pretraining the command needs starts without asking (pretrain.cpu_cost)."""
    parser.add_argument(
        "--yes",
        action="store_true",
        help="pretrain a backbone that is neither shipped nor cached without asking, even where the CPU "
        "would take over 10 minutes (without a terminal on stdin it never asks)",
    )


def add_task_column_options(parser) -> None:
    """Options that tell a generic task spec which columns hold text, labels and tags."""
    for dest, (default, text) in TASK_COLUMN_OPTIONS.items():
        parser.add_argument(f"--{dest.replace('_', '-')}", default=default, help=text)


def task_options(args) -> dict:
    """The task-column options given on the command line, as a run's config records them: only those that
    differ from the defaults (so leaving them out and spelling out a default make the same run), labels a list."""
    given = {dest: getattr(args, dest) for dest in TASK_COLUMN_OPTIONS}
    given["labels"] = args.labels.split(",") if args.labels else None
    return {dest: value for dest, value in given.items() if value != TASK_COLUMN_OPTIONS[dest][0]}


def load_language_model(spec: str, corpus: str):
    """(model, vocabulary, corpus name, folder) of a `workbench pretrain` folder, or of a pipeline name (clm, mlm, plm,
    lstm-lm) for the default model of `corpus`: shipped, cached, or pretrained now."""
    if Path(spec).is_dir():
        model, vocab, meta = load_model(spec)
        return model, vocab, meta["corpus"], Path(spec)
    if spec in PRETRAINED and spec != "scratch-transformer":
        vocab = build_vocab(corpus)
        model, info = load_backbone(parse_pipeline(spec), corpus, vocab, {}, progress=True)
        return model, vocab, corpus, Path(info["folder"])
    raise WorkbenchError(f"MODEL {spec!r}: give a `workbench pretrain` output folder or one of clm, mlm, plm, lstm-lm")
