"""The circa-2017 pipeline: context-free vectors pretrained on the corpus, then an encoder
(BiLSTM or a from-scratch Transformer) that learns all contextualization from the labels.

Settings: `vectors` (VectorSettings), or `vectors_file` (vectors the user already has: GloVe text,
fastText .vec/.bin, word2vec; read instead of training), `encoder` (LSTMConfig or TransformerConfig
fields), `train` (TrainConfig fields over the recipe in tuning.TUNING_GRID), `pool` (how a
classification head reduces the sequence).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from workbench.artifacts import artifact_dir
from workbench.core.batching import encode
from workbench.core.train import TrainConfig
from workbench.data.tasks import resolve_corpus
from workbench.data.types import Corpus, Task
from workbench.data.vocab import SPECIALS, Vocabulary, task_oov_rates
from workbench.embeddings import CoverageReport, align_to_vocab, train_vectors
from workbench.embeddings.io import load_vector_folder, load_vectors, save_vector_folder
from workbench.errors import WorkbenchError
from workbench.models.heads import POOLS, TaskModel
from workbench.models.lstm import BiLSTMEncoder, LSTMConfig
from workbench.models.transformer import TransformerConfig, TransformerEncoder
from workbench.pipelines import ENCODERS, STATIC_REPRESENTATIONS, PipelineSpec
from workbench.pipelines.base import Prepared, split_parameters
from workbench.pipelines.neural import NeuralPipeline, compact, head_for
from workbench.pipelines.settings import check_names, table, value
from workbench.pipelines.tuning import TUNING_GRID

POOL_DEFAULTS = {"lstm": "max", "transformer": "mean"}
ENCODER_CONFIGS = {"lstm": LSTMConfig, "transformer": TransformerConfig}


@dataclass(frozen=True)
class VectorSettings:
    """How the static vectors are trained (skip-gram with negative sampling; GloVe reads dim, window, epochs)."""

    dim: int = 100
    window: int = 5
    epochs: int = 5
    sg: int = 1
    negative: int = 5


def prepare_vectors(
    method: str,
    corpus: Corpus,
    corpus_name: str,
    vocab: Vocabulary,
    settings: VectorSettings,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Train (or reuse from the artifact cache) static vectors on the corpus; align them to the vocabulary.
    `progress`: bars while they train (train_vectors).

    Returns {"matrix": FloatTensor [V, d], "coverage": CoverageReport, "seconds": float, "cached": bool, "meta": dict,
    "kv": the vectors as trained (KeyedVectors), "folder": where they are cached}.
    """
    options = asdict(settings)
    # deterministic: one gensim worker and a stable hash, so that the same config and seed give the same
    # vectors, and so the same curves, in every fresh cache (two workers race: word2vec+lstm at n = 256
    # moved from .630 to .616 between two clones); it costs the second worker once, the vectors are cached
    description = {
        "method": method,
        "corpus": corpus_name,
        "vocab": vocab.fingerprint(),
        "seed": seed,
        "deterministic": True,
        **options,
    }
    # GloVe counts and trains only the run's vocabulary: the rows align_to_vocab would throw away
    # cost most of its time on a large corpus (IMDB: 166,934 types against 60,000 kept; bench/NOTES.md)
    only = {"words": vocab.words[len(SPECIALS) :]} if method == "glove" else {}
    if only:
        description["counted"] = "vocabulary"
    folder = artifact_dir("vectors", description)
    stored = load_vector_folder(folder)
    cached = stored is not None
    if cached:
        kv, meta = stored
    else:
        started = time.perf_counter()
        kv = train_vectors(
            method, corpus.documents, min_count=1, seed=seed, deterministic=True, progress=progress, **options, **only
        )
        seconds = time.perf_counter() - started
        meta = {**description, "train_seconds": seconds, "corpus_tokens": corpus.n_tokens}
        if method == "glove":  # its cost is per co-occurrence pair, not per token (vector_flops)
            meta["cooccurrence_pairs"] = kv.glove_result.pairs
        save_vector_folder(folder, kv, meta)
        # what the cache holds (word vectors in word2vec's binary format; fastText's n-gram table is not
        # kept), so that the first run and every cached run align the same rows the same way
        kv, meta = load_vector_folder(folder)
    matrix, coverage = align_to_vocab(kv, vocab, seed=seed)
    return {
        "matrix": matrix,
        "coverage": coverage,
        "seconds": meta["train_seconds"],
        "cached": cached,
        "meta": meta,
        "kv": kv,
        "folder": folder,
    }


def vectors_from_file(path: str, method: str, vocab: Vocabulary) -> tuple[torch.Tensor, CoverageReport, dict]:
    """Vectors the user brings (glove.6B.100d.txt, cc.en.300.vec, ...), aligned to the vocabulary: (matrix,
    coverage, what to record as their pretraining; made elsewhere, so their tokens and FLOPs are unknown here)."""
    file = Path(path).expanduser().resolve()
    kv = load_vectors(file)
    matrix, coverage = align_to_vocab(kv, vocab, seed=0)
    pretraining = {"method": f"{method}, from {file.name}", "file": str(file), "words": len(kv), "dim": kv.vector_size}
    return matrix, coverage, pretraining


def coverage_text(coverage: CoverageReport, vocab: Vocabulary, task: Task) -> str:
    """How much of the vocabulary, and of the task's running text (every split), the vectors cover."""
    tokens = [ex.tokens + (ex.question or ()) for examples in task.splits.values() for ex in examples]
    return f"{coverage.summary()}; {coverage.token_share(vocab, tokens):.1%} of the task's tokens have vectors"


def vector_flops(tokens: int, meta: dict) -> float:
    """A rough count of the arithmetic that trained the vectors (as recorded in their `meta`), for the compute axis.

    word2vec/fastText skip-gram with negative sampling: each token pairs with about window+1
    context words per epoch (gensim shrinks the window at random), and each pair costs
    (1 + negative) dot products of `dim`, forward and backward (x 6, as for the Transformer
    count). GloVe: counting visits each token's 2 x window neighbours once (an add each), then
    every epoch trains each nonzero co-occurrence entry once: a dot product of `dim`, forward and
    backward (x 6). Vectors cached before their pair count was recorded get the skip-gram estimate.
    """
    defaults = VectorSettings()
    dim, window, epochs, negative = (
        meta.get(k) or getattr(defaults, k) for k in ("dim", "window", "epochs", "negative")
    )
    if meta.get("method") == "glove" and meta.get("cooccurrence_pairs"):
        return 2.0 * window * tokens + 6.0 * dim * meta["cooccurrence_pairs"] * epochs
    return 6.0 * dim * (1 + negative) * tokens * epochs * (window + 1)


def random_matrix(vocab_size: int, dim: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.randn(vocab_size, dim, generator=generator) * 0.3
    matrix[0] = 0.0
    return matrix


@dataclass(kw_only=True)
class StaticPrepared(Prepared):
    vocab: Vocabulary
    matrix: torch.Tensor  # [V, d] vectors, one row per vocabulary id


class StaticPipeline(NeuralPipeline):
    """`REPRESENTATION+ENCODER[:frozen]`: vectors (random, word2vec, fasttext, glove) under a BiLSTM or Transformer."""

    def __init__(self, spec: PipelineSpec, settings: dict):
        super().__init__(spec)
        check_names(spec.name, settings, ("vectors", "vectors_file", "encoder", "train", "pool"))
        self.vectors = table(spec.name, "vectors", VectorSettings, settings.get("vectors", {}))
        self.vectors_file = value(spec.name, settings, "vectors_file", str)
        if self.vectors_file is not None and (spec.representation == "random" or "vectors" in settings):
            raise WorkbenchError(
                f"settings for {spec.name}: vectors_file replaces trained vectors, so it goes with word2vec, "
                f"fasttext or glove and without a vectors table"
            )
        self.encoder_config = table(spec.name, "encoder", ENCODER_CONFIGS[spec.encoder], settings.get("encoder", {}))
        self.recipe = TUNING_GRID[spec.encoder]
        self.training = table(spec.name, "train", TrainConfig, settings.get("train", {}), self.recipe.train)
        self.pool = value(spec.name, settings, "pool", str, POOL_DEFAULTS[spec.encoder], POOLS)

    @classmethod
    def handles(cls, spec: PipelineSpec) -> bool:
        return spec.representation in STATIC_REPRESENTATIONS and spec.encoder in ENCODERS

    def prepare(
        self,
        task: Task,
        corpus_name: str,
        vocab: Vocabulary,
        device: str,
        *,
        progress: bool = False,
        assume_yes: bool = False,
    ) -> StaticPrepared:
        method = self.spec.representation
        info = {"oov": task_oov_rates(vocab, task)}
        if method == "random":
            matrix = random_matrix(len(vocab), self.vectors.dim, seed=0)
            info["pretraining"] = {"method": "none", "seconds": 0.0}
        elif self.vectors_file is not None:
            matrix, coverage, info["pretraining"] = vectors_from_file(self.vectors_file, method, vocab)
            info["coverage"] = coverage_text(coverage, vocab, task)
        else:
            corpus = resolve_corpus(corpus_name)
            vectors = prepare_vectors(method, corpus, corpus_name, vocab, self.vectors, progress=progress)
            matrix, meta = vectors["matrix"], vectors["meta"]
            info["coverage"] = coverage_text(vectors["coverage"], vocab, task)
            info["pretraining"] = {
                "method": method,
                "seconds": vectors["seconds"],
                "corpus_tokens": meta["corpus_tokens"],
                "tokens": meta["corpus_tokens"] * (meta.get("epochs") or VectorSettings.epochs),
                "flops": vector_flops(meta["corpus_tokens"], meta),
                "cached": vectors["cached"],
            }
        max_len = self.encoder_config.max_len if isinstance(self.encoder_config, TransformerConfig) else 10_000
        encoded = {
            split: encode(examples, task.kind, vocab, task.labels, max_len=max_len)
            for split, examples in task.splits.items()
        }
        rows, encoded = compact(encoded)
        return StaticPrepared(
            pipeline=self,
            task=task,
            corpus_name=corpus_name,
            encoded=encoded,
            info=info,
            rows=rows,
            vocab=vocab,
            matrix=matrix,
        )

    def build_model(self, prepared: StaticPrepared) -> TaskModel:
        embedding = nn.Embedding.from_pretrained(prepared.matrix.clone(), freeze=self.spec.frozen, padding_idx=0)
        d_in = prepared.matrix.shape[1]
        if isinstance(self.encoder_config, LSTMConfig):
            encoder = BiLSTMEncoder(self.encoder_config, d_in)
        else:
            encoder = TransformerEncoder(self.encoder_config, d_in)
        return TaskModel(embedding, encoder, head_for(prepared.task, encoder.output_dim, self.pool))

    def train_config(self) -> TrainConfig:
        return self.training

    def parameter_counts(self, prepared: StaticPrepared) -> dict:
        """Pretrained: the embedding matrix, when its vectors were trained on the corpus (not for `random`);
        the encoder and the head learn from the labels."""
        model = self.build_model(prepared)
        return split_parameters(model, [] if self.spec.representation == "random" else [model.embed])
