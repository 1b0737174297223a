"""The circa-2017 pipeline: context-free vectors pretrained on the corpus, then an encoder
(BiLSTM or a from-scratch Transformer) that learns all contextualization from the labels.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from workbench.artifacts import artifact_dir
from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary
from workbench.embeddings.io import load_vector_folder, save_vector_folder
from workbench.models.lstm import BiLSTMEncoder, LSTMConfig
from workbench.models.transformer import TransformerConfig, TransformerEncoder
from workbench.pipelines import PipelineSpec

VECTOR_DEFAULTS = {"dim": 100, "window": 5, "epochs": 5, "sg": 1, "negative": 5}


def prepare_vectors(method: str, corpus: Corpus, corpus_name: str, vocab: Vocabulary, seed: int = 0,
                    settings: dict | None = None) -> dict:
    """Train (or reuse from the artifact cache) static vectors on the corpus; align them to the vocabulary.

    Returns {"matrix": FloatTensor [V, d], "coverage": str, "seconds": float, "cached": bool}.
    """
    from workbench.embeddings import align_to_vocab, train_vectors

    settings = {**VECTOR_DEFAULTS, **(settings or {})}
    description = {"method": method, "corpus": corpus_name, "vocab": vocab.fingerprint(), "seed": seed, **settings}
    folder = artifact_dir("vectors", description)
    stored = load_vector_folder(folder)
    cached = stored is not None
    if cached:
        kv, meta = stored
    else:
        started = time.perf_counter()
        kv = train_vectors(method, corpus.documents, min_count=1, seed=seed, **settings)
        seconds = time.perf_counter() - started
        meta = {**description, "train_seconds": seconds, "corpus_tokens": corpus.n_tokens}
        save_vector_folder(folder, kv, meta)
    matrix, coverage = align_to_vocab(kv, vocab, seed=seed)
    return {"matrix": matrix, "coverage": coverage.summary(), "seconds": meta["train_seconds"],
            "cached": cached, "meta": meta}


def vector_flops(method: str, tokens: int, settings: dict) -> float:
    """A rough count of the arithmetic that trained the vectors, for the compute axis.

    word2vec/fastText skip-gram with negative sampling: each token pairs with about window+1
    context words per epoch (gensim shrinks the window at random), and each pair costs
    (1 + negative) dot products of `dim`, forward and backward (x 6, as for the Transformer
    count). GloVe: its co-occurrence pairs are of the same order, so the same estimate stands.
    """
    dim, window, epochs, negative = (settings.get(k) or VECTOR_DEFAULTS[k] for k in ("dim", "window", "epochs", "negative"))
    return 6.0 * dim * (1 + negative) * tokens * epochs * (window + 1)


def random_matrix(vocab_size: int, dim: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.randn(vocab_size, dim, generator=generator) * 0.3
    matrix[0] = 0.0
    return matrix


def build_encoder(encoder: str, d_in: int, settings: dict | None = None) -> nn.Module:
    settings = settings or {}
    if encoder == "lstm":
        return BiLSTMEncoder(LSTMConfig(**settings), d_in)
    return TransformerEncoder(TransformerConfig(**settings), d_in)


def build_embedding(spec: PipelineSpec, matrix: torch.Tensor) -> nn.Embedding:
    embedding = nn.Embedding.from_pretrained(matrix.clone(), freeze=spec.frozen, padding_idx=0)
    return embedding
