"""The one word-level vocabulary both pipelines share.

Built from the unlabeled corpus (the labeled data never adds words: a word the corpus never
shows is unknown to every pipeline alike). Tokens arrive already normalized by the readers
(lowercased; see `readers.normalize`), so the vocabulary does no case folding of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from workbench.atomic import write_text
from workbench.data import registry
from workbench.data.tasks import resolve_corpus
from workbench.errors import WorkbenchError

PAD, UNK, MASK, CLS, SEP = "[pad]", "[unk]", "[mask]", "[cls]", "[sep]"
SPECIALS = (PAD, UNK, MASK, CLS, SEP)
DEFAULT_VOCAB_SIZE = 30_000


class Vocabulary:
    """Word <-> id. Ids 0..4 are the specials: pad, unk, mask, cls (= bos), sep (= eos)."""

    def __init__(self, words: list[str]):
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise ValueError("a vocabulary starts with the special tokens")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("duplicate words in vocabulary")

    pad_id, unk_id, mask_id, cls_id, sep_id = range(5)

    @classmethod
    def build(cls, documents, min_count: int = 2, max_size: int | None = DEFAULT_VOCAB_SIZE) -> Vocabulary:
        """Most frequent words first (ties broken alphabetically, so the order is deterministic)."""
        counts = Counter(word for doc in documents for word in doc)
        for special in SPECIALS:
            counts.pop(special, None)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(SPECIALS))]
        return cls(list(SPECIALS) + ranked)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, tokens) -> list[int]:
        unk = self.unk_id
        return [self.index.get(t, unk) for t in tokens]

    def decode(self, ids) -> list[str]:
        return [self.words[i] for i in ids]

    def oov_rate(self, token_lists) -> float:
        """Fraction of tokens the vocabulary does not know."""
        total = unknown = 0
        for tokens in token_lists:
            total += len(tokens)
            unknown += sum(1 for t in tokens if t not in self.index)
        return unknown / total if total else 0.0

    def fingerprint(self) -> str:
        """A short content hash: checkpoints and caches record it to refuse a mismatched vocabulary."""
        return hashlib.sha256("\n".join(self.words).encode()).hexdigest()[:16]

    def save(self, path) -> None:
        write_text(path, json.dumps({"words": self.words}, ensure_ascii=False))

    @classmethod
    def load(cls, path) -> Vocabulary:
        try:
            words = json.loads(Path(path).read_text(encoding="utf-8"))["words"]
            return cls(words)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WorkbenchError(
                f"{path}: not a workbench vocabulary file ({exc}); rebuild it from the corpus"
            ) from None


def vocab_size_for(corpus_name: str) -> int:
    """A corpus's default vocabulary size: its registry entry's `vocab_size` (imdb: 60,000), else 30,000."""
    spec = registry.DATASETS.get(corpus_name)
    return spec.extra.get("vocab_size", DEFAULT_VOCAB_SIZE) if spec else DEFAULT_VOCAB_SIZE


def build_vocab(corpus_name: str, min_count: int = 2, max_size: int | None = None) -> Vocabulary:
    """The vocabulary of a named corpus: the one every pipeline and every pretraining on that corpus shares
    (at most `max_size` words, by default the corpus's own size: `vocab_size_for`)."""
    size = vocab_size_for(corpus_name) if max_size is None else max_size
    return Vocabulary.build(resolve_corpus(corpus_name).documents, min_count=min_count, max_size=size)


def task_oov_rates(vocab: Vocabulary, task) -> dict[str, float]:
    """OOV rate per split of a task (passages and questions both count for QA)."""
    return {
        split: vocab.oov_rate([ex.tokens + (ex.question or ()) for ex in examples])
        for split, examples in task.splits.items()
    }
