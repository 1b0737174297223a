"""Static word embeddings (word2vec, fastText, our GloVe): train, save/load, align to a
vocabulary, evaluate intrinsically and plot. The 2017-style half of the workbench's comparison.

Names are imported lazily (gensim and torch take seconds to import, and `workbench --help`
should not wait for them).
"""
from importlib import import_module

_WHERE = {
    "CoverageReport": "align", "align_to_vocab": "align",
    "analogy": "evaluate", "class_purity": "evaluate", "google_analogy": "evaluate", "intrinsic_report": "evaluate",
    "neighbors": "evaluate", "polarity_accuracy": "evaluate", "word_similarity": "evaluate",
    "GloveResult": "glove", "cooccurrence": "glove", "train_glove": "glove",
    "load_vectors": "io", "save_vectors": "io", "plot_projection": "project",
    "METHODS": "train", "train_vectors": "train",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f"workbench.embeddings.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'workbench.embeddings' has no attribute {name!r}")
