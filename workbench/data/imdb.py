"""The IMDB corpus and task (Maas et al. 2011), from the three files `imdb_files` describes.

Corpus `imdb`: the text of unsup + train (75,000 reviews), never test. Task `imdb`: the 25,000
train reviews less a stratified dev of 1,000 (500 per label, fixed seeds), and the 25,000 test
reviews for reporting. Reviews are tokenized by `realtext` once and cached in the artifact cache.

The task truncates long reviews once, here, for every pipeline: the first 64 and the last 192
tokens (head+tail, after Sun et al. 2019, "How to Fine-Tune BERT for Text Classification").
"""

from __future__ import annotations

import gzip
import random
import sys
import zlib
from functools import lru_cache

from workbench import artifacts, atomic
from workbench.data import realtext, registry
from workbench.data.imdb_files import FILES, read_reviews
from workbench.data.types import CLASSIFICATION, Corpus, Example, Task
from workbench.errors import WorkbenchError

HEAD, TAIL = 64, 192
DEV_SIZE, DEV_SEED = 1_000, 0


# ---------------------------------------------------------------- reviews -> tokens (cached)
def _tokenized_path(split: str):
    remote = registry.get_spec("imdb").file(FILES[split])
    key = {"dataset": "imdb", "file": remote.path, "sha256": remote.sha256, "tokenizer": realtext.TOKENIZER_VERSION}
    return artifacts.artifact_dir("tokenized", key) / "reviews.txt.gz"


@lru_cache(maxsize=3)
def tokenized(split: str) -> tuple[list[int | None], list[list[str]]]:
    """(labels, token lists) of one file, tokenized by `realtext` once and cached in the artifact cache
    (75,000 reviews take over a minute to tokenize, a few seconds to read back)."""
    local = registry.local_file("imdb", FILES[split])
    cached = _tokenized_path(split)
    if not cached.is_file():
        reviews = read_reviews(local, labeled=split != "unsup")
        lines = (f"{'' if r.label is None else r.label}\t{' '.join(realtext.tokenize(r.text))}\n" for r in reviews)
        atomic.write_bytes(cached, gzip.compress("".join(lines).encode("utf-8"), compresslevel=1))
    try:
        with gzip.open(cached, "rt", encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise WorkbenchError(f"{cached}: cached tokens unreadable ({exc}); delete the file to tokenize again") from None
    labels, documents = [], []
    for line in lines:
        label, _, text = line.partition("\t")
        labels.append(int(label) if label else None)
        documents.append(list(map(sys.intern, text.split())))  # one string object per word type: 20M tokens fit
    return labels, documents


# ---------------------------------------------------------------- corpus and task
def head_tail(tokens: list[str]) -> list[str]:
    """The truncation policy for long reviews: the first HEAD and the last TAIL tokens."""
    return tokens if len(tokens) <= HEAD + TAIL else tokens[:HEAD] + tokens[-TAIL:]


def make_corpus() -> Corpus:
    """The unlabeled text of unsup + train (75,000 reviews), never test; no held-out part."""
    documents = tokenized("unsup")[1] + tokenized("train")[1]
    return Corpus("imdb", documents, [], registry.get_spec("imdb").extra["corpus_description"])


@lru_cache(maxsize=1)
def _full_splits() -> dict[str, list[tuple[int, list[str]]]]:
    """Untruncated (label, tokens) per split; dev is a stratified DEV_SIZE carved from train with DEV_SEED."""
    train = list(zip(*tokenized("train")))
    dev_ids = set()
    for label in (0, 1):
        ids = [i for i, (y, _) in enumerate(train) if y == label]
        dev_ids.update(random.Random(DEV_SEED + label).sample(ids, DEV_SIZE // 2))
    return {
        "train": [row for i, row in enumerate(train) if i not in dev_ids],
        "dev": [row for i, row in enumerate(train) if i in dev_ids],
        "test": list(zip(*tokenized("test"))),
    }


def make_task() -> Task:
    spec = registry.get_spec("imdb")
    splits = {
        split: [Example(tokens=tuple(head_tail(tokens)), label=str(label)) for label, tokens in rows]
        for split, rows in _full_splits().items()
    }
    return Task("imdb", CLASSIFICATION, splits, ["0", "1"], spec.description, spec.split_notes)


def length_profile() -> dict[str, dict]:
    """Per split, the untruncated review lengths in tokens and the share the truncation cuts."""
    profile = {}
    for split, rows in _full_splits().items():
        lengths = sorted(len(tokens) for _, tokens in rows)
        profile[split] = {
            "median": lengths[len(lengths) // 2],
            "p90": lengths[int(0.9 * len(lengths))],
            "max": lengths[-1],
            "truncated": sum(n > HEAD + TAIL for n in lengths) / len(lengths),
        }
    return profile
