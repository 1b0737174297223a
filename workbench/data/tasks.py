"""Resolve a task or corpus by name (`micro-sentiment`, `sst2`, `wikitext2`, ...) or by a
generic spec for the user's own files (`tsv:PATH`, `conllu:PATH`, `squad:PATH`, `text:PATH`).

A generic spec names a file or a folder. A folder holds `train.*`, optional `dev.*` and
`test.*` files with the spec's extension; a single file is split 80/10/10 with a fixed seed.
Missing dev/test splits are carved from train the same way, so every task has train/dev/test.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import lru_cache
from pathlib import Path

from workbench.data import imdb, microworld, readers, realtext, registry
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Corpus, Example, Task
from workbench.errors import WorkbenchError, where

TASK_FORMATS = {
    "tsv": CLASSIFICATION,
    "csv": CLASSIFICATION,
    "jsonl": CLASSIFICATION,
    "conll": TAGGING,
    "conllu": TAGGING,
    "squad": SPAN,
}
DEFAULT_MICROWORLD_TOKENS = 1_000_000
MICRO_TASK_KINDS = {"micro-sentiment": CLASSIFICATION, "micro-tagging": TAGGING, "micro-qa": SPAN}
CONLLU_COLUMNS = {"form": 1, "lemma": 2, "upos": 3, "xpos": 4, "deprel": 7}


def task_names() -> list[str]:
    return list(MICRO_TASK_KINDS) + [n for n, s in registry.DATASETS.items() if s.kind != "corpus"]


def corpus_names() -> list[str]:
    return ["microworld"] + [n for n, s in registry.DATASETS.items() if "corpus" in s.kind.split("+")]


def _carve(examples: list, fraction: float, seed: int = 0) -> tuple[list, list]:
    """Split off a fixed, seeded fraction: (rest, carved)."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    cut = max(1, int(round(len(examples) * fraction)))
    carved = set(order[:cut])
    return [e for i, e in enumerate(examples) if i not in carved], [examples[i] for i in sorted(carved)]


def _whitespace_tokens(text: str) -> list[str]:
    return readers.normalize(text.split())


def _classification(
    rows_by_split: dict[str, list[tuple[str, str, int]]],
    paths: dict[str, Path],
    labels: tuple[str, ...] | None,
    tokenize=_whitespace_tokens,
) -> tuple[dict[str, list[Example]], list[str]]:
    """Build classification splits; a label outside the known set is an error naming its line.

    `tokenize`: text -> tokens; whitespace-split and `readers.normalize`d unless the source says otherwise."""
    known = list(labels) if labels else sorted({label for _, label, _ in rows_by_split["train"]})
    splits = {}
    for split, rows in rows_by_split.items():
        for _text, label, line in rows:
            if label not in known:
                raise WorkbenchError(
                    f"{where(paths[split], line)}: unknown label {label!r} (expected one of {', '.join(known)}); "
                    f"fix the row or name the labels with --labels"
                )
        splits[split] = [Example(tokens=tuple(tokenize(t)), label=label) for t, label, _ in rows]
    return splits, known


def _sst2() -> Task:
    spec = registry.get_spec("sst2")
    paths = {
        "train": registry.local_file("sst2", "train.tsv"),
        "dev": registry.local_file("sst2", "dev.tsv"),
        "test": registry.local_file("sst2", "sentiment-test"),
    }
    rows = {
        "train": readers.read_labeled_rows(paths["train"], "tsv", "sentence", "label"),
        "dev": readers.read_labeled_rows(paths["dev"], "tsv", "sentence", "label"),
        "test": readers.read_labeled_rows(paths["test"], "tsv", "0", "1"),
    }
    splits, labels = _classification(rows, paths, spec.extra["labels"], realtext.tokenize)  # as IMDB's text
    return Task("sst2", CLASSIFICATION, splits, labels, spec.description, spec.split_notes)


def _tagging_examples(sentences) -> list[Example]:
    return [Example(tokens=tuple(tokens), tags=tuple(tags)) for tokens, tags, _ in sentences]


def _tag_labels(splits: dict[str, list[Example]]) -> list[str]:
    return sorted({tag for ex in splits["train"] for tag in ex.tags})


def _ud_upos() -> Task:
    spec = registry.get_spec("ud-upos")
    splits = {
        split: _tagging_examples(
            readers.read_conll(
                registry.local_file("ud-upos", f"en_ewt-ud-{split}.conllu"), tag_col=3, word_col=1, conllu=True
            )
        )
        for split in ("train", "dev", "test")
    }
    return Task("ud-upos", TAGGING, splits, _tag_labels(splits), spec.description, spec.split_notes)


def _conll2000() -> Task:
    spec = registry.get_spec("conll2000-chunk")
    train = _tagging_examples(readers.read_conll(registry.local_file("conll2000-chunk", "train.txt"), tag_col=2))
    test = _tagging_examples(readers.read_conll(registry.local_file("conll2000-chunk", "test.txt"), tag_col=2))
    splits = {"train": train[:-1000], "dev": train[-1000:], "test": test}
    return Task("conll2000-chunk", TAGGING, splits, _tag_labels(splits), spec.description, spec.split_notes)


def _split_file_name(split: str, fmt: str) -> str:
    return f"{split}.{'json' if fmt == 'squad' else fmt}"


def _split_files(path: Path, fmt: str) -> dict[str, Path]:
    if path.is_dir():
        found = {split: path / _split_file_name(split, fmt) for split in ("train", "dev", "test")}
        if not found["train"].is_file():
            raise WorkbenchError(f"{path}: a task folder needs {found['train'].name} (and optionally dev/test files)")
        return {split: p for split, p in found.items() if p.is_file()}
    if not path.exists():
        raise WorkbenchError(f"{path}: no such file or folder; check the task spec")
    return {"train": path}


def _fill_missing_splits(splits: dict[str, list], path: Path, fmt: str) -> dict[str, list]:
    """Carve the missing test and dev splits from train (10% each, at least one example); too few rows
    to leave train an example is an error that says so, not an empty train split."""
    missing = [split for split in ("dev", "test") if split not in splits]
    if missing and len(splits["train"]) <= len(missing):
        rows = len(splits["train"])
        if path.is_dir():
            fix = f"add {' and '.join(_split_file_name(split, fmt) for split in missing)} to {path}"
        else:
            fix = f"give a folder with {', '.join(_split_file_name(s, fmt) for s in ('train', 'dev', 'test'))} instead"
        raise WorkbenchError(
            f"{path}: too few rows to split 80/10/10 into train, dev and test ({rows} example{'s' * (rows != 1)}, "
            f"at least {len(missing) + 1} needed); {fix}"
        )
    if "test" not in splits:
        splits["train"], splits["test"] = _carve(splits["train"], 0.1, seed=1)
    if "dev" not in splits:
        splits["train"], splits["dev"] = _carve(splits["train"], 0.1, seed=2)
    return splits


def _generic_task(
    fmt: str,
    path: Path,
    text_col: str,
    label_col: str,
    tag_col: str | None,
    word_col: str | None,
    labels: tuple[str, ...] | None,
) -> Task:
    files = _split_files(path, fmt)
    kind = TASK_FORMATS[fmt]
    if kind == CLASSIFICATION:
        rows = {split: readers.read_labeled_rows(p, fmt, text_col, label_col) for split, p in files.items()}
        splits, known = _classification(rows, files, labels)
    elif kind == TAGGING:
        conllu = fmt == "conllu"
        tag_i = _conll_column(tag_col or ("upos" if conllu else "-1"), conllu, "--tag-col")
        word_i = _conll_column(word_col or ("form" if conllu else "0"), conllu, "--word-col")
        splits = {
            split: _tagging_examples(_read_conll_any_width(p, tag_i, word_i, conllu)) for split, p in files.items()
        }
        known = None
    else:
        splits = {
            split: [Example(tokens=tuple(w), question=tuple(q), span=s) for w, q, s in readers.read_squad(p)]
            for split, p in files.items()
        }
        known = []
    splits = _fill_missing_splits(splits, path, fmt)
    if known is None:
        known = _tag_labels(splits)
    return Task(f"{fmt}:{path}", kind, splits, known, f"user data from {path}")


def _conll_column(value: str, conllu: bool, option: str) -> int:
    if conllu and value.lower() in CONLLU_COLUMNS:
        return CONLLU_COLUMNS[value.lower()]
    try:
        return int(value)
    except ValueError:
        names = ", ".join(CONLLU_COLUMNS) if conllu else "a 0-based number (-1 for the last)"
        raise WorkbenchError(f"{option} {value!r}: use {names}") from None


def _read_conll_any_width(path: Path, tag_i: int, word_i: int, conllu: bool):
    if tag_i < 0:  # "last column": read the first row to learn the width
        first = next(line for line in readers.read_text(path).splitlines() if line.strip())
        tag_i = len(first.split()) + tag_i
    return readers.read_conll(path, tag_col=tag_i, word_col=word_i, conllu=conllu)


_NAMED_REAL = {"sst2": _sst2, "ud-upos": _ud_upos, "conll2000-chunk": _conll2000, "imdb": imdb.make_task}
# tasks that cut long examples: their untruncated length profile, for `describe_task`
_LENGTH_PROFILES = {"imdb": imdb.length_profile}


@lru_cache(maxsize=16)
def resolve_task(
    spec: str,
    text_col: str = "text",
    label_col: str = "label",
    tag_col: str | None = None,
    word_col: str | None = None,
    labels: tuple[str, ...] | None = None,
) -> Task:
    """A task by name or generic spec (`tsv:PATH`, `csv:PATH`, `jsonl:PATH`, `conll:PATH`, `conllu:PATH`, `squad:PATH`)."""
    if spec in MICRO_TASK_KINDS:
        return microworld.make_task(spec)
    if spec in _NAMED_REAL:
        return _NAMED_REAL[spec]()
    fmt, sep, rest = spec.partition(":")
    if sep and fmt in TASK_FORMATS and rest:
        return _generic_task(fmt, Path(rest).expanduser(), text_col, label_col, tag_col, word_col, labels)
    raise WorkbenchError(
        f"unknown task {spec!r}: use a name ({', '.join(task_names())}) or a spec like tsv:PATH, conllu:PATH, squad:PATH"
    )


def task_arguments(options: dict | None) -> dict:
    """`resolve_task` keyword arguments from task options as a run's config records them (text_col, label_col,
    tag_col, word_col, labels): JSON and TOML give labels as a list, and resolve_task's cache needs a tuple."""
    arguments = dict(options or {})
    if isinstance(arguments.get("labels"), list):
        arguments["labels"] = tuple(arguments["labels"])
    return arguments


@lru_cache(maxsize=4)
def resolve_corpus(spec: str) -> Corpus:
    """A corpus by name (`microworld`, `microworld:TOKENS`, `wikitext2`, `imdb`) or `text:PATH`."""
    name, sep, rest = spec.partition(":")
    if name == "microworld":
        if sep and not rest.isdigit():
            raise WorkbenchError(
                f"corpus {spec!r}: write microworld:TOKENS with a whole number, e.g. microworld:200000"
            )
        return microworld.generate_corpus(int(rest) if sep else DEFAULT_MICROWORLD_TOKENS)
    if spec == "wikitext2":
        spec_ = registry.get_spec("wikitext2")
        return Corpus(
            "wikitext2",
            readers.read_corpus_lines(registry.local_file("wikitext2", "train.txt")),
            readers.read_corpus_lines(registry.local_file("wikitext2", "valid.txt")),
            spec_.description,
        )
    if spec == "imdb":
        return imdb.make_corpus()
    if name == "text" and rest:
        documents = readers.read_corpus_lines(Path(rest).expanduser())
        documents, valid = _carve(documents, 0.02) if len(documents) >= 50 else (documents, [])
        return Corpus(spec, documents, valid, f"plain text from {rest}")
    raise WorkbenchError(f"unknown corpus {spec!r}: use one of {', '.join(corpus_names())} or text:PATH")


def describe_task(task: Task) -> dict:
    """Split sizes and label distribution (and, for a task that cuts long examples, the untruncated
    length distribution), as `workbench data info` prints them."""
    info = {"name": task.name, "kind": task.kind, "description": task.description, "splits": {}}
    for split, examples in task.splits.items():
        if task.kind == CLASSIFICATION:
            dist = Counter(ex.label for ex in examples)
        elif task.kind == TAGGING:
            dist = Counter(tag for ex in examples for tag in ex.tags)
        else:
            dist = Counter()
        info["splits"][split] = {
            "examples": len(examples),
            "tokens": sum(len(ex.tokens) for ex in examples),
            "labels": dict(sorted(dist.items())),
        }
    if task.name in _LENGTH_PROFILES:
        info["lengths"] = _LENGTH_PROFILES[task.name]()
    return info
