"""Static word embeddings (word2vec, fastText, our GloVe): train, save/load, align to a
vocabulary, evaluate intrinsically and plot. The 2017-style half of the workbench's comparison.
"""

from workbench.embeddings.align import CoverageReport, align_to_vocab
from workbench.embeddings.evaluate import (
    analogy,
    class_purity,
    google_analogy,
    intrinsic_report,
    neighbors,
    polarity_accuracy,
    word_similarity,
)
from workbench.embeddings.glove import GloveResult, cooccurrence, train_glove
from workbench.embeddings.io import load_vectors, save_vectors
from workbench.embeddings.project import plot_projection
from workbench.embeddings.train import METHODS, train_vectors

__all__ = [
    "METHODS",
    "CoverageReport",
    "GloveResult",
    "align_to_vocab",
    "analogy",
    "class_purity",
    "cooccurrence",
    "google_analogy",
    "intrinsic_report",
    "load_vectors",
    "neighbors",
    "plot_projection",
    "polarity_accuracy",
    "save_vectors",
    "train_glove",
    "train_vectors",
    "word_similarity",
]
