"""Throughput of the static-embedding trainers on one corpus (medians over repeats).

python bench/embeddings/run.py [--corpus wikitext2] [--repeats 3] [--dim 100] [--epochs 2]
Falls back to the micro-world corpus when WikiText-2 is absent. Prints a table; record the
figures by hand in bench/NOTES.md (nothing is appended automatically). gensim trainers run
--epochs epochs; GloVe (its own defaults: window 10, x_max 10, lr 0.25, batch 8192) runs
--glove-epochs and is reported as words/s = tokens x epochs / seconds, co-occurrence included.
torch runs on one thread (a second thread waiting on a busy shared core is far slower).
"""

import argparse
import statistics
import time

import torch

from workbench.data.tasks import resolve_corpus
from workbench.embeddings import glove
from workbench.embeddings.train import glove_vocab, train_vectors
from workbench.errors import WorkbenchError


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="wikitext2")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--glove-epochs", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(1)
    try:
        corpus = resolve_corpus(args.corpus)
    except (WorkbenchError, OSError) as exc:
        print(f"{args.corpus} unavailable ({exc}); using microworld:300000")
        corpus = resolve_corpus("microworld:300000")
    docs, tokens = corpus.documents, corpus.n_tokens
    runs = {
        "word2vec skip-gram": dict(method="word2vec", sg=1),
        "word2vec CBOW": dict(method="word2vec", sg=0),
        "fastText skip-gram": dict(method="fasttext", sg=1),
        "GloVe (ours)": dict(method="glove", device="cpu"),
    }
    rates = {}
    for name, opts in runs.items():
        times = []
        epochs = args.glove_epochs if opts["method"] == "glove" else args.epochs
        window = None if opts["method"] == "glove" else 5
        for r in range(args.repeats):
            start = time.perf_counter()
            train_vectors(
                documents=docs, dim=args.dim, window=window, epochs=epochs, min_count=args.min_count, seed=r, **opts
            )
            times.append(time.perf_counter() - start)
        rates[name] = tokens * epochs / statistics.median(times)
    words = glove_vocab(docs, args.min_count)
    index = {w: i for i, w in enumerate(words)}
    cooc_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        glove.cooccurrence(docs, index, window=10)
        cooc_times.append(time.perf_counter() - start)
    print(
        f"corpus {corpus.name}: {tokens:,} tokens, dim {args.dim}, {args.epochs} epochs, min_count {args.min_count}, "
        f"median of {args.repeats}"
    )
    print(f"{'trainer':22} {'words/s':>12}  vs word2vec SG")
    for name, rate in rates.items():
        print(f"{name:22} {rate:12,.0f}  {rate / rates['word2vec skip-gram']:.2f}x")
    print(f"GloVe: {args.glove_epochs} epoch(s), window 10 (its default)")
    print(f"co-occurrence matrix (window 10): {statistics.median(cooc_times):.2f} s (included in GloVe's time)")


if __name__ == "__main__":
    main()
