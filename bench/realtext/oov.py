"""OOV rate of SST-2 dev and IMDB dev against word vocabularies built from the IMDB corpus
(unsup + train, tokenized by workbench.data.realtext), at several sizes, min count 2; the
WikiText-2 vocabulary beside it; and the commonest SST-2 dev tokens still unknown.

WORKBENCH_DATA=/work/shared/data python bench/realtext/oov.py
"""

from collections import Counter

from workbench.data.tasks import resolve_corpus, resolve_task
from workbench.data.vocab import Vocabulary, task_oov_rates

SIZES = (30_000, 50_000, 60_000)


def main() -> None:
    sst2, imdb = resolve_task("sst2"), resolve_task("imdb")
    for corpus_name in ("imdb", "wikitext2"):
        documents = resolve_corpus(corpus_name).documents
        for size in SIZES:
            vocab = Vocabulary.build(documents, min_count=2, max_size=size)
            sst2_dev, imdb_dev = task_oov_rates(vocab, sst2)["dev"], task_oov_rates(vocab, imdb)["dev"]
            print(
                f"{corpus_name:9} vocabulary {len(vocab):6,} words: SST-2 dev OOV {sst2_dev:.2%}, "
                f"IMDB dev OOV {imdb_dev:.2%}",
                flush=True,
            )
            if len(vocab) < size:  # every word of count >= 2 is in: larger sizes give the same vocabulary
                break
        unknown = Counter(t for ex in sst2.splits["dev"] for t in ex.tokens if t not in vocab)
        print(
            f"  commonest SST-2 dev tokens unknown to the {len(vocab):,}-word {corpus_name} vocabulary:",
            ", ".join(f"{t} ({n})" for t, n in unknown.most_common(15)),
        )


if __name__ == "__main__":
    main()
