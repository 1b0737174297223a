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

    def summary(self) -> str:
        share = (self.found + self.from_subwords) / self.vocab_size if self.vocab_size else 0.0
        return (
            f"{self.found:,} of {self.vocab_size:,} words have vectors ({share:.1%} with "
            f"{self.from_subwords:,} from subwords), {self.initialised:,} initialised"
        )


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
    subwords = _has_subwords(kv)
    for i, word in enumerate(vocab.words):
        if i == vocab.pad_id:
            continue
        if word in kv.key_to_index:
            out[i] = kv.vectors[kv.key_to_index[word]]
            found += 1
        elif subwords:
            out[i] = kv.get_vector(word)
            subword += 1
        else:
            initialised += 1
            if init == "normal":
                out[i] = rng.normal(0.0, 1.0, dim) * sd
    report = CoverageReport(len(vocab), found, subword, initialised)
    return torch.from_numpy(out), report
