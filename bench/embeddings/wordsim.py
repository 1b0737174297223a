"""WordSim-353 and wall time of our GloVe (train_vectors defaults) vs gensim skip-gram/CBOW on
WikiText-2, plus the cost of deterministic=True (1 worker) for word2vec skip-gram.

WORKBENCH_DATA=/work/shared/data python bench/embeddings/wordsim.py
"""

import time

import torch

from workbench.data.tasks import resolve_corpus
from workbench.embeddings.evaluate import word_similarity
from workbench.embeddings.train import train_vectors


def main() -> None:
    torch.set_num_threads(1)
    docs = resolve_corpus("wikitext2").documents
    w2v = dict(dim=100, window=5, epochs=5, min_count=3, seed=0)
    runs = {
        "word2vec skip-gram (2 workers)": dict(method="word2vec", sg=1, **w2v),
        "word2vec skip-gram deterministic (1 worker)": dict(method="word2vec", sg=1, deterministic=True, **w2v),
        "word2vec CBOW (2 workers)": dict(method="word2vec", sg=0, **w2v),
        "GloVe ours (defaults)": dict(method="glove", device="cpu"),
    }
    for name, opts in runs.items():
        start = time.perf_counter()
        kv = train_vectors(documents=docs, **opts)
        seconds = time.perf_counter() - start
        r = word_similarity(kv, "wordsim353")
        print(f"{name:45} {seconds:7.1f} s  WordSim-353 rho {r['spearman']:.3f} ({r['pairs']} pairs)", flush=True)


if __name__ == "__main__":
    main()
