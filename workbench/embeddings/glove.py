"""Our own GloVe (Pennington et al. 2014): gensim ships none, and the algorithm is short enough
to read in one sitting, which is the point of an educational workbench.

Two steps, as in the reference `glove.c`:
1. `cooccurrence`: a symmetric word-word count matrix over a window, each pair weighted 1/distance.
2. `train_glove`: weighted least squares f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2 with
   AdaGrad, vectorized in torch over shuffled minibatches of the nonzero entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from tqdm import tqdm

from workbench.errors import WorkbenchError


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def cooccurrence(documents, vocab_index: dict[str, int], window: int = 10, progress: bool = False) -> sp.csr_matrix:
    """Symmetric co-occurrence counts X[i, j] = sum over pairs at distance d <= window of 1/d.

    Words missing from `vocab_index` are dropped before windowing (as glove.c does), so they
    neither count nor take up distance. Windows never cross document boundaries. Built per
    offset with numpy pair arrays and summed as sparse matrices: no Python loop over tokens.
    `progress`: a bar for each of its two passes (reading the documents, counting per offset).
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    size = len(vocab_index)
    id_lists, doc_lists = [], []
    reading = tqdm(documents, disable=not progress, desc="co-occurrence: reading", unit="doc", leave=False)
    for d, doc in enumerate(reading):
        ids = [vocab_index[w] for w in doc if w in vocab_index]
        if len(ids) > 1:
            id_lists.append(np.asarray(ids, dtype=np.int64))
            doc_lists.append(np.full(len(ids), d, dtype=np.int64))
    counts = sp.csr_matrix((size, size), dtype=np.float64)
    if not id_lists:
        return counts
    ids = np.concatenate(id_lists)
    docs = np.concatenate(doc_lists)
    for offset in tqdm(range(1, window + 1), disable=not progress, desc="co-occurrence: counting", leave=False):
        if offset >= len(ids):
            break
        same = docs[:-offset] == docs[offset:]
        left, right = ids[:-offset][same], ids[offset:][same]
        if not len(left):
            continue
        weight = np.full(len(left), 1.0 / offset)
        rows = np.concatenate([left, right])
        cols = np.concatenate([right, left])
        counts = counts + sp.coo_matrix((np.concatenate([weight, weight]), (rows, cols)), shape=(size, size)).tocsr()
    counts.sum_duplicates()
    return counts


@dataclass
class GloveResult:
    """Trained parameters. `vectors` (W + W~) is the standard output; W and W~ stay available."""

    word_vectors: np.ndarray
    context_vectors: np.ndarray
    word_bias: np.ndarray
    context_bias: np.ndarray
    losses: list[float] = field(default_factory=list)
    pairs: int = 0  # nonzero co-occurrence entries: what each epoch trains on (the cost of an epoch)

    @property
    def vectors(self) -> np.ndarray:
        return self.word_vectors + self.context_vectors


def weighting(x: torch.Tensor, x_max: float, alpha: float) -> torch.Tensor:
    """f(x) = (x / x_max)^alpha capped at 1: rare pairs count less, frequent ones do not dominate."""
    return torch.clamp(x / x_max, max=1.0) ** alpha


def adagrad_step(param: torch.Tensor, gradsq: torch.Tensor, rows: torch.Tensor, grad: torch.Tensor, lr: float) -> None:
    """AdaGrad per element, as glove.c does it: g = lr * grad; p -= g / sqrt(G); G += g^2.

    The learning rate is folded into the gradient BEFORE it is squared into the accumulator
    (glove.c: `fdiff *= eta; temp = fdiff * W[..]; W -= temp / sqrt(gradsq); gradsq += temp^2`),
    and the step uses the accumulator from before this update. G starts at 1. (Squaring the raw
    gradient instead, as an earlier version did, shrank steps about 1/lr once G had grown.)

    glove.c updates one entry at a time; a vectorized minibatch holds many entries of the same
    row (in a small vocabulary, a frequent word's row hundreds of times). Summing their steps
    overshoots and diverged to NaN on a 200k-token micro-world; so each row takes ONE step per
    minibatch, with the mean of its entries' updates. (On WikiText-2 this costs some quality at
    equal epochs: bench/NOTES.md.)
    """
    g = grad * lr
    unique, inverse = torch.unique(rows, return_inverse=True)
    counts = torch.bincount(inverse, minlength=len(unique)).to(g.dtype)
    shape = (len(unique),) + tuple(g.shape[1:])
    mean = torch.zeros(shape, dtype=g.dtype, device=g.device).index_add_(0, inverse, g)
    mean = mean / counts.view(-1, *([1] * (g.dim() - 1)))
    param[unique] -= mean / torch.sqrt(gradsq[unique])
    gradsq[unique] += mean * mean


def train_glove(
    cooc,
    dim: int = 100,
    epochs: int = 25,
    x_max: float = 100.0,
    alpha: float = 0.75,
    lr: float = 0.05,
    seed: int = 0,
    device: str | None = None,
    batch_size: int = 4096,
    verbose: bool = False,
    progress: bool = False,
) -> GloveResult:
    """Fit GloVe to a sparse co-occurrence matrix; the loss per epoch is in `result.losses`.
    `progress`: a bar over every minibatch of every epoch.

    Seeded: initialisation (uniform (-0.5, 0.5) / dim, as glove.c) and the per-epoch shuffle
    come from a torch generator seeded with `seed`; on CPU the result is bit-identical per seed.
    """
    device = device or default_device()
    coo = sp.coo_matrix(cooc)
    mask = coo.data > 0
    size = coo.shape[0]
    rows_all = torch.as_tensor(coo.row[mask].astype(np.int64), device=device)
    cols_all = torch.as_tensor(coo.col[mask].astype(np.int64), device=device)
    x = torch.as_tensor(coo.data[mask], dtype=torch.float32, device=device)
    logx_all = torch.log(x)
    f_all = weighting(x, x_max, alpha)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    init = lambda *shape: ((torch.rand(*shape, generator=gen) - 0.5) / dim).to(device)  # noqa: E731
    w, wc = init(size, dim), init(size, dim)
    b, bc = init(size), init(size)
    gw, gwc = torch.ones_like(w), torch.ones_like(wc)
    gb, gbc = torch.ones_like(b), torch.ones_like(bc)
    nnz = len(x)
    losses: list[float] = []
    bar = tqdm(
        total=epochs * math.ceil(nnz / batch_size), disable=not progress, desc="glove", unit="batch", leave=False
    )
    for epoch in range(epochs):
        order = torch.randperm(nnz, generator=gen).to(device)
        total = 0.0
        for start in range(0, nnz, batch_size):
            idx = order[start : start + batch_size]
            i, j = rows_all[idx], cols_all[idx]
            wi, wj = w[i], wc[j]
            diff = (wi * wj).sum(1) + b[i] + bc[j] - logx_all[idx]
            fdiff = f_all[idx] * diff
            total += float(0.5 * (fdiff * diff).sum())
            adagrad_step(w, gw, i, fdiff[:, None] * wj, lr)
            adagrad_step(wc, gwc, j, fdiff[:, None] * wi, lr)
            adagrad_step(b, gb, i, fdiff, lr)
            adagrad_step(bc, gbc, j, fdiff, lr)
            bar.update(1)
        losses.append(total / max(nnz, 1))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if not math.isfinite(losses[-1]):
            raise WorkbenchError(
                f"GloVe diverged in epoch {epoch + 1} (loss {losses[-1]}): lower the learning rate "
                f"(lr={lr}) or the batch size ({batch_size})"
            )
        if verbose:
            print(f"glove epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f}")
    bar.close()
    return GloveResult(w.cpu().numpy(), wc.cpu().numpy(), b.cpu().numpy(), bc.cpu().numpy(), losses, pairs=nnz)
