"""One entry point for the three static-embedding trainers the workbench compares.

word2vec and fastText come from gensim; GloVe is ours (`glove.py`). Every trainer returns a
gensim `KeyedVectors`, so saving, aligning and evaluating never care which method made them.
"""

from __future__ import annotations

import zlib
from collections import Counter

import numpy as np
import torch
from gensim.models import FastText, KeyedVectors, Word2Vec
from tqdm import tqdm

from workbench.embeddings import glove
from workbench.errors import WorkbenchError

METHODS = ("word2vec", "fasttext", "glove")


def stable_hash(text: str) -> int:
    """A hash that, unlike Python's salted `hash`, is the same in every process.

    gensim seeds some per-word vectors with `hashfxn(word + str(seed))`; with the built-in
    `hash` that depends on PYTHONHASHSEED, so we hand gensim this one instead.
    """
    return zlib.crc32(text.encode("utf-8"))


def _check(method: str, documents) -> list[list[str]]:
    if method not in METHODS:
        raise WorkbenchError(f"unknown embedding method {method!r}: use one of {', '.join(METHODS)}")
    documents = [list(d) for d in documents]
    if not any(documents):
        raise WorkbenchError("the corpus is empty: give it at least one non-empty document")
    return documents


def glove_vocab(documents, min_count: int = 1, keep=None) -> list[str]:
    """Most frequent first, ties alphabetical: a deterministic vocabulary for GloVe (only the words
    in `keep`, when given)."""
    counts = Counter(w for doc in documents for w in doc)
    kept = (w for w, c in counts.items() if c >= min_count and (keep is None or w in keep))
    return sorted(kept, key=lambda w: (-counts[w], w))


class CountedDocuments:
    """The documents as gensim reads them, pass after pass (one to count the words, then one per epoch), each
    read ticking `bar` by its tokens: a bar with an ETA for gensim's training, same documents in the same order."""

    def __init__(self, documents: list[list[str]], bar: tqdm):
        self.documents, self.bar = documents, bar

    def __iter__(self):
        for doc in self.documents:
            yield doc
            self.bar.update(len(doc))


# GloVe defaults for a small corpus (WikiText-2, 2M tokens): WordSim-353 Spearman ~0.26 in ~2 min on 2 CPU cores.
GLOVE_DEFAULTS = dict(window=10, epochs=4, min_count=5, x_max=10.0, lr=0.25, batch_size=8192)


def train_vectors(
    method: str,
    documents,
    dim: int = 100,
    window: int | None = None,
    epochs: int | None = None,
    min_count: int | None = None,
    seed: int = 0,
    deterministic: bool = False,
    sg: int = 1,
    negative: int = 5,
    workers: int = 2,
    progress: bool = False,
    **glove_opts,
) -> KeyedVectors:
    """Train static word vectors with `method` in METHODS and return them as KeyedVectors.

    word2vec: skip-gram (sg=1) or CBOW (sg=0) with negative sampling. fastText: the same plus
    character n-grams; the result is `FastTextKeyedVectors`, which still builds vectors for
    unseen words. glove: our implementation; `glove_opts` go to `glove.train_glove`
    (x_max, alpha, lr, batch_size, device) plus `glove_window` to override `window` for the
    co-occurrence counts, and `words` to count and train only those words (as glove.c drops words
    outside its vocabulary before windowing). `deterministic=True` gives bit-identical vectors per seed in any
    process (one worker, a stable hash; GloVe on CPU); it costs the speed of the other workers.

    Defaults left as None depend on the method. word2vec/fastText: window 5, epochs 5, min_count 1.
    GloVe (`GLOVE_DEFAULTS`): dim 100, window 10 (1/distance weighted, symmetric), min_count 5,
    4 epochs, x_max 10, alpha 0.75, AdaGrad lr 0.25, minibatches of 8,192 shuffled nonzeros.
    x_max and lr depart from the paper's 100 and 0.05 on purpose: on a corpus of a few million
    tokens most weighted counts X_ij are below 1, so f(X) = (X/100)^0.75 is ~0.01, the gradients
    are tiny, AdaGrad (accumulator started at 1) never normalises them, and 0.05 needs 15+
    epochs to get anywhere. Measured on WikiText-2 (2 CPU cores, see bench/NOTES.md): these
    defaults give WordSim-353 Spearman ~0.26 in ~2 minutes; paper settings give ~0.0 after 5
    epochs. On a large corpus, pass x_max=100, lr=0.05 and more epochs as in the paper.

    `progress`: bars with ETAs while it trains (GloVe: one per co-occurrence pass and one for the fit).
    """
    documents = _check(method, documents)
    if method == "glove":
        window = GLOVE_DEFAULTS["window"] if window is None else window
        epochs = GLOVE_DEFAULTS["epochs"] if epochs is None else epochs
        min_count = GLOVE_DEFAULTS["min_count"] if min_count is None else min_count
        for key in ("x_max", "lr", "batch_size"):
            glove_opts.setdefault(key, GLOVE_DEFAULTS[key])
        return _train_glove(documents, dim, window, epochs, min_count, seed, deterministic, progress, **glove_opts)
    window = 5 if window is None else window
    epochs = 5 if epochs is None else epochs
    min_count = 1 if min_count is None else min_count
    if glove_opts:
        raise WorkbenchError(f"options {', '.join(sorted(glove_opts))} only apply to --method glove")
    tokens = sum(len(doc) for doc in documents)
    bar = tqdm(total=tokens * (epochs + 1), disable=not progress, desc=method, unit="tok", unit_scale=True, leave=False)
    common = dict(
        sentences=CountedDocuments(documents, bar) if progress else documents,
        vector_size=dim,
        window=window,
        epochs=epochs,
        min_count=min_count,
        seed=seed,
        sg=sg,
        negative=negative,
        hs=0,
        workers=1 if deterministic else workers,
        hashfxn=stable_hash,
    )
    counts = Counter(w for doc in documents for w in doc)
    if not any(c >= min_count for c in counts.values()):
        raise WorkbenchError(f"no word occurs at least min_count={min_count} times; lower --min-count")
    model = Word2Vec(**common) if method == "word2vec" else FastText(**common)
    bar.close()
    return model.wv


def _train_glove(documents, dim, window, epochs, min_count, seed, deterministic, progress, **opts) -> KeyedVectors:
    keep = opts.pop("words", None)
    words = glove_vocab(documents, min_count, None if keep is None else set(keep))
    if not words:
        raise WorkbenchError(f"no word occurs at least min_count={min_count} times; lower --min-count")
    cooc_window = opts.pop("glove_window", window)
    unknown = set(opts) - {"x_max", "alpha", "lr", "batch_size", "device", "verbose"}
    if unknown:
        raise WorkbenchError(
            f"unknown GloVe options {', '.join(sorted(unknown))}: use x_max, alpha, lr, batch_size, device, words"
        )
    if deterministic:
        opts["device"] = "cpu"  # CUDA index_add uses atomics: not bit-reproducible
    index = {w: i for i, w in enumerate(words)}
    cooc = glove.cooccurrence(documents, index, window=cooc_window, progress=progress)
    if deterministic:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            result = glove.train_glove(cooc, dim=dim, epochs=epochs, seed=seed, progress=progress, **opts)
        finally:
            torch.set_num_threads(threads)
    else:
        result = glove.train_glove(cooc, dim=dim, epochs=epochs, seed=seed, progress=progress, **opts)
    kv = KeyedVectors(vector_size=dim)
    kv.add_vectors(words, result.vectors.astype(np.float32))
    kv.glove_result = result  # word/context vectors and losses, for who wants them (not saved)
    return kv
