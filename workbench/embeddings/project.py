"""A 2-d picture of word vectors: the quickest way to see whether classes cluster."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global backend switch, safe in notebooks
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from workbench.errors import WorkbenchError

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def plot_projection(kv, words, classes: dict, path, method: str = "pca", title: str | None = None):
    """Project `words` to 2-d (PCA or t-SNE), colour AND mark them by class (readable in
    grayscale), label each point, save a PNG at `path`, and return the figure."""
    if method not in ("pca", "tsne"):
        raise WorkbenchError(f"unknown projection {method!r}: use pca or tsne")
    words = [w for w in words if w in kv.key_to_index]
    if len(words) < 3:
        raise WorkbenchError("plotting needs at least 3 words that have vectors")
    m = np.stack([kv.get_vector(w) for w in words]).astype(np.float64)
    if method == "pca":
        xy = PCA(n_components=2, random_state=0).fit_transform(m)
    else:
        xy = TSNE(n_components=2, random_state=0, init="pca", perplexity=min(30.0, len(words) - 1)).fit_transform(m)
    fig = Figure(figsize=(8, 6))
    ax = fig.subplots()
    labels = [classes.get(w, "other") for w in words]
    cmap = matplotlib.colormaps["tab10"]
    for n, cls in enumerate(sorted(set(labels), key=str)):
        idx = [i for i, c in enumerate(labels) if c == cls]
        ax.scatter(
            xy[idx, 0],
            xy[idx, 1],
            marker=MARKERS[n % len(MARKERS)],
            color=cmap(n % 10),
            edgecolors="black",
            linewidths=0.5,
            label=str(cls),
        )
    for (x, y), w in zip(xy, words):
        ax.annotate(w, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.legend(title="class", fontsize=8)
    ax.set_title(title or f"{len(words)} word vectors, {method.upper()} projection")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return fig
