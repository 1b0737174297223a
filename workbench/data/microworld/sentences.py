"""The micro-world's sentence builders, shared by the corpus and the tasks: evaluative clauses
and their composed meaning (`sentiment_value`), tagged narrative sentences around homographs,
and world-knowledge facts and questions about the cast."""

from __future__ import annotations

from workbench.data.microworld.lexicon import WORLD_SEED, Lexicon, World, article, build_lexicon

# Phenomenon names: a single one, or several joined by "+" in this order.
PHENOMENA = (
    "plain",
    "negation",
    "contrast",
    "intensity",
    "negation+contrast",
    "negation+intensity",
    "contrast+intensity",
    "negation+contrast+intensity",
)

# ----------------------------------------------------------------------------------------------
# Evaluative sentences: one clause builder shared by the corpus and the sentiment task
# ----------------------------------------------------------------------------------------------
TASK_FRAMES = ("cop", "seem", "find", "think")  # frames the labeled in-distribution splits use
SHIFTED_FRAMES = ("look", "say")  # only in the corpus and the shifted split
_VERB_FORMS = {  # frame verb: (past, present 3sg, present plural/1st)
    "seem": ("seemed", "seems", "seem"),
    "look": ("looked", "looks", "look"),
    "find": ("found", "finds", "find"),
    "think": ("thought", "thinks", "think"),
    "say": ("said", "says", "say"),
}


def _clause(frame: str, np: list, plural: bool, past: bool, adj: str, intens, neg, at_all):
    """One evaluative clause, e.g. "the soup was not very good" (no final punctuation)."""
    adjp = [intens, adj] if intens else [adj]
    if at_all:
        adjp = adjp + ["at", "all"]
    if frame in ("cop", "think", "say"):
        cop = ("were" if plural else "was") if past else ("are" if plural else "is")
        pred = [cop, neg] + adjp if neg else [cop] + adjp
        if frame == "cop":
            return np + pred
        if frame == "think":
            return ["we", "thought" if past else "think"] + np + pred
        return ["everyone", "said" if past else "says"] + np + pred
    forms = _VERB_FORMS[frame]
    if frame == "find":
        subj, v3 = ["i"], False
    else:
        subj, v3 = np, not plural
    if not neg:
        v = forms[0] if past else (forms[1] if v3 else forms[2])
        head = subj + [v]
    elif neg == "never":
        v = forms[0] if past else (forms[1] if v3 else forms[2])
        head = subj + ["never", v]
    else:
        aux = "did" if past else ("does" if v3 else "do")
        head = subj + [aux, neg, forms[2]]
    if frame == "find":
        return head + np + adjp
    return head + adjp


def _clause_value(lex: Lexicon, adj: str, intens, neg) -> float:
    v = lex.polarity[adj] * (lex.intensifiers[intens] if intens else 1.0)
    return -v if neg else v


def sentiment_value(tokens, seed: int = WORLD_SEED) -> float:
    """Compositional meaning of an evaluative sentence from its tokens.

    Each clause's value is polarity(adjective) x intensifier multiplier, sign-flipped if a
    negator occurs earlier in the clause; "X but Y" takes Y's value; "X and Y" adds the values.
    The label is "positive" iff the value is > 0.
    """
    lex = build_lexicon(seed)
    toks = list(tokens)
    if "," in toks:
        # a trailing consequence (", so we came back") is not part of the evaluation
        for i, t in enumerate(toks):
            if t == "," and i + 1 < len(toks) and toks[i + 1] == "so":
                toks = toks[:i]
                break
    clauses, conj, cur = [], [], []
    for t in toks:
        if t in ("but", "and"):
            clauses.append(cur)
            conj.append(t)
            cur = []
        else:
            cur.append(t)
    clauses.append(cur)
    vals = []
    for c in clauses:
        v, negated, mult = 0.0, False, 1.0
        for t in c:
            if t in lex.negators:
                negated = True
            elif t in lex.intensifiers:
                mult = lex.intensifiers[t]
            elif t in lex.polarity:
                v = lex.polarity[t] * mult
        vals.append(-v if negated else v)
    total = vals[0]
    for c, v in zip(conj, vals[1:]):
        total = v if c == "but" else total + v
    return total


def pick_aspect(rng, W: World, topic, avoid=None):
    for _ in range(10):
        a = W.aspects[topic](rng)
        if a[0] != avoid:
            return a
    return a


def _negator(rng) -> str:
    r = rng.random()
    return "not" if r < 0.6 else ("n't" if r < 0.85 else "never")


def eval_sentence(rng, W: World, topic: str, past: bool, target: int, phen: str, frames, pick_adj):
    """An evaluative sentence (without final punctuation) whose composed value has sign `target`.

    pick_adj(sign, negatable, strong) -> adjective with that polarity sign.
    Returns (tokens, value, phenomenon).
    """
    lex = W.lex
    has_neg = "negation" in phen
    has_con = "contrast" in phen
    has_int = "intensity" in phen
    nframes = len(frames)

    def clause(sign, neg, intens, avoid=None):
        # sign: sign of the clause's value
        adj_sign = -sign if neg else sign
        adj = pick_adj(adj_sign, bool(neg), False)
        at_all = bool(neg) and neg != "never" and not intens and rng.random() < 0.25
        asp, plural = pick_aspect(rng, W, topic, avoid)
        toks = _clause(frames[int(rng.random() * nframes)], ["the", asp], bool(plural), past, adj, intens, neg, at_all)
        return toks, _clause_value(lex, adj, intens, neg), asp

    def intensifier(negated=False):
        # a negated clause takes only strong intensifiers ("not very good", never "not slightly")
        return W.strong(rng) if negated or rng.random() < 0.7 else W.weak(rng)

    if has_con:
        r = rng.random()
        neg1 = _negator(rng) if has_neg and r < 0.67 else None
        neg2 = _negator(rng) if has_neg and r >= 0.33 else None
        i1 = i2 = None
        if has_int:
            r = rng.random()
            i1 = intensifier(bool(neg1)) if r < 0.67 else None
            i2 = intensifier(bool(neg2)) if r >= 0.33 else None
        c1, _, a1 = clause(-target, neg1, i1)
        c2, v2, _ = clause(target, neg2, i2, avoid=a1)
        joiner = [",", "but"] if rng.random() < 0.3 else ["but"]
        return c1 + joiner + c2, v2, phen
    if has_int and not has_neg and rng.random() < 0.35:
        # a downtoned clause and an intensified clause of opposite polarity: the stronger wins
        for _ in range(20):
            weak_i, strong_i = W.weak(rng), W.strong(rng)
            a_weak = pick_adj(-target, False, False)
            a_strong = pick_adj(target, False, True)
            vw = _clause_value(lex, a_weak, weak_i, None)
            vs = _clause_value(lex, a_strong, strong_i, None)
            if abs(vw + vs) >= 0.25 and (vw + vs) * target > 0:
                break
        asp1, pl1 = pick_aspect(rng, W, topic)
        asp2, pl2 = pick_aspect(rng, W, topic, asp1)
        cw = _clause(frames[int(rng.random() * nframes)], ["the", asp1], bool(pl1), past, a_weak, weak_i, None, False)
        cs = _clause(
            frames[int(rng.random() * nframes)], ["the", asp2], bool(pl2), past, a_strong, strong_i, None, False
        )
        toks = cw + ["and"] + cs if rng.random() < 0.5 else cs + ["and"] + cw
        return toks, vw + vs, phen
    neg = _negator(rng) if has_neg else None
    intens = intensifier(bool(neg)) if has_int else None
    toks, v, _ = clause(target, neg, intens)
    return toks, v, phen


# ----------------------------------------------------------------------------------------------
# Narrative sentences with tags (homographs in noun and verb uses); used by corpus and tagging
# ----------------------------------------------------------------------------------------------
NOUN_FRAMES = ("n_subj", "n_obj", "n_there", "n_pl", "n_adj")
VERB_FRAMES = ("v_pl", "v_3", "v_inf", "v_will", "v_neg")
HELD_OUT_FRAMES = ("n_rel", "v_rel")  # never in labeled train/dev/test of micro-tagging
ALL_TAG_FRAMES = NOUN_FRAMES + VERB_FRAMES + HELD_OUT_FRAMES + ("nvn",)


def tagged(rng, W: World, frame: str, h: str, name=None, past=None):
    """Return (tokens, tags) for a narrative frame around homograph h."""
    lex = W.lex
    f = lex.homograph_forms[h]
    nm = name or W.names(rng)
    if past is None:
        past = rng.random() < 0.5
    if frame == "n_subj":
        cop = "was" if past else "is"
        return (["the", f["noun"], cop, W.neutral(rng), "."], ["DET", "NOUN", "AUX", "ADJ", "PUNCT"])
    if frame == "n_obj":
        city = W.places(rng)
        return (
            [nm, "saw", "the", f["noun"], "in", *city, "."],
            ["PROPN", "VERB", "DET", "NOUN", "ADP"] + ["PROPN"] * len(city) + ["PUNCT"],
        )
    if frame == "n_there":
        cop = "was" if past else "is"
        return (
            ["there", cop, article(f["noun"]), f["noun"], "near", "the", W.objects(rng), "."],
            ["PRON", "AUX", "DET", "NOUN", "ADP", "DET", "NOUN", "PUNCT"],
        )
    if frame == "n_pl":
        cop = "were" if past else "are"
        return (["the", f["plural"], cop, W.neutral(rng), "."], ["DET", "NOUN", "AUX", "ADJ", "PUNCT"])
    if frame == "n_adj":
        return ([nm, "likes", "the", W.neutral(rng), f["noun"], "."], ["PROPN", "VERB", "DET", "ADJ", "NOUN", "PUNCT"])
    if frame == "n_rel":
        cop = "was" if past else "is"
        return (
            ["the", f["noun"], "that", nm, "liked", cop, W.neutral(rng), "."],
            ["DET", "NOUN", "PRON", "PROPN", "VERB", "AUX", "ADJ", "PUNCT"],
        )
    if frame == "v_pl":
        return (
            ["they", f["verb"], "the", W.objects(rng), "every", "day", "."],
            ["PRON", "VERB", "DET", "NOUN", "DET", "NOUN", "PUNCT"],
        )
    if frame == "v_3":
        city = W.places(rng)
        return ([nm, f["verb3"], "in", *city, "."], ["PROPN", "VERB", "ADP"] + ["PROPN"] * len(city) + ["PUNCT"])
    if frame == "v_inf":
        subj = "we" if rng.random() < 0.5 else "they"
        return ([subj, "want", "to", f["verb"], "."], ["PRON", "VERB", "PART", "VERB", "PUNCT"])
    if frame == "v_will":
        subj = "i" if rng.random() < 0.5 else "we"
        return ([subj, "will", f["verb"], "tomorrow", "."], ["PRON", "AUX", "VERB", "ADV", "PUNCT"])
    if frame == "v_neg":
        return ([nm, "did", "not", f["verb"], "today", "."], ["PROPN", "AUX", "NEG", "VERB", "ADV", "PUNCT"])
    if frame == "v_rel":
        cop = "was" if past else "is"
        return (
            ["the", W.profs(rng), "who", f["verb3"], "here", cop, W.neutral(rng), "."],
            ["DET", "NOUN", "PRON", "VERB", "ADV", "AUX", "ADJ", "PUNCT"],
        )
    if frame == "nvn":
        f2 = lex.homograph_forms[W.homs(rng)]
        f3 = lex.homograph_forms[W.homs(rng)]
        return (
            ["the", f["noun"], f2["verb3"], "the", f3["noun"], "."],
            ["DET", "NOUN", "VERB", "DET", "NOUN", "PUNCT"],
        )
    raise ValueError(frame)


# ----------------------------------------------------------------------------------------------
# World-knowledge sentences (facts about the cast); used by corpus and QA
# ----------------------------------------------------------------------------------------------
FACT_FRAMES = {"city": ("L_in", "L_where", "L_house"), "job": ("J_is", "J_as"), "likes": ("K_likes", "K_most")}
SHIFTED_FACT_FRAMES = {"city": ("L_home", "L_of"), "job": ("J_prof", "J_living"), "likes": ("K_fond", "K_what")}
QUESTION_TYPES = ("city", "job", "likes", "who")


def fact_predicate(attr, val):
    """Predicate phrase stating a fact, and the answer's offset inside it."""
    if attr == "city":
        return ["lives", "in", *val], 2
    if attr == "job":
        return ["works", "as", article(val[0]), *val], 3
    return ["likes", *val], 1


def fact_sentence(lex: Lexicon, name: str, attr: str, frame: str, attr2=None):
    """(tokens, {attr: (start, end)}, name index) for one fact sentence.

    frame "R" is the relative clause: "NAME , who PRED(attr) , PRED(attr2) ."."""
    val = lex.facts[name][attr]
    n = len(val)
    if frame == "R":
        p1, o1 = fact_predicate(attr, val)
        val2 = lex.facts[name][attr2]
        p2, o2 = fact_predicate(attr2, val2)
        toks = [name, ",", "who", *p1, ",", *p2, "."]
        s1 = 3 + o1
        s2 = 3 + len(p1) + 1 + o2
        return toks, {attr: (s1, s1 + n - 1), attr2: (s2, s2 + len(val2) - 1)}, 0
    if frame == "L_in":
        return [name, "lives", "in", *val, "."], {attr: (3, 2 + n)}, 0
    if frame == "L_where":
        return [*val, "is", "where", name, "lives", "."], {attr: (0, n - 1)}, n + 2
    if frame == "L_house":
        return [name, "has", "a", "house", "in", *val, "."], {attr: (5, 4 + n)}, 0
    if frame == "L_home":
        return [*val, "is", "home", "to", name, "."], {attr: (0, n - 1)}, n + 3
    if frame == "L_of":
        return ["the", "home", "of", name, "is", "in", *val, "."], {attr: (6, 5 + n)}, 3
    if frame == "J_is":
        return [name, "is", article(val[0]), *val, "."], {attr: (3, 2 + n)}, 0
    if frame == "J_as":
        return [name, "works", "as", article(val[0]), *val, "."], {attr: (4, 3 + n)}, 0
    if frame == "J_prof":
        return (["by", "profession", ",", name, "is", article(val[0]), *val, "."], {attr: (6, 5 + n)}, 3)
    if frame == "J_living":
        return ([name, "earns", "a", "living", "as", article(val[0]), *val, "."], {attr: (6, 5 + n)}, 0)
    if frame == "K_likes":
        return [name, "likes", *val, "."], {attr: (2, 1 + n)}, 0
    if frame == "K_most":
        return ["what", name, "likes", "most", "is", *val, "."], {attr: (5, 4 + n)}, 1
    if frame == "K_fond":
        return [name, "is", "fond", "of", *val, "."], {attr: (4, 3 + n)}, 0
    if frame == "K_what":
        return [*val, "is", "what", name, "likes", "."], {attr: (0, n - 1)}, n + 2
    raise ValueError(frame)


def question_tokens(lex: Lexicon, name: str, qtype: str, shifted: bool):
    if qtype == "who":
        city = lex.facts[name]["city"]
        return ["which", "person", "lives", "in", *city, "?"] if shifted else ["who", "lives", "in", *city, "?"]
    if qtype == "city":
        return ["in", "which", "city", "does", name, "live", "?"] if shifted else ["where", "does", name, "live", "?"]
    if qtype == "job":
        return ["what", "is", "the", "job", "of", name, "?"] if shifted else ["what", "does", name, "do", "?"]
    return ["what", "is", name, "fond", "of", "?"] if shifted else ["what", "does", name, "like", "?"]


FACT_ATTRS = ("city", "job", "likes")
ALL_FACT_FRAMES = {a: FACT_FRAMES[a] + SHIFTED_FACT_FRAMES[a] for a in FACT_ATTRS}
