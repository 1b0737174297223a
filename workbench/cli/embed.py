"""The `workbench embed` command group: train, evaluate, inspect and plot static vectors.

Thin shells over the package functions; wired into the main CLI with `register(sub)`.
"""

from __future__ import annotations

import argparse
import platform
import time
from importlib.metadata import version

from workbench.atomic import write_json
from workbench.cli.common import Formatter, add_command
from workbench.data import microworld
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import build_vocab
from workbench.embeddings.evaluate import SIMILARITY_FILES, intrinsic_report, neighbors, word_similarity
from workbench.embeddings.io import FORMATS, load_vectors, save_vectors
from workbench.embeddings.project import plot_projection
from workbench.embeddings.train import METHODS, train_vectors
from workbench.pipelines.static import VectorSettings, prepare_vectors


def _cmd_train(args) -> int:
    corpus = resolve_corpus(args.corpus)
    if args.out is None:
        return _train_into_cache(args, corpus)
    config = {
        "method": args.method,
        "dim": args.dim,
        "window": args.window,
        "epochs": args.epochs,
        "min_count": args.min_count,
        "sg": 0 if args.cbow else 1,
        "seed": args.seed,
        "deterministic": args.deterministic,
    }
    start = time.perf_counter()
    kv = train_vectors(
        args.method,
        corpus.documents,
        dim=args.dim,
        window=args.window,
        epochs=args.epochs,
        min_count=args.min_count,
        seed=args.seed,
        deterministic=args.deterministic,
        sg=config["sg"],
        progress=True,
    )
    seconds = time.perf_counter() - start
    words_per_s = corpus.n_tokens * args.epochs / seconds if seconds else float("inf")
    out = save_vectors(kv, args.out)
    meta = {
        "config": config,
        "corpus": args.corpus,
        "corpus_tokens": corpus.n_tokens,
        "vocab_size": len(kv),
        "seconds": round(seconds, 3),
        "words_per_second": round(words_per_s),
        "versions": {"gensim": version("gensim"), "torch": version("torch"), "python": platform.python_version()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(f"{out}.json", meta)
    print(
        f"{args.method}: {len(kv):,} words x {kv.vector_size} dims from {corpus.n_tokens:,} tokens in "
        f"{seconds:.1f} s ({words_per_s:,.0f} words/s)"
    )
    _print_similarity(kv)
    print(f"wrote {out} and {out}.json")
    return 0


def _train_into_cache(args, corpus) -> int:
    """No --out: train with the settings `compare` uses into the artifact cache, where compare and finetune
    find them (or find them there already)."""
    settings = VectorSettings(dim=args.dim, window=args.window, epochs=args.epochs, sg=0 if args.cbow else 1)
    vocab = build_vocab(args.corpus)
    vectors = prepare_vectors(args.method, corpus, args.corpus, vocab, settings, seed=args.seed, progress=True)
    kv, seconds = vectors["kv"], vectors["seconds"]
    state = "found in the cache (trained earlier" if vectors["cached"] else "trained"
    print(
        f"{args.method}: {len(kv):,} words x {kv.vector_size} dims from {corpus.n_tokens:,} tokens, {state} "
        f"in {seconds:.1f} s{')' if vectors['cached'] else ''}; {vectors['coverage'].summary()}"
    )
    _print_similarity(kv)
    print(f"cached in {vectors['folder']}")
    return 0


def _print_similarity(kv) -> None:
    for name in SIMILARITY_FILES:
        r = word_similarity(kv, name)
        print(f"{name}: Spearman {r['spearman']:.3f} on {r['pairs']}/{r['total']} pairs")


def _cmd_eval(args) -> int:
    kv = load_vectors(args.path, args.format)
    truth = microworld.ground_truth(seed=0) if args.microworld else None
    report = intrinsic_report(kv, truth)
    print(f"{args.path}: {len(kv):,} words x {kv.vector_size} dims")
    print(f"{'check':16} {'score':>8}  coverage")
    for name, r in report.items():
        if "skipped" in r:
            print(f"{name:16} {'-':>8}  {r['skipped']}")
        elif name in ("wordsim353", "simlex999"):
            print(f"{name:16} {r['spearman']:8.3f}  {r['pairs']}/{r['total']} pairs (Spearman rho)")
        elif name == "google_analogy":
            print(f"{name:16} {r['accuracy']:8.3f}  {r['questions']}/{r['total']} questions (accuracy)")
        elif name == "class_purity":
            print(f"{name:16} {r['purity']:8.3f}  micro-world classes, k=5 neighbours")
        elif name == "polarity":
            print(f"{name:16} {r['accuracy']:8.3f}  {r['words']} evaluative words (leave-one-out)")
    return 0


def _cmd_neighbors(args) -> int:
    kv = load_vectors(args.path, args.format)
    for word, sim in neighbors(kv, args.word, k=args.k):
        print(f"{sim:6.3f}  {word}")
    return 0


def _cmd_plot(args) -> int:
    kv = load_vectors(args.path, args.format)
    classes = {}
    if args.words:
        words = args.words
    else:
        truth = microworld.ground_truth(seed=0)
        classes = {w: i["class"] for w, i in truth.items() if i.get("class") and w in kv.key_to_index}
        words = sorted(classes)[:60]
    plot_projection(kv, words, classes, args.out, method=args.method)
    print(f"wrote {args.out}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _format_option(parser) -> None:
    parser.add_argument(
        "--format",
        default="auto",
        choices=FORMATS,
        help="vector file format (default: guess from the name and first line)",
    )


def register(subparsers) -> None:
    """Add `embed` and its subcommands to the main parser's subparsers object."""
    embed = subparsers.add_parser(
        "embed",
        help="train, evaluate and inspect static word vectors (word2vec, fastText, GloVe)",
        description="Train, evaluate and inspect static word vectors (word2vec, fastText, our GloVe).",
        epilog="examples:\n  workbench embed train --method glove --corpus microworld:200000 --out vecs/glove.txt\n"
        "  workbench embed eval vecs/glove.txt --microworld\n  workbench embed neighbors vecs/glove.txt good",
        formatter_class=Formatter,
    )
    esub = embed.add_subparsers(dest="embed_command", required=True, metavar="{train,eval,neighbors,plot}")
    train = add_command(
        esub,
        "train",
        "train word vectors on a corpus and save them in word2vec text format",
        "workbench embed train --method word2vec --corpus wikitext2 --out vecs/w2v.txt --min-count 3\n"
        "  workbench embed train --method glove --corpus imdb   # into the cache compare reads",
        _cmd_train,
    )
    train.add_argument("--method", required=True, choices=METHODS, help="the trainer")
    train.add_argument("--corpus", required=True, help="microworld, microworld:TOKENS, wikitext2, imdb or text:PATH")
    train.add_argument(
        "--out",
        default=None,
        help="output vector file (.bin for binary); PATH.json gets the config. Without it: the "
        "artifact cache, trained as `compare` trains them (every word: --min-count and "
        "--deterministic do not apply), where compare and finetune reuse them",
    )
    train.add_argument("--dim", type=_positive, default=100, help="vector size (default 100)")
    train.add_argument("--window", type=_positive, default=5, help="context window (default 5)")
    train.add_argument("--epochs", type=_positive, default=5, help="passes over the corpus (default 5)")
    train.add_argument("--min-count", type=_positive, default=2, help="ignore rarer words (default 2)")
    train.add_argument("--cbow", action="store_true", help="word2vec/fastText: CBOW instead of skip-gram")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument(
        "--deterministic", action="store_true", help="bit-identical vectors per seed (one worker; slower)"
    )
    ev = add_command(
        esub,
        "eval",
        "intrinsic scores: WordSim-353, SimLex-999, Google analogies (and micro-world checks)",
        "workbench embed eval vecs/w2v.txt --microworld",
        _cmd_eval,
    )
    ev.add_argument("path", help="a vector file (word2vec text/binary, GloVe text, fastText .vec/.bin)")
    ev.add_argument("--microworld", action="store_true", help="also class purity and polarity vs the micro-world truth")
    _format_option(ev)
    nb = add_command(
        esub,
        "neighbors",
        "the nearest words to WORD by cosine similarity",
        "workbench embed neighbors vecs/w2v.txt king -k 5",
        _cmd_neighbors,
    )
    nb.add_argument("path", help="a vector file")
    nb.add_argument("word", help="the query word")
    nb.add_argument("-k", type=_positive, default=10, help="how many neighbours (default 10)")
    _format_option(nb)
    pl = add_command(
        esub,
        "plot",
        "a 2-d PCA/t-SNE picture of some word vectors, saved as PNG",
        "workbench embed plot vecs/w2v.txt --out fig.png --words king queen man woman paris france",
        _cmd_plot,
    )
    pl.add_argument("path", help="a vector file")
    pl.add_argument("--out", required=True, help="PNG file to write")
    pl.add_argument(
        "--words", nargs="+", help="words to show (default: micro-world classed words, else the 50 most frequent)"
    )
    pl.add_argument("--method", choices=("pca", "tsne"), default="pca", help="projection (default pca)")
    _format_option(pl)
