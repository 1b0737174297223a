"""`workbench data`: list, describe and fetch datasets (embedded micro-world, registry, your own files)."""

from __future__ import annotations

from workbench.cli.common import Formatter, add_command, add_task_column_options, task_options
from workbench.data import registry, tasks


def _cmd_data_list(args) -> int:
    print(f"{'name':18} {'kind':22} {'source':10} description")
    for name, kind in tasks.MICRO_TASK_KINDS.items():
        print(f"{name:18} {kind:22} {'embedded':10} micro-world task (no download)")
    print(f"{'microworld':18} {'corpus':22} {'embedded':10} micro-world unlabeled corpus (no download)")
    for spec in registry.DATASETS.values():
        state = "cached" if registry.is_cached(spec.name) else "not cached"
        print(f"{spec.name:18} {spec.kind:22} {state:10} {spec.description}")
    print(f"\ncache folder: {registry.cache_dir()} (set WORKBENCH_DATA to change it)")
    print(
        "your own data: text:PATH (corpus); tsv:PATH, csv:PATH, jsonl:PATH, conll:PATH, conllu:PATH, squad:PATH (tasks)"
    )
    return 0


def _cmd_data_info(args) -> int:
    name = args.name
    is_corpus = name in tasks.corpus_names() or name.startswith("text:") or name.startswith("microworld:")
    if is_corpus:
        corpus = tasks.resolve_corpus(name)
        types = len({w for doc in corpus.documents for w in doc})
        print(f"{corpus.name}: corpus\n  {corpus.description}")
        print(f"  documents: {len(corpus.documents):,}   tokens: {corpus.n_tokens:,}   word types: {types:,}")
        print(f"  held-out documents: {len(corpus.valid):,}   tokens: {sum(map(len, corpus.valid)):,}")
    if not is_corpus or name in tasks.task_names():  # imdb is both
        task = tasks.resolve_task(name, **tasks.task_arguments(task_options(args)))
        info = tasks.describe_task(task)
        print(f"{task.name}: {task.kind}\n  {task.description}")
        if task.split_notes:
            print(f"  splits: {task.split_notes}")
        for split, s in info["splits"].items():
            labels = ", ".join(f"{k}: {v:,}" for k, v in list(s["labels"].items())[:20])
            more = " ..." if len(s["labels"]) > 20 else ""
            print(f"  {split:8} {s['examples']:7,} examples {s['tokens']:9,} tokens   {labels}{more}")
        for split, n in info.get("lengths", {}).items():
            print(
                f"  {split:8} tokens before truncation: median {n['median']:,}, 90th percentile {n['p90']:,}, "
                f"max {n['max']:,}; {n['truncated']:.1%} cut"
            )
    if name in registry.DATASETS:
        spec = registry.DATASETS[name]
        print(f"  license: {spec.license}\n  cite: {spec.citation}")
    return 0


def _cmd_data_fetch(args) -> int:
    for path in registry.fetch(args.name):
        print(f"ok  {path}")
    return 0


def register(sub) -> None:
    data = sub.add_parser(
        "data",
        help="list, describe and fetch datasets",
        description="List, describe and fetch datasets (embedded micro-world, registry, your own files).",
        epilog="examples:\n  workbench data list\n  workbench data info micro-sentiment\n  workbench data fetch sst2",
        formatter_class=Formatter,
    )
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="{list,info,fetch}")
    add_command(
        dsub, "list", "list the named datasets and whether they are cached", "workbench data list", _cmd_data_list
    )
    info = add_command(
        dsub,
        "info",
        "show splits, sizes, label distribution and license of a dataset or spec",
        "workbench data info sst2   |   workbench data info tsv:reviews.tsv --text-col review --label-col stars",
        _cmd_data_info,
    )
    info.add_argument("name", help="a dataset name, or a spec such as tsv:PATH, conllu:PATH, squad:PATH, text:PATH")
    add_task_column_options(info)
    fetch = add_command(
        dsub,
        "fetch",
        "download a registered dataset into the cache, verify sha256",
        "workbench data fetch ud-upos",
        _cmd_data_fetch,
    )
    fetch.add_argument("name", help="a registered dataset (see `workbench data list`)")
