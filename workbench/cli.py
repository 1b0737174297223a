"""The `workbench` command. Each subcommand is a thin shell over the package's functions.

Bad input raises `WorkbenchError`; `main` turns it into one line on stderr and exit code 2
(the full traceback only with --debug).
"""
from __future__ import annotations

import argparse
import sys
import traceback

from workbench.cli_util import Formatter, add_command
from workbench.errors import WorkbenchError

EPILOG_MAIN = """examples:
  workbench finetune --pipeline word2vec+lstm --task micro-sentiment --n 256 --seed 0
  workbench data list
  workbench data info micro-sentiment
  WORKBENCH_DATA=../shared/data workbench data info sst2
"""




# ---------------------------------------------------------------- data
def _cmd_data_list(args) -> int:
    from workbench.data import registry
    from workbench.data.tasks import MICRO_TASK_KINDS

    print(f"{'name':18} {'kind':15} {'source':10} description")
    for name, kind in MICRO_TASK_KINDS.items():
        print(f"{name:18} {kind:15} {'embedded':10} micro-world task (no download)")
    print(f"{'microworld':18} {'corpus':15} {'embedded':10} micro-world unlabeled corpus (no download)")
    for spec in registry.DATASETS.values():
        state = "cached" if registry.is_cached(spec.name) else "not cached"
        print(f"{spec.name:18} {spec.kind:15} {state:10} {spec.description}")
    print(f"\ncache folder: {registry.cache_dir()} (set WORKBENCH_DATA to change it)")
    print("your own data: text:PATH (corpus); tsv:PATH, csv:PATH, jsonl:PATH, conll:PATH, conllu:PATH, squad:PATH (tasks)")
    return 0


def _cmd_data_info(args) -> int:
    from workbench.data import registry, tasks

    name = args.name
    is_corpus = name in tasks.corpus_names() or name.startswith("text:") or name.startswith("microworld:")
    if is_corpus:
        corpus = tasks.resolve_corpus(name)
        types = len({w for doc in corpus.documents for w in doc})
        print(f"{corpus.name}: corpus\n  {corpus.description}")
        print(f"  documents: {len(corpus.documents):,}   tokens: {corpus.n_tokens:,}   word types: {types:,}")
        print(f"  held-out documents: {len(corpus.valid):,}   tokens: {sum(map(len, corpus.valid)):,}")
    if not is_corpus or name in tasks.task_names():  # imdb is both
        task = tasks.resolve_task(name, text_col=args.text_col, label_col=args.label_col, tag_col=args.tag_col,
                                  word_col=args.word_col, labels=tuple(args.labels.split(",")) if args.labels else None)
        info = tasks.describe_task(task)
        print(f"{task.name}: {task.kind}\n  {task.description}")
        if task.split_notes:
            print(f"  splits: {task.split_notes}")
        for split, s in info["splits"].items():
            labels = ", ".join(f"{k}: {v:,}" for k, v in list(s["labels"].items())[:20])
            more = " ..." if len(s["labels"]) > 20 else ""
            print(f"  {split:8} {s['examples']:7,} examples {s['tokens']:9,} tokens   {labels}{more}")
        for split, n in info.get("lengths", {}).items():
            print(f"  {split:8} tokens before truncation: median {n['median']:,}, 90th percentile {n['p90']:,}, "
                  f"max {n['max']:,}; {n['truncated']:.1%} cut")
    if name in registry.DATASETS:
        spec = registry.DATASETS[name]
        print(f"  license: {spec.license}\n  cite: {spec.citation}")
    return 0


def _cmd_data_fetch(args) -> int:
    from workbench.data import registry

    for path in registry.fetch(args.name):
        print(f"ok  {path}")
    return 0


def _data_parser(sub) -> None:
    data = sub.add_parser("data", help="list, describe and fetch datasets",
                          description="List, describe and fetch datasets (embedded micro-world, registry, your own files).",
                          epilog="examples:\n  workbench data list\n  workbench data info micro-sentiment\n"
                                 "  workbench data fetch sst2", formatter_class=Formatter)
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="{list,info,fetch}")
    add_command(dsub, "list", "list the named datasets and whether they are cached", "workbench data list", _cmd_data_list)
    info = add_command(dsub, "info", "show splits, sizes, label distribution and license of a dataset or spec",
                "workbench data info sst2   |   workbench data info tsv:reviews.tsv --text-col review --label-col stars",
                _cmd_data_info)
    info.add_argument("name", help="a dataset name, or a spec such as tsv:PATH, conllu:PATH, squad:PATH, text:PATH")
    add_task_column_options(info)
    fetch = add_command(dsub, "fetch", "download a registered dataset into the cache, verify sha256", "workbench data fetch ud-upos",
                 _cmd_data_fetch)
    fetch.add_argument("name", help="a registered dataset (see `workbench data list`)")


def add_task_column_options(parser) -> None:
    """Options that tell a generic task spec which columns hold text, labels and tags."""
    parser.add_argument("--text-col", default="text", help="text column of a TSV/CSV/JSONL task (name, or 0-based number without header)")
    parser.add_argument("--label-col", default="label", help="label column of a TSV/CSV/JSONL task")
    parser.add_argument("--tag-col", default=None, help="tag column of a CoNLL(-U) task: a number, or upos/xpos for CoNLL-U")
    parser.add_argument("--word-col", default=None, help="word column of a CoNLL(-U) task (default: first / FORM)")
    parser.add_argument("--labels", default=None, help="comma-separated allowed labels; any other label is an error")


# ---------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Compare static word embeddings + LSTMs (circa 2017) with whole-model pretraining "
                    "(BERT/GPT/XLNet-style) on identical tasks, as data-efficiency curves.",
        epilog=EPILOG_MAIN, formatter_class=Formatter)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _data_parser(sub)
    from workbench import commands_finetune

    from workbench.embeddings import commands as embed_commands

    embed_commands.register(sub)
    commands_finetune.register(sub, add_task_column_options)
    from workbench import commands_pretrain

    commands_pretrain.register(sub)
    from workbench import commands_generate

    commands_generate.register(sub)
    from workbench import commands_compare

    commands_compare.register(sub, add_task_column_options)
    from workbench.report import commands as report_commands

    report_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
