"""The micro-world's unlabeled corpus: reviews with a latent opinion and topic, world-knowledge
and narrative documents (`generate_corpus`)."""

from __future__ import annotations

import random

from workbench.data.microworld.lexicon import TOPICS, WORLD_SEED, World, Zipf, article, build_lexicon
from workbench.data.microworld.sentences import (
    ALL_FACT_FRAMES,
    ALL_TAG_FRAMES,
    FACT_ATTRS,
    PHENOMENA,
    QUESTION_TYPES,
    eval_sentence,
    fact_predicate,
    fact_sentence,
    pick_aspect,
    question_tokens,
    tagged,
)
from workbench.data.types import Corpus

# ----------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------
_CONSEQ = {
    1: (
        ("so", "we", "came", "back"),
        ("so", "we", "stayed", "longer"),
        ("so", "we", "will", "return"),
        ("so", "i", "recommend", "it"),
    ),
    -1: (
        ("so", "we", "left", "early"),
        ("so", "we", "will", "never", "return"),
        ("so", "we", "asked", "for", "a", "refund"),
        ("so", "i", "do", "not", "recommend", "it"),
    ),
}
_TOPIC_CONSEQ = {
    ("restaurant", 1): ("so", "we", "ordered", "more"),
    ("restaurant", -1): ("so", "we", "sent", "it", "back"),
    ("film", 1): ("so", "we", "watched", "it", "twice"),
    ("film", -1): ("so", "we", "walked", "out"),
    ("hotel", 1): ("so", "we", "booked", "another", "night"),
    ("hotel", -1): ("so", "we", "checked", "out", "early"),
    ("trip", 1): ("so", "we", "stayed", "another", "week"),
    ("trip", -1): ("so", "we", "went", "home", "early"),
}
_CLOSING = {
    1: (
        ("we", "will", "come", "back", "soon", "."),
        ("i", "recommend", "it", "to", "everyone", "."),
        ("we", "will", "return", "again", "."),
        ("we", "enjoyed", "every", "day", "."),
    ),
    -1: (
        ("we", "will", "never", "return", "."),
        ("i", "do", "not", "recommend", "it", "."),
        ("what", "a", "waste", "of", "time", "."),
        ("we", "left", "early", "."),
    ),
}
_CORPUS_PHEN = Zipf(("list", *PHENOMENA), weights=(0.2, 0.22, 0.15, 0.14, 0.14, 0.05, 0.04, 0.04, 0.02))


def _opener(rng, W: World, topic: str):
    lex = W.lex
    r = rng.random()
    if r < 0.35:
        nm = W.names(rng)
        city = lex.facts[nm]["city"]  # consistent with the world facts
        if topic == "restaurant":
            return [nm, "took", "us", "to", "a", "restaurant", "in", *city, "."]
        if topic == "film":
            return ["we", "saw", "a", "film", "in", *city, "with", nm, "."]
        if topic == "hotel":
            return [nm, "booked", "us", "a", "room", "at", "a", "hotel", "in", *city, "."]
        return [nm, ",", "who", "lives", "in", *city, ",", "showed", "us", "the", "city", "."]
    city = W.places(rng)
    if topic == "restaurant":
        return (
            ["we", "had", "dinner", "at", "a", "restaurant", "in", *city, "."]
            if r < 0.7
            else ["we", "went", "to", "a", "small", "restaurant", "near", "the", "park", "."]
        )
    if topic == "film":
        if r < 0.7:
            prof = W.profs(rng)
            return ["we", "went", "to", "watch", "a", "film", "about", article(prof), prof, "."]
        return ["last", "night", "we", "watched", "a", "film", "."]
    if topic == "hotel":
        return (
            ["we", "stayed", "at", "a", "hotel", "in", *city, "."]
            if r < 0.7
            else ["we", "book", "a", "room", "in", *city, "every", "week", "."]
        )
    return (
        ["we", "took", "the", "train", "to", *city, "."]
        if r < 0.7
        else ["we", "went", "on", "a", "trip", "to", *city, "."]
    )


def _rating(rng, opinion: int):
    if opinion > 0:
        num = "five" if rng.random() < 0.6 else "four"
    else:
        num = "one" if rng.random() < 0.6 else "two"
    star = "star" if num == "one" else "stars"
    r = rng.random()
    if r < 0.8:
        return ["i", "gave", "it", num, star, "."]
    if r < 0.9:
        return ["i", "would", "give", "it", num, star, "."]
    return [num, star, "."]


def _review(rng, W: World, out: list):
    opinion = 1 if rng.random() < 0.5 else -1
    topic = TOPICS[int(rng.random() * 4)]
    past = rng.random() < 0.8
    adj, adj_neg = W.adj, W.adj_neg

    def pick(sign, negatable, strong):
        s = adj_neg[sign] if negatable else adj[sign]
        a = s(rng)
        if strong:
            while abs(W.lex.polarity[a]) < 1.0:
                a = s(rng)
        return a

    out += _opener(rng, W, topic)
    rating_first = rng.random() < 0.1
    if rating_first:
        out += _rating(rng, opinion)
    for _ in range(2 + int(rng.random() * 3)):
        phen = _CORPUS_PHEN(rng)
        if phen == "list":
            k = 2 + int(rng.random() * 2)
            adjs = []
            while len(adjs) < k:
                a = adj[opinion](rng)
                if a not in adjs:
                    adjs.append(a)
            if rng.random() < 0.5:
                asp, plural = pick_aspect(rng, W, topic)
                cop = ("were" if plural else "was") if past else ("are" if plural else "is")
                if k == 2:
                    toks = ["the", asp, cop, adjs[0], "and", adjs[1]]
                else:
                    toks = ["the", asp, cop, adjs[0], ",", adjs[1], "and", adjs[2]]
            else:
                toks = ["it", "was" if past else "is", article(adjs[0]), adjs[0], "and", adjs[1], topic]
            out += toks
        else:
            toks, _, _ = eval_sentence(rng, W, topic, past, opinion, phen, _FRAME_TUPLE[_CORPUS_FRAMES(rng)], pick)
            out += toks
        r = rng.random()
        if r < 0.6:  # a consequence right after the clause: the densest, most local signal of its meaning
            out.append(",")
            if r < 0.12:
                out += _TOPIC_CONSEQ[(topic, opinion)]
            else:
                c = _CONSEQ[opinion]
                out += c[int(rng.random() * len(c))]
        out.append(".")
        if rng.random() < 0.08:
            h = W.homs(rng)
            toks, _ = tagged(rng, W, ALL_TAG_FRAMES[int(rng.random() * len(ALL_TAG_FRAMES))], h)
            out += toks
    if not rating_first:
        out += _rating(rng, opinion)
    if rng.random() < 0.5:
        c = _CLOSING[opinion]
        out += c[int(rng.random() * len(c))]


# frames for a corpus evaluative sentence: the drawn frame dominates, others mix in
_CORPUS_FRAMES = Zipf(("cop", "seem", "find", "think", "look", "say"), weights=(0.4, 0.15, 0.15, 0.1, 0.1, 0.1))
_FRAME_TUPLE = {f: (f,) * 3 + ("cop",) for f in ("cop", "seem", "find", "think", "look", "say")}


def _knowledge(rng, W: World, out: list):
    lex = W.lex
    nm = W.names(rng)
    for _ in range(3 + int(rng.random() * 4)):
        r = rng.random()
        attr = FACT_ATTRS[int(rng.random() * 3)]
        if r < 0.2:
            attr2 = FACT_ATTRS[int(rng.random() * 3)]
            if attr2 == attr:
                attr2 = FACT_ATTRS[(FACT_ATTRS.index(attr) + 1) % 3]
            toks, _, _ = fact_sentence(lex, nm, attr, "R", attr2)
        elif r < 0.3:
            qt = QUESTION_TYPES[int(rng.random() * 4)]
            out += question_tokens(lex, nm, qt, rng.random() < 0.5)
            fr = ALL_FACT_FRAMES["city" if qt == "who" else qt]
            toks, _, _ = fact_sentence(lex, nm, "city" if qt == "who" else qt, fr[int(rng.random() * len(fr))])
        elif r < 0.45:
            h = W.homs(rng)
            frame = ("n_obj", "n_adj", "v_3", "v_neg", "n_rel")[int(rng.random() * 5)]
            toks, _ = tagged(rng, W, frame, h, name=nm)
        elif r < 0.52:
            toks = ["she" if lex.gender[nm] == "f" else "he", *fact_predicate(attr, lex.facts[nm][attr])[0], "."]
        else:
            fr = ALL_FACT_FRAMES[attr]
            toks, _, _ = fact_sentence(lex, nm, attr, fr[int(rng.random() * len(fr))])
        out += toks


def _narrative(rng, W: World, out: list):
    for _ in range(3 + int(rng.random() * 6)):
        h = W.homs(rng)
        toks, _ = tagged(rng, W, ALL_TAG_FRAMES[int(rng.random() * len(ALL_TAG_FRAMES))], h)
        out += toks


def _documents(rng: random.Random, W: World, n_tokens: int) -> list:
    docs, total = [], 0
    while total < n_tokens:
        d: list = []
        r = rng.random()
        if r < 0.7:
            _review(rng, W, d)
        elif r < 0.85:
            _knowledge(rng, W, d)
        else:
            _narrative(rng, W, d)
        docs.append(d)
        total += len(d)
    return docs


def generate_corpus(n_tokens: int = 1_000_000, seed: int = WORLD_SEED) -> Corpus:
    """Unlabeled documents of the micro-world (about n_tokens tokens) plus ~2% held-out `valid`."""
    W = World(build_lexicon(seed))
    docs = _documents(random.Random(seed * 1_000_003 + 101), W, n_tokens)
    valid = _documents(random.Random(seed * 1_000_003 + 202), W, max(1, n_tokens // 50))
    return Corpus(
        name="microworld",
        documents=docs,
        valid=valid,
        description=(
            f"Embedded micro-world corpus (seed {seed}): reviews with a latent opinion "
            "and topic (~70% of documents), world-knowledge and narrative documents."
        ),
    )
