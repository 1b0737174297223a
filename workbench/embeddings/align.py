"""Turn loaded word vectors into the embedding matrix of a workbench Vocabulary.

The LSTM pipeline needs one row per vocabulary id; pretrained vectors cover only part of the
vocabulary, so the rest is initialised at the vectors' own scale, and the report says how much.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class CoverageReport:
    """How the rows of the matrix were filled."""

    vocab_size: int
    found: int
    from_subwords: int
    initialised: int
    with_vectors: frozenset = frozenset()  # the ids whose row came from the vectors (found or from subwords)

    def summary(self) -> str:
        share = (self.found + self.from_subwords) / self.vocab_size if self.vocab_size else 0.0
        return (
            f"{self.found:,} of {self.vocab_size:,} words have vectors ({share:.1%} with "
            f"{self.from_subwords:,} from subwords), {self.initialised:,} initialised, the padding row zero"
        )

    def token_share(self, vocab, token_lists) -> float:
        """The share of these tokens that get a vector (a word outside the vocabulary is [unk]: none): what
        a task sees of the vectors, where frequent words weigh more than in the vocabulary's share."""
        ids = [i for tokens in token_lists for i in vocab.encode(tokens)]
        return sum(i in self.with_vectors for i in ids) / len(ids) if ids else 0.0


def _has_subwords(kv) -> bool:
    return getattr(kv, "bucket", 0) > 0 and hasattr(kv, "vectors_ngrams")


def align_to_vocab(kv, vocab, seed: int = 0, init: str = "normal") -> tuple[torch.Tensor, CoverageReport]:
    """A [len(vocab), dim] float tensor: known words get their vector, fastText OOV words their
    subword vector, the rest N(0, sd) with sd the vectors' per-dimension std (seeded) or zeros
    (`init="zeros"`); the pad row (id 0) is always zero."""
    if init not in ("normal", "zeros"):
        raise ValueError("init must be 'normal' or 'zeros'")
    dim = kv.vector_size
    rng = np.random.default_rng(seed)
    sd = kv.vectors.std(axis=0) if len(kv.vectors) > 1 else np.ones(dim, dtype=np.float32)
    out = np.zeros((len(vocab), dim), dtype=np.float32)
    found = subword = initialised = 0
    with_vectors = set()
    subwords = _has_subwords(kv)
    for i, word in enumerate(vocab.words):
        if i == vocab.pad_id:
            continue
        if word in kv.key_to_index:
            out[i] = kv.vectors[kv.key_to_index[word]]
            found += 1
            with_vectors.add(i)
        elif subwords:
            out[i] = kv.get_vector(word)
            subword += 1
            with_vectors.add(i)
        else:
            initialised += 1
            if init == "normal":
                out[i] = rng.normal(0.0, 1.0, dim) * sd
    report = CoverageReport(len(vocab), found, subword, initialised, frozenset(with_vectors))
    return torch.from_numpy(out), report
