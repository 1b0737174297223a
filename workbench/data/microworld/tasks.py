"""The micro-world's labeled tasks: micro-sentiment, micro-tagging and micro-qa (`make_task`),
each with train/dev/test and a shifted split."""

from __future__ import annotations

import random

from workbench.data.microworld.lexicon import TOPICS, WORLD_SEED, World, Zipf, build_lexicon
from workbench.data.microworld.sentences import (
    FACT_ATTRS,
    FACT_FRAMES,
    HELD_OUT_FRAMES,
    NOUN_FRAMES,
    PHENOMENA,
    QUESTION_TYPES,
    SHIFTED_FACT_FRAMES,
    SHIFTED_FRAMES,
    TASK_FRAMES,
    VERB_FRAMES,
    eval_sentence,
    fact_sentence,
    question_tokens,
    tagged,
)
from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Example, Task

TASK_NAMES = ("micro-sentiment", "micro-tagging", "micro-qa")
SENTIMENT_LABELS = ["negative", "positive"]
TAGS = ("DET", "NOUN", "PROPN", "VERB", "AUX", "ADJ", "ADV", "NEG", "PRON", "ADP", "CONJ", "PART", "NUM", "PUNCT")
SENTIMENT_SIZES = {"train": 3000, "dev": 500, "test": 1000, "shifted": 1000}
TAGGING_SIZES = {"train": 2000, "dev": 300, "test": 600, "shifted": 600}
QA_SIZES = {"train": 2000, "dev": 300, "test": 600, "shifted": 600}


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------
_TASK_PHEN = Zipf(PHENOMENA, weights=(0.25, 0.2, 0.2, 0.15, 0.07, 0.05, 0.05, 0.03))


def _fill(split_sizes, make_one, rng):
    """Generate each split in order, rejecting any example already seen (splits are disjoint)."""
    seen = set()
    splits = {}
    for split, size in split_sizes.items():
        out = []
        tries = 0
        while len(out) < size:
            tries += 1
            if tries > size * 200:
                raise RuntimeError(f"could not generate {size} distinct examples for {split}")
            ex, key = make_one(split, len(out))
            if key in seen:
                continue
            seen.add(key)
            out.append(ex)
        rng.shuffle(out)
        splits[split] = out
    return splits


def _sentiment_task(seed: int) -> Task:
    lex = build_lexicon(seed)
    W = World(lex)
    rng = random.Random(seed * 1_000_003 + 303)
    pools = {}
    for name, words in (("head", lex.head_adjectives), ("tail", lex.tail_adjectives)):
        for sign in (1, -1):
            pools[(name, sign)] = tuple(w for w in words if lex.polarity[w] * sign > 0)
    state = {"pool": "head"}

    def pick(sign, negatable, strong):
        pool = state["pool"]
        if pool == "mixed":
            pool = "head" if rng.random() < 0.5 else "tail"
        p = pools[(pool, sign)]
        a = p[int(rng.random() * len(p))]
        while strong and abs(lex.polarity[a]) < 1.0:
            a = p[int(rng.random() * len(p))]
        return a

    def make_one(split, i):
        target = 1 if i % 2 == 0 else -1
        state["pool"] = {"train": "head", "dev": "mixed", "test": "mixed", "shifted": "tail"}[split]
        frames = TASK_FRAMES
        if split == "shifted" and rng.random() < 0.5:
            frames = SHIFTED_FRAMES
        topic = TOPICS[int(rng.random() * 4)]
        phen = _TASK_PHEN(rng)
        toks, value, phen = eval_sentence(rng, W, topic, rng.random() < 0.8, target, phen, frames, pick)
        toks = tuple(toks) + (".",)
        assert value * target > 0
        label = SENTIMENT_LABELS[1] if value > 0 else SENTIMENT_LABELS[0]
        return Example(tokens=toks, label=label, phenomenon=phen), toks

    splits = _fill(SENTIMENT_SIZES, make_one, rng)
    return Task(
        name="micro-sentiment",
        kind=CLASSIFICATION,
        splits=splits,
        labels=list(SENTIMENT_LABELS),
        description=(
            "Sentence polarity in the micro-world; labels are composed from graded "
            "adjective polarity with negation, contrast ('but': the second clause "
            "decides) and intensity ('and': the stronger clause wins)."
        ),
        split_notes=(
            "train: head adjectives only, frames "
            + "/".join(TASK_FRAMES)
            + "; dev/test: head and tail adjectives, same frames; shifted: tail adjectives "
            "only, half of it in frames " + "/".join(SHIFTED_FRAMES) + " that no other split uses."
        ),
    )


def _tagging_task(seed: int) -> Task:
    lex = build_lexicon(seed)
    W = World(lex)
    rng = random.Random(seed * 1_000_003 + 404)
    homs = tuple(lex.homograph_forms)
    held = set()
    for h in homs:
        held.add((h, NOUN_FRAMES[int(rng.random() * len(NOUN_FRAMES))]))
        held.add((h, VERB_FRAMES[int(rng.random() * len(VERB_FRAMES))]))
    inframes = NOUN_FRAMES + VERB_FRAMES

    def make_one(split, i):
        if split == "shifted":
            if rng.random() < 0.4:
                frame = HELD_OUT_FRAMES[int(rng.random() * 2)]
                h = homs[int(rng.random() * len(homs))]
            else:
                h = homs[int(rng.random() * len(homs))]
                frame = (
                    NOUN_FRAMES[int(rng.random() * len(NOUN_FRAMES))]
                    if i % 2
                    else VERB_FRAMES[int(rng.random() * len(VERB_FRAMES))]
                )
                if (h, frame) not in held:
                    return None, None
            toks, tags = tagged(rng, W, frame, h)
            phen = "held-out-frame" if frame in HELD_OUT_FRAMES else "held-out-combination"
        else:
            h = homs[int(rng.random() * len(homs))]
            if rng.random() < 0.12:
                frame = "nvn"
                toks, tags = tagged(rng, W, frame, h)
            else:
                # alternate noun and verb uses so every homograph shows both tags
                frames = NOUN_FRAMES if i % 2 == 0 else VERB_FRAMES
                frame = frames[int(rng.random() * len(frames))]
                if (h, frame) in held:
                    return None, None
                toks, tags = tagged(rng, W, frame, h)
            phen = "noun" if frame in NOUN_FRAMES else ("verb" if frame in VERB_FRAMES else "noun+verb")
        ex = Example(tokens=tuple(toks), tags=tuple(tags), phenomenon=phen)
        return ex, (ex.tokens, ex.tags)

    def make_valid(split, i):
        while True:
            ex, key = make_one(split, i)
            if ex is not None:
                return ex, key

    splits = _fill(TAGGING_SIZES, make_valid, rng)
    held_sorted = sorted(held)
    return Task(
        name="micro-tagging",
        kind=TAGGING,
        splits=splits,
        labels=list(TAGS),
        description=(
            "Part-of-speech tagging of micro-world sentences built around noun/verb "
            "homographs (" + ", ".join(homs) + "): the same word is NOUN in one frame "
            "and VERB in another."
        ),
        split_notes=(
            "train/dev/test: frames " + "/".join(inframes) + " and 'nvn', minus one noun "
            "and one verb frame per homograph; shifted: those held-out homograph/frame "
            "combinations ("
            + ", ".join(f"{h}:{f}" for h, f in held_sorted)
            + ") and the frames "
            + "/".join(HELD_OUT_FRAMES)
            + " that no other split "
            "uses. Example.phenomenon: noun / verb / noun+verb / held-out-frame / "
            "held-out-combination."
        ),
    )


def _qa_task(seed: int) -> Task:
    lex = build_lexicon(seed)
    rng = random.Random(seed * 1_000_003 + 505)
    names = lex.names

    def make_one(split, i):
        qtype = QUESTION_TYPES[int(rng.random() * 4)]
        attr = "city" if qtype == "who" else qtype
        e = names[int(rng.random() * len(names))]
        q_shift = p_shift = False
        if split == "shifted":
            r = rng.random()
            q_shift = r < 0.75
            p_shift = r >= 0.5
        # distractor entities whose asked attribute differs from the target's
        n_dis = int(rng.random() * 3)
        cands = [n for n in names if n != e and lex.facts[n][attr] != lex.facts[e][attr]]
        distract = rng.sample(cands, n_dis)
        # target sentence
        if p_shift:
            fr = SHIFTED_FACT_FRAMES[attr]
            frame = fr[int(rng.random() * len(fr))]
            tgt = fact_sentence(lex, e, attr, frame)
        elif rng.random() < 0.2:
            other = [a for a in FACT_ATTRS if a != attr]
            a2 = other[int(rng.random() * 2)]
            tgt = fact_sentence(lex, e, attr, "R", a2) if rng.random() < 0.5 else fact_sentence(lex, e, a2, "R", attr)
        else:
            fr = FACT_FRAMES[attr]
            tgt = fact_sentence(lex, e, attr, fr[int(rng.random() * len(fr))])
        used = {(e, a) for a in tgt[1]}
        pool = [(n, a) for n in [e] + distract for a in FACT_ATTRS if (n, a) not in used]
        k = 1 + int(rng.random() * 4)  # 2..5 sentences in all
        others = rng.sample(pool, min(k, len(pool)))
        sents = [(tgt, True)]
        for n, a in others:
            frames = FACT_FRAMES[a] + (SHIFTED_FACT_FRAMES[a] if split == "shifted" else ())
            sents.append((fact_sentence(lex, n, a, frames[int(rng.random() * len(frames))]), False))
        rng.shuffle(sents)
        tokens, span = [], None
        for (toks, spans, name_idx), is_tgt in sents:
            if is_tgt:
                if qtype == "who":
                    span = (len(tokens) + name_idx, len(tokens) + name_idx)
                else:
                    s, t = spans[attr]
                    span = (len(tokens) + s, len(tokens) + t)
            tokens += toks
        question = tuple(question_tokens(lex, e, qtype, q_shift))
        phen = qtype + ("+shifted-question" if q_shift else "") + ("+shifted-passage" if p_shift else "")
        ex = Example(tokens=tuple(tokens), question=question, span=span, phenomenon=phen)
        return ex, (ex.tokens, question)

    splits = _fill(QA_SIZES, make_one, rng)
    return Task(
        name="micro-qa",
        kind=SPAN,
        splits=splits,
        labels=[],
        description=(
            "Extractive QA over short passages of facts about the micro-world's cast "
            "(where someone lives, their job, what they like; 'who lives in X ?')."
        ),
        split_notes=(
            "train/dev/test: passage frames "
            + "/".join(f for a in FACT_ATTRS for f in FACT_FRAMES[a])
            + " and the relative clause R; questions 'where does X live ?', "
            "'what does X do ?', 'what does X like ?', 'who lives in C ?'. shifted: "
            "question frames 'in which city does X live ?', 'what is the job of X ?', "
            "'what is X fond of ?', 'which person lives in C ?' and/or the answer "
            "stated in frames "
            + "/".join(f for a in FACT_ATTRS for f in SHIFTED_FACT_FRAMES[a])
            + ". Example.phenomenon: question type (city/job/likes/who) plus "
            "+shifted-question / +shifted-passage."
        ),
    )


def make_task(name: str, seed: int = WORLD_SEED) -> Task:
    """One of TASK_NAMES with fixed, disjoint splits train/dev/test/shifted."""
    if name == "micro-sentiment":
        return _sentiment_task(seed)
    if name == "micro-tagging":
        return _tagging_task(seed)
    if name == "micro-qa":
        return _qa_task(seed)
    raise KeyError(f"unknown micro-world task {name!r}; known: {TASK_NAMES}")
