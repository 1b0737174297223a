"""`workbench generate`, `workbench fill`, `workbench perplexity`: a pretrained model without fine-tuning."""

from __future__ import annotations

from workbench.cli.common import add_command, load_language_model
from workbench.generate import fill, perplexity, sample


def _generate(args) -> int:

    model, vocab, *_ = load_language_model(args.model, args.corpus)
    for text in sample(
        model,
        vocab,
        args.prompt,
        n=args.n,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        greedy=args.greedy,
        seed=args.seed,
    ):
        print(f"{args.prompt} | {text}")
    return 0


def _fill(args) -> int:

    model, vocab, *_ = load_language_model(args.model, args.corpus)
    for i, candidates in enumerate(fill(model, vocab, args.text, k=args.k), start=1):
        print(f"[MASK] {i}: " + "  ".join(f"{word} {p:.3f}" for word, p in candidates))
    return 0


def _perplexity(args) -> int:

    model, vocab, *_ = load_language_model(args.model, args.corpus)
    result = perplexity(model, vocab, args.text)
    print(
        f"perplexity {result['perplexity']:.2f} ({result['nats_per_token']:.3f} nats/token "
        f"over {result['tokens']} tokens, {result['unknown_words']} unknown words)"
    )
    return 0


def register(sub) -> None:
    gen = add_command(
        sub,
        "generate",
        "sample continuations from a causal LM (temperature, top-k, top-p, greedy)",
        'workbench generate clm --prompt "the soup was" --n 5 --seed 0 --top-p 0.9',
        _generate,
    )
    gen.add_argument("model", help="a `workbench pretrain` folder, or clm / lstm-lm for the default model")
    gen.add_argument("--prompt", default="", help="text to continue")
    gen.add_argument("--n", type=int, default=5, help="number of samples")
    gen.add_argument("--max-tokens", type=int, default=30)
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=None)
    gen.add_argument("--top-p", type=float, default=None)
    gen.add_argument("--greedy", action="store_true", help="always the most likely word")
    gen.add_argument("--seed", type=int, default=0, help="same seed, same samples")
    fil = add_command(
        sub,
        "fill",
        "fill in [MASK] blanks with a masked (or permutation) LM",
        'workbench fill mlm "the [MASK] was delicious"',
        _fill,
    )
    fil.add_argument("model", help="a `workbench pretrain` folder, or mlm / plm for the default model")
    fil.add_argument("text", help="text with one or more [MASK]")
    fil.add_argument("-k", type=int, default=5, help="predictions per blank")
    ppl = add_command(
        sub,
        "perplexity",
        "perplexity of a text under a causal LM",
        'workbench perplexity clm "the soup was not bad at all , so we came back ."',
        _perplexity,
    )
    ppl.add_argument("model", help="a `workbench pretrain` folder, or clm / lstm-lm")
    ppl.add_argument("text")
    for parser in (gen, fil, ppl):
        parser.add_argument("--corpus", default="microworld", help="corpus of the default model (with a pipeline name)")
