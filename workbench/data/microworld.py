"""The embedded micro-world: a seeded, synthetic English-like language that needs no download.

Why it looks the way it does
----------------------------
The workbench compares static word embeddings + LSTM against pretrained Transformers on
data-efficiency curves. That comparison only teaches something if the unlabeled corpus holds
information that a small labeled set does not. The calibration notes
(``shared/notes/calibration.md``) measured which properties of a synthetic language make that
true, and this generator is built from them:

* **A latent document state.** Templates whose slots are filled independently teach a language
  model only syntax ("terrible , so we [MASK] it" and "excellent , so we [MASK] it" got the
  same prediction). Here 70% of documents are short reviews with a hidden *opinion*
  (positive/negative) and *topic* (restaurant, film, hotel, trip) that colour every sentence:
  3-7 evaluative sentences that all agree with the opinion, lists of several same-polarity
  adjectives (dense, short-range co-occurrence), a rating sentence ("i gave it five stars ." /
  "i gave it one star .") and consequence clauses (", so we came back ." / ", so we left early .").
* **Negation, contrast and intensity with consistent consequences, in the task's own
  constructions.** A causal LM learned negation only when the corpus contained negated
  adjectives whose star rating followed the meaning after negation, and what it learned did not
  transfer to labeled sentences that wrote negation differently. So the labeled sentiment
  sentences are produced by exactly the clause builder the corpus uses ("the soup was not bad at
  all", "the room was nice but the staff was rude", "the soup was slightly bad and the staff was
  extremely friendly"), and in the corpus those sentences are followed by a consequence that
  matches their composed meaning. A quarter of the adjectives (``Lexicon.never_negated``, all
  from the tail) are never negated in the corpus, so generalisation of negation can be tested.
* **Head vs tail adjectives (Zipfian).** 80 evaluative adjectives with graded polarity (+-0.5 .. +-2)
  are sampled with a steep Zipf law: the 20 head adjectives are frequent, the 60 tail adjectives
  rare but each seen dozens of times per million tokens in documents of matching opinion
  (word2vec recovered every adjective's polarity from such a corpus in seconds). The labeled
  train split uses head adjectives only; the ``shifted`` split uses tail adjectives only, so a
  model that never read the corpus has to guess their polarity.
* **Homographs and world knowledge.** 15 noun/verb homographs ("cook", "book", "train", ...) occur
  in neutral narrative sentences in both uses; a fixed cast of 40 people has a city, a profession
  and a liked food or animal, stated and restated in varied frames ("mary lives in paris",
  "paris is where mary lives", "mary , who lives in paris , works as a cook", question/answer
  pairs). These feed the tagging and span (QA) tasks, whose ``shifted`` splits use frames or
  homograph/frame combinations that the labeled train split never shows, but the corpus does.

Everything is deterministic given the seed: only ``random.Random`` instances are used, no set or
hash order is ever iterated, so the same seed gives bit-identical corpora, lexicons and splits in
any process. Tokens are lowercase strings; punctuation ("," "." "?") and the clitic "n't" are
separate tokens.

Public API: ``WORLD_SEED``, ``build_lexicon``, ``generate_corpus``, ``make_task``,
``ground_truth``, ``TASK_NAMES``, ``TAGS``, ``SENTIMENT_LABELS``, ``PHENOMENA``,
``sentiment_value`` (the compositional semantics used to label sentences).
"""
from __future__ import annotations

import bisect
import functools
import random
from dataclasses import dataclass

from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Corpus, Example, Task

WORLD_SEED = 0
TASK_NAMES = ("micro-sentiment", "micro-tagging", "micro-qa")
SENTIMENT_LABELS = ["negative", "positive"]
TAGS = ("DET", "NOUN", "PROPN", "VERB", "AUX", "ADJ", "ADV", "NEG", "PRON", "ADP", "CONJ", "PART",
        "NUM", "PUNCT")
# Phenomenon names: a single one, or several joined by "+" in this order.
PHENOMENA = ("plain", "negation", "contrast", "intensity", "negation+contrast",
             "negation+intensity", "contrast+intensity", "negation+contrast+intensity")
TOPICS = ("restaurant", "film", "hotel", "trip")

SENTIMENT_SIZES = {"train": 3000, "dev": 500, "test": 1000, "shifted": 1000}
TAGGING_SIZES = {"train": 2000, "dev": 300, "test": 600, "shifted": 600}
QA_SIZES = {"train": 2000, "dev": 300, "test": 600, "shifted": 600}

# ----------------------------------------------------------------------------------------------
# Word lists (fixed); the seed decides frequency order, world facts and held-out combinations.
# ----------------------------------------------------------------------------------------------
_POSITIVE = (
    ("good", 1.0), ("great", 1.5), ("nice", 1.0), ("excellent", 2.0), ("wonderful", 2.0),
    ("lovely", 1.5), ("friendly", 1.0), ("delicious", 1.5), ("pleasant", 0.5), ("amazing", 2.0),
    ("perfect", 2.0), ("fantastic", 2.0), ("fresh", 1.0), ("tasty", 1.0), ("cozy", 1.0),
    ("clean", 0.5), ("helpful", 1.0), ("charming", 1.5), ("brilliant", 2.0), ("decent", 0.5),
    ("delightful", 1.5), ("elegant", 1.5), ("generous", 1.0), ("gorgeous", 2.0),
    ("impressive", 1.5), ("marvelous", 2.0), ("outstanding", 2.0), ("splendid", 2.0),
    ("stunning", 2.0), ("terrific", 2.0), ("warm", 0.5), ("welcoming", 1.0), ("attentive", 1.0),
    ("flawless", 2.0), ("gracious", 1.0), ("heavenly", 2.0), ("memorable", 1.5),
    ("refreshing", 1.0), ("sublime", 2.0), ("exquisite", 2.0),
)
_NEGATIVE = (
    ("bad", -1.0), ("terrible", -2.0), ("awful", -2.0), ("poor", -1.0), ("rude", -1.5),
    ("boring", -1.0), ("dirty", -1.5), ("horrible", -2.0), ("disappointing", -1.0),
    ("bland", -0.5), ("cold", -0.5), ("noisy", -0.5), ("slow", -0.5), ("mediocre", -0.5),
    ("dreadful", -2.0), ("nasty", -1.5), ("stale", -1.0), ("greasy", -1.0), ("unpleasant", -1.0),
    ("shabby", -1.0), ("filthy", -2.0), ("lousy", -1.5), ("miserable", -1.5), ("dull", -0.5),
    ("awkward", -0.5), ("sloppy", -1.0), ("careless", -1.0), ("gloomy", -0.5),
    ("tasteless", -1.0), ("cramped", -0.5), ("chaotic", -1.0), ("overpriced", -0.5),
    ("smelly", -1.5), ("soggy", -1.0), ("tedious", -1.0), ("unfriendly", -1.0), ("grim", -1.0),
    ("dismal", -1.5), ("atrocious", -2.0), ("abysmal", -2.0),
)
_N_HEAD_PER_POLARITY = 10      # 20 head adjectives, 60 tail adjectives
_N_FIXED_HEAD = 4              # the first 4 of each list stay the most frequent for every seed
_ADJ_ZIPF_S = 1.5

_STRONG_INTENS = (("very", 1.5), ("really", 1.5), ("extremely", 2.0), ("incredibly", 2.0),
                  ("truly", 1.5))
_WEAK_INTENS = (("slightly", 0.5), ("somewhat", 0.5), ("mildly", 0.5))
_NEGATORS = ("not", "never", "n't")

_FEMALE = ("mary", "anna", "lisa", "sara", "emma", "laura", "nina", "julia", "rosa", "ella",
           "maya", "lucy", "kate", "ines", "zoe", "lena", "vera", "alma", "rita", "eva")
_MALE = ("tom", "john", "paul", "mark", "peter", "james", "david", "mike", "oscar", "hugo", "leo",
         "sam", "ben", "omar", "ivan", "karl", "noah", "felix", "igor", "tim")
_PLACES = (("paris",), ("rome",), ("london",), ("berlin",), ("madrid",), ("lisbon",),
           ("vienna",), ("prague",), ("oslo",), ("dublin",), ("tokyo",), ("cairo",), ("lima",),
           ("boston",), ("chicago",), ("sydney",), ("toronto",), ("athens",), ("warsaw",),
           ("milan",), ("new", "york"), ("hong", "kong"), ("cape", "town"), ("san", "diego"))
_PROFESSIONS = ("cook", "teacher", "doctor", "nurse", "farmer", "pilot", "baker", "lawyer",
                "driver", "singer", "writer", "waiter", "dentist", "engineer", "artist",
                "gardener", "barber", "tailor", "judge", "chef", "clerk", "sailor", "poet",
                "architect")
_FOODS = ("soup", "pasta", "pizza", "bread", "cheese", "rice", "salad", "cake", "fish", "chicken",
          "apples", "noodles", "curry", "tea", "coffee", "chocolate", "honey", "beans", "eggs",
          "pie", "sushi", "olives", "mangoes", "lemons")
_ANIMALS = ("cats", "dogs", "horses", "birds", "rabbits", "owls", "foxes", "goats", "ducks",
            "bees", "wolves", "bears")
_OBJECTS = ("table", "chair", "lamp", "door", "window", "bag", "key", "cup", "box", "bottle",
            "phone", "map", "ticket", "letter", "clock", "bike", "car", "boat", "garden",
            "kitchen")
_ADJ_NEUTRAL = ("big", "small", "old", "red", "green", "long", "quiet", "busy", "empty", "full",
                "young", "tall", "blue", "round", "wooden")
# homograph base -> (noun singular, noun plural, verb base, verb 3rd person singular)
_HOMOGRAPHS = (
    ("cook", "cooks", "cook", "cooks"), ("fish", "fish", "fish", "fishes"),
    ("plant", "plants", "plant", "plants"), ("watch", "watches", "watch", "watches"),
    ("visit", "visits", "visit", "visits"), ("run", "runs", "run", "runs"),
    ("train", "trains", "train", "trains"), ("book", "books", "book", "books"),
    ("play", "plays", "play", "plays"), ("park", "parks", "park", "parks"),
    ("drink", "drinks", "drink", "drinks"), ("walk", "walks", "walk", "walks"),
    ("paint", "paints", "paint", "paints"), ("dance", "dances", "dance", "dances"),
    ("light", "lights", "light", "lights"),
)
_ASPECTS = {
    "restaurant": (("food", 0), ("service", 0), ("soup", 0), ("waiter", 0), ("staff", 0),
                   ("dessert", 0), ("wine", 0), ("pasta", 0), ("bread", 0), ("menu", 0),
                   ("waiters", 1), ("prices", 1), ("portions", 1)),
    "film": (("plot", 0), ("acting", 0), ("ending", 0), ("music", 0), ("script", 0),
             ("story", 0), ("actors", 1), ("dialogue", 0), ("jokes", 1), ("effects", 1),
             ("director", 0)),
    "hotel": (("room", 0), ("bed", 0), ("staff", 0), ("view", 0), ("breakfast", 0), ("pool", 0),
              ("lobby", 0), ("bathroom", 0), ("beds", 1), ("rooms", 1), ("location", 0)),
    "trip": (("weather", 0), ("guide", 0), ("beach", 0), ("tour", 0), ("train", 0), ("bus", 0),
             ("museum", 0), ("hotel", 0), ("people", 1), ("streets", 1), ("trains", 1)),
}
_ACTIONS = ("like", "likes", "liked", "love", "loves", "live", "lives", "lived", "work", "works",
            "want", "wants", "saw", "see", "sees", "had", "has", "took", "went", "came", "left",
            "stayed", "gave", "give", "found", "find", "thought", "think", "seemed", "seem",
            "seems", "looked", "look", "looks", "said", "says", "watched", "booked", "walked",
            "asked", "ordered", "sent", "checked", "tried", "showed", "recommend", "return",
            "earns", "do", "sat", "fishes", "brought", "enjoyed", "met", "come")
_NOUNS = ("dinner", "night", "restaurant", "film", "hotel", "trip", "star", "stars", "refund",
          "house", "living", "profession", "job", "city", "home", "person", "week", "day",
          "evening", "time", "friends", "everyone", "waste")
# closed-class words with their tag
_FUNCTION = {
    "the": "DET", "a": "DET", "an": "DET", "every": "DET", "another": "DET", "which": "DET",
    "in": "ADP", "at": "ADP", "of": "ADP", "on": "ADP", "near": "ADP", "by": "ADP",
    "for": "ADP", "with": "ADP", "about": "ADP", "as": "ADP", "to": "ADP",
    "and": "CONJ", "but": "CONJ", "so": "CONJ",
    "i": "PRON", "we": "PRON", "they": "PRON", "he": "PRON", "she": "PRON", "it": "PRON",
    "us": "PRON", "who": "PRON", "that": "PRON", "what": "PRON", "there": "PRON",
    "here": "ADV", "today": "ADV", "tomorrow": "ADV", "twice": "ADV", "early": "ADV",
    "back": "ADV", "longer": "ADV", "soon": "ADV", "together": "ADV", "most": "ADV",
    "where": "ADV", "out": "ADV", "more": "ADV", "again": "ADV", "all": "ADV", "last": "ADJ",
    "is": "AUX", "are": "AUX", "was": "AUX", "were": "AUX", "did": "AUX", "does": "AUX",
    "will": "AUX", "would": "AUX",
}
_NUMBERS = ("one", "two", "three", "four", "five")
_PUNCT = (",", ".", "?")
_OTHER_ADJ = ("fond",)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class _Zipf:
    """Weighted sampler: items[0] most likely, weight 1/(rank+1)^s (or explicit weights)."""

    __slots__ = ("items", "cum", "total", "n")

    def __init__(self, items, s: float = 1.0, weights=None):
        self.items = tuple(items)
        if weights is None:
            weights = [1.0 / (r + 1) ** s for r in range(len(self.items))]
        cum, t = [], 0.0
        for w in weights:
            t += w
            cum.append(t)
        self.cum, self.total, self.n = cum, t, len(self.items)

    def __call__(self, rng: random.Random):
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[i if i < self.n else self.n - 1]


# ----------------------------------------------------------------------------------------------
# Lexicon
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lexicon:
    """The vocabulary of the micro-world and its hidden facts (treat as read-only: it is cached)."""

    seed: int
    word_class: dict            # word -> class name ("food", "adj_eval", "noun|verb", ...)
    polarity: dict              # evaluative adjective -> graded polarity in {+-0.5, +-1, +-1.5, +-2}
    homographs: dict            # word -> tags it can take, e.g. ("NOUN", "VERB")
    frequency_rank: dict        # evaluative adjective -> 1-based corpus frequency rank
    head_adjectives: tuple      # frequent evaluative adjectives (labeled train uses only these)
    tail_adjectives: tuple      # rare evaluative adjectives (the shifted split uses only these)
    never_negated: tuple        # tail adjectives that the corpus never negates
    positive_order: tuple       # positive adjectives, most frequent first
    negative_order: tuple       # negative adjectives, most frequent first
    intensifiers: dict          # intensifier -> multiplier (>1 strong, <1 downtoner)
    negators: tuple
    names: tuple                # the cast (40 people)
    places: tuple               # cities as token tuples ("new", "york")
    professions: tuple
    foods: tuple
    animals: tuple
    objects: tuple
    neutral_adjectives: tuple
    homograph_forms: dict       # base -> {"noun", "plural", "verb", "verb3"}
    gender: dict                # name -> "f" | "m"
    facts: dict                 # name -> {"city": tuple, "job": tuple, "likes": tuple}
    function_tags: dict         # closed-class word -> tag


@functools.lru_cache(maxsize=8)
def build_lexicon(seed: int = WORLD_SEED) -> Lexicon:
    rng = random.Random(seed * 1_000_003 + 17)

    def order(pairs):
        fixed = [w for w, _ in pairs[:_N_FIXED_HEAD]]
        rest = [w for w, _ in pairs[_N_FIXED_HEAD:]]
        rng.shuffle(rest)
        return tuple(fixed + rest)

    pos_order, neg_order = order(_POSITIVE), order(_NEGATIVE)
    polarity = {w: p for w, p in _POSITIVE + _NEGATIVE}
    head = pos_order[:_N_HEAD_PER_POLARITY] + neg_order[:_N_HEAD_PER_POLARITY]
    tail = pos_order[_N_HEAD_PER_POLARITY:] + neg_order[_N_HEAD_PER_POLARITY:]
    n_tail = len(pos_order) - _N_HEAD_PER_POLARITY
    never = tuple(sorted(rng.sample(pos_order[_N_HEAD_PER_POLARITY:], n_tail // 3))
                  + sorted(rng.sample(neg_order[_N_HEAD_PER_POLARITY:], n_tail // 3)))
    rank = {}
    for i in range(len(pos_order)):
        rank[pos_order[i]] = 2 * i + 1
        rank[neg_order[i]] = 2 * i + 2

    names = _FEMALE + _MALE
    gender = {n: ("f" if n in _FEMALE else "m") for n in names}
    liked = _FOODS + _ANIMALS
    facts = {}
    for n in names:
        facts[n] = {"city": rng.choice(_PLACES), "job": (rng.choice(_PROFESSIONS),),
                    "likes": (rng.choice(liked),)}

    wc: dict[str, str] = {}

    def reg(words, cls):
        for w in words:
            wc.setdefault(w, cls)

    homographs = {}
    forms = {}
    for noun, plural, verb, verb3 in _HOMOGRAPHS:
        forms[noun] = {"noun": noun, "plural": plural, "verb": verb, "verb3": verb3}
        for w in (noun, plural):
            wc[w] = "noun|verb"
            homographs[w] = ("NOUN", "VERB")
        wc.setdefault(verb3, "action")
    reg(names, "person")
    for p in _PLACES:
        reg(p, "place")
    reg(_PROFESSIONS, "profession")
    reg(_FOODS, "food")
    reg(_ANIMALS, "animal")
    reg(pos_order + neg_order, "adj_eval")
    reg([w for w, _ in _STRONG_INTENS + _WEAK_INTENS], "intensifier")
    reg(_NEGATORS, "negator")
    reg(_OBJECTS, "object")
    for t in TOPICS:
        reg([a for a, _ in _ASPECTS[t]], "aspect")
    reg(_ADJ_NEUTRAL + _OTHER_ADJ, "adj_neutral")
    reg(_ACTIONS, "action")
    reg(_NOUNS, "noun")
    reg(_FUNCTION, "function")
    reg(_NUMBERS, "number")
    reg(_PUNCT, "punct")

    return Lexicon(
        seed=seed, word_class=wc, polarity=polarity, homographs=homographs, frequency_rank=rank,
        head_adjectives=head, tail_adjectives=tail, never_negated=never,
        positive_order=pos_order, negative_order=neg_order,
        intensifiers=dict(_STRONG_INTENS + _WEAK_INTENS), negators=_NEGATORS,
        names=names, places=_PLACES, professions=_PROFESSIONS, foods=_FOODS, animals=_ANIMALS,
        objects=_OBJECTS, neutral_adjectives=_ADJ_NEUTRAL, homograph_forms=forms, gender=gender,
        facts=facts, function_tags=dict(_FUNCTION),
    )


def ground_truth(seed: int = WORLD_SEED) -> dict[str, dict]:
    """word -> {"class": class name, "polarity": float for evaluative adjectives else None}."""
    lex = build_lexicon(seed)
    return {w: {"class": c, "polarity": lex.polarity.get(w)} for w, c in lex.word_class.items()}


# ----------------------------------------------------------------------------------------------
# Evaluative sentences: one clause builder shared by the corpus and the sentiment task
# ----------------------------------------------------------------------------------------------
TASK_FRAMES = ("cop", "seem", "find", "think")     # frames the labeled in-distribution splits use
SHIFTED_FRAMES = ("look", "say")                  # only in the corpus and the shifted split
_CORPUS_FRAMES = _Zipf(("cop", "seem", "find", "think", "look", "say"),
                       weights=(0.4, 0.15, 0.15, 0.1, 0.1, 0.1))
_VERB_FORMS = {  # frame verb: (past, present 3sg, present plural/1st)
    "seem": ("seemed", "seems", "seem"), "look": ("looked", "looks", "look"),
    "find": ("found", "finds", "find"), "think": ("thought", "thinks", "think"),
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


class _World:
    """Per-seed samplers shared by the corpus and the task generators."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        s = _ADJ_ZIPF_S
        never = set(lex.never_negated)
        self.adj = {1: _Zipf(lex.positive_order, s), -1: _Zipf(lex.negative_order, s)}
        self.adj_neg = {}
        for sign, order in ((1, lex.positive_order), (-1, lex.negative_order)):
            items = [w for w in order if w not in never]
            weights = [1.0 / (order.index(w) + 1) ** s for w in items]
            self.adj_neg[sign] = _Zipf(items, weights=weights)
        self.aspects = {t: _Zipf(_ASPECTS[t], 0.8) for t in TOPICS}
        self.strong = _Zipf([w for w, _ in _STRONG_INTENS], 1.0)
        self.weak = _Zipf([w for w, _ in _WEAK_INTENS], 1.0)
        self.names = _Zipf(lex.names, 0.5)
        self.places = _Zipf(lex.places, 0.7)
        self.objects = _Zipf(lex.objects, 0.8)
        self.neutral = _Zipf(lex.neutral_adjectives, 0.8)
        self.profs = _Zipf(lex.professions, 0.7)
        self.homs = _Zipf(tuple(lex.homograph_forms), 0.5)


def _pick_aspect(rng, W: _World, topic, avoid=None):
    for _ in range(10):
        a = W.aspects[topic](rng)
        if a[0] != avoid:
            return a
    return a


def _negator(rng) -> str:
    r = rng.random()
    return "not" if r < 0.6 else ("n't" if r < 0.85 else "never")


def _eval_sentence(rng, W: _World, topic: str, past: bool, target: int, phen: str, frames,
                   pick_adj):
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
        asp, plural = _pick_aspect(rng, W, topic, avoid)
        toks = _clause(frames[int(rng.random() * nframes)], ["the", asp], bool(plural), past,
                       adj, intens, neg, at_all)
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
        asp1, pl1 = _pick_aspect(rng, W, topic)
        asp2, pl2 = _pick_aspect(rng, W, topic, asp1)
        cw = _clause(frames[int(rng.random() * nframes)], ["the", asp1], bool(pl1), past,
                     a_weak, weak_i, None, False)
        cs = _clause(frames[int(rng.random() * nframes)], ["the", asp2], bool(pl2), past,
                     a_strong, strong_i, None, False)
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
HELD_OUT_FRAMES = ("n_rel", "v_rel")   # never in labeled train/dev/test of micro-tagging
_ALL_TAG_FRAMES = NOUN_FRAMES + VERB_FRAMES + HELD_OUT_FRAMES + ("nvn",)


def _tagged(rng, W: _World, frame: str, h: str, name=None, past=None):
    """Return (tokens, tags) for a narrative frame around homograph h."""
    lex = W.lex
    f = lex.homograph_forms[h]
    nm = name or W.names(rng)
    if past is None:
        past = rng.random() < 0.5
    if frame == "n_subj":
        cop = "was" if past else "is"
        return (["the", f["noun"], cop, W.neutral(rng), "."],
                ["DET", "NOUN", "AUX", "ADJ", "PUNCT"])
    if frame == "n_obj":
        city = W.places(rng)
        return ([nm, "saw", "the", f["noun"], "in", *city, "."],
                ["PROPN", "VERB", "DET", "NOUN", "ADP"] + ["PROPN"] * len(city) + ["PUNCT"])
    if frame == "n_there":
        cop = "was" if past else "is"
        return (["there", cop, _article(f["noun"]), f["noun"], "near", "the", W.objects(rng), "."],
                ["PRON", "AUX", "DET", "NOUN", "ADP", "DET", "NOUN", "PUNCT"])
    if frame == "n_pl":
        cop = "were" if past else "are"
        return (["the", f["plural"], cop, W.neutral(rng), "."],
                ["DET", "NOUN", "AUX", "ADJ", "PUNCT"])
    if frame == "n_adj":
        return ([nm, "likes", "the", W.neutral(rng), f["noun"], "."],
                ["PROPN", "VERB", "DET", "ADJ", "NOUN", "PUNCT"])
    if frame == "n_rel":
        cop = "was" if past else "is"
        return (["the", f["noun"], "that", nm, "liked", cop, W.neutral(rng), "."],
                ["DET", "NOUN", "PRON", "PROPN", "VERB", "AUX", "ADJ", "PUNCT"])
    if frame == "v_pl":
        return (["they", f["verb"], "the", W.objects(rng), "every", "day", "."],
                ["PRON", "VERB", "DET", "NOUN", "DET", "NOUN", "PUNCT"])
    if frame == "v_3":
        city = W.places(rng)
        return ([nm, f["verb3"], "in", *city, "."],
                ["PROPN", "VERB", "ADP"] + ["PROPN"] * len(city) + ["PUNCT"])
    if frame == "v_inf":
        subj = "we" if rng.random() < 0.5 else "they"
        return ([subj, "want", "to", f["verb"], "."], ["PRON", "VERB", "PART", "VERB", "PUNCT"])
    if frame == "v_will":
        subj = "i" if rng.random() < 0.5 else "we"
        return ([subj, "will", f["verb"], "tomorrow", "."], ["PRON", "AUX", "VERB", "ADV", "PUNCT"])
    if frame == "v_neg":
        return ([nm, "did", "not", f["verb"], "today", "."],
                ["PROPN", "AUX", "NEG", "VERB", "ADV", "PUNCT"])
    if frame == "v_rel":
        cop = "was" if past else "is"
        return (["the", W.profs(rng), "who", f["verb3"], "here", cop, W.neutral(rng), "."],
                ["DET", "NOUN", "PRON", "VERB", "ADV", "AUX", "ADJ", "PUNCT"])
    if frame == "nvn":
        f2 = lex.homograph_forms[W.homs(rng)]
        f3 = lex.homograph_forms[W.homs(rng)]
        return (["the", f["noun"], f2["verb3"], "the", f3["noun"], "."],
                ["DET", "NOUN", "VERB", "DET", "NOUN", "PUNCT"])
    raise ValueError(frame)


# ----------------------------------------------------------------------------------------------
# World-knowledge sentences (facts about the cast); used by corpus and QA
# ----------------------------------------------------------------------------------------------
FACT_FRAMES = {"city": ("L_in", "L_where", "L_house"), "job": ("J_is", "J_as"),
               "likes": ("K_likes", "K_most")}
SHIFTED_FACT_FRAMES = {"city": ("L_home", "L_of"), "job": ("J_prof", "J_living"),
                       "likes": ("K_fond", "K_what")}
QUESTION_TYPES = ("city", "job", "likes", "who")


def _pred(attr, val):
    """Predicate phrase stating a fact, and the answer's offset inside it."""
    if attr == "city":
        return ["lives", "in", *val], 2
    if attr == "job":
        return ["works", "as", _article(val[0]), *val], 3
    return ["likes", *val], 1


def _fact_sentence(lex: Lexicon, name: str, attr: str, frame: str, attr2=None):
    """(tokens, {attr: (start, end)}, name index) for one fact sentence.

    frame "R" is the relative clause: "NAME , who PRED(attr) , PRED(attr2) ."."""
    val = lex.facts[name][attr]
    n = len(val)
    if frame == "R":
        p1, o1 = _pred(attr, val)
        val2 = lex.facts[name][attr2]
        p2, o2 = _pred(attr2, val2)
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
        return [name, "is", _article(val[0]), *val, "."], {attr: (3, 2 + n)}, 0
    if frame == "J_as":
        return [name, "works", "as", _article(val[0]), *val, "."], {attr: (4, 3 + n)}, 0
    if frame == "J_prof":
        return (["by", "profession", ",", name, "is", _article(val[0]), *val, "."],
                {attr: (6, 5 + n)}, 3)
    if frame == "J_living":
        return ([name, "earns", "a", "living", "as", _article(val[0]), *val, "."],
                {attr: (6, 5 + n)}, 0)
    if frame == "K_likes":
        return [name, "likes", *val, "."], {attr: (2, 1 + n)}, 0
    if frame == "K_most":
        return ["what", name, "likes", "most", "is", *val, "."], {attr: (5, 4 + n)}, 1
    if frame == "K_fond":
        return [name, "is", "fond", "of", *val, "."], {attr: (4, 3 + n)}, 0
    if frame == "K_what":
        return [*val, "is", "what", name, "likes", "."], {attr: (0, n - 1)}, n + 2
    raise ValueError(frame)


def _question(lex: Lexicon, name: str, qtype: str, shifted: bool):
    if qtype == "who":
        city = lex.facts[name]["city"]
        return (["which", "person", "lives", "in", *city, "?"] if shifted
                else ["who", "lives", "in", *city, "?"])
    if qtype == "city":
        return (["in", "which", "city", "does", name, "live", "?"] if shifted
                else ["where", "does", name, "live", "?"])
    if qtype == "job":
        return (["what", "is", "the", "job", "of", name, "?"] if shifted
                else ["what", "does", name, "do", "?"])
    return (["what", "is", name, "fond", "of", "?"] if shifted
            else ["what", "does", name, "like", "?"])


# ----------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------
_CONSEQ = {
    1: (("so", "we", "came", "back"), ("so", "we", "stayed", "longer"),
        ("so", "we", "will", "return"), ("so", "i", "recommend", "it")),
    -1: (("so", "we", "left", "early"), ("so", "we", "will", "never", "return"),
         ("so", "we", "asked", "for", "a", "refund"), ("so", "i", "do", "not", "recommend", "it")),
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
_CLOSING = {1: (("we", "will", "come", "back", "soon", "."), ("i", "recommend", "it", "to",
                                                                 "everyone", "."),
                ("we", "will", "return", "again", "."), ("we", "enjoyed", "every", "day", ".")),
            -1: (("we", "will", "never", "return", "."), ("i", "do", "not", "recommend", "it", "."),
                 ("what", "a", "waste", "of", "time", "."), ("we", "left", "early", "."))}
_CORPUS_PHEN = _Zipf(("list", "plain", "negation", "contrast", "intensity", "negation+contrast",
                      "negation+intensity", "contrast+intensity", "negation+contrast+intensity"),
                     weights=(0.2, 0.22, 0.15, 0.14, 0.14, 0.05, 0.04, 0.04, 0.02))


def _opener(rng, W: _World, topic: str):
    lex = W.lex
    r = rng.random()
    if r < 0.35:
        nm = W.names(rng)
        city = lex.facts[nm]["city"]   # consistent with the world facts
        if topic == "restaurant":
            return [nm, "took", "us", "to", "a", "restaurant", "in", *city, "."]
        if topic == "film":
            return ["we", "saw", "a", "film", "in", *city, "with", nm, "."]
        if topic == "hotel":
            return [nm, "booked", "us", "a", "room", "at", "a", "hotel", "in", *city, "."]
        return [nm, ",", "who", "lives", "in", *city, ",", "showed", "us", "the", "city", "."]
    city = W.places(rng)
    if topic == "restaurant":
        return (["we", "had", "dinner", "at", "a", "restaurant", "in", *city, "."] if r < 0.7
                else ["we", "went", "to", "a", "small", "restaurant", "near", "the", "park", "."])
    if topic == "film":
        if r < 0.7:
            prof = W.profs(rng)
            return ["we", "went", "to", "watch", "a", "film", "about", _article(prof), prof, "."]
        return ["last", "night", "we", "watched", "a", "film", "."]
    if topic == "hotel":
        return (["we", "stayed", "at", "a", "hotel", "in", *city, "."] if r < 0.7
                else ["we", "book", "a", "room", "in", *city, "every", "week", "."])
    return (["we", "took", "the", "train", "to", *city, "."] if r < 0.7
            else ["we", "went", "on", "a", "trip", "to", *city, "."])


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


def _review(rng, W: _World, out: list):
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
                asp, plural = _pick_aspect(rng, W, topic)
                cop = ("were" if plural else "was") if past else ("are" if plural else "is")
                if k == 2:
                    toks = ["the", asp, cop, adjs[0], "and", adjs[1]]
                else:
                    toks = ["the", asp, cop, adjs[0], ",", adjs[1], "and", adjs[2]]
            else:
                toks = ["it", "was" if past else "is", _article(adjs[0]), adjs[0], "and",
                        adjs[1], topic]
            out += toks
        else:
            toks, _, _ = _eval_sentence(rng, W, topic, past, opinion, phen,
                                        _FRAME_TUPLE[_CORPUS_FRAMES(rng)], pick)
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
            toks, _ = _tagged(rng, W, _ALL_TAG_FRAMES[int(rng.random() * len(_ALL_TAG_FRAMES))], h)
            out += toks
    if not rating_first:
        out += _rating(rng, opinion)
    if rng.random() < 0.5:
        c = _CLOSING[opinion]
        out += c[int(rng.random() * len(c))]


# frames for a corpus evaluative sentence: the drawn frame dominates, others mix in
_FRAME_TUPLE = {f: (f,) * 3 + ("cop",) for f in ("cop", "seem", "find", "think", "look", "say")}
_FACT_ATTRS = ("city", "job", "likes")
_ALL_FACT_FRAMES = {a: FACT_FRAMES[a] + SHIFTED_FACT_FRAMES[a] for a in _FACT_ATTRS}


def _knowledge(rng, W: _World, out: list):
    lex = W.lex
    nm = W.names(rng)
    for _ in range(3 + int(rng.random() * 4)):
        r = rng.random()
        attr = _FACT_ATTRS[int(rng.random() * 3)]
        if r < 0.2:
            attr2 = _FACT_ATTRS[int(rng.random() * 3)]
            if attr2 == attr:
                attr2 = _FACT_ATTRS[(_FACT_ATTRS.index(attr) + 1) % 3]
            toks, _, _ = _fact_sentence(lex, nm, attr, "R", attr2)
        elif r < 0.3:
            qt = QUESTION_TYPES[int(rng.random() * 4)]
            out += _question(lex, nm, qt, rng.random() < 0.5)
            fr = _ALL_FACT_FRAMES["city" if qt == "who" else qt]
            toks, _, _ = _fact_sentence(lex, nm, "city" if qt == "who" else qt,
                                        fr[int(rng.random() * len(fr))])
        elif r < 0.45:
            h = W.homs(rng)
            frame = ("n_obj", "n_adj", "v_3", "v_neg", "n_rel")[int(rng.random() * 5)]
            toks, _ = _tagged(rng, W, frame, h, name=nm)
        elif r < 0.52:
            toks = ["she" if lex.gender[nm] == "f" else "he", *_pred(attr, lex.facts[nm][attr])[0],
                    "."]
        else:
            fr = _ALL_FACT_FRAMES[attr]
            toks, _, _ = _fact_sentence(lex, nm, attr, fr[int(rng.random() * len(fr))])
        out += toks


def _narrative(rng, W: _World, out: list):
    for _ in range(3 + int(rng.random() * 6)):
        h = W.homs(rng)
        toks, _ = _tagged(rng, W, _ALL_TAG_FRAMES[int(rng.random() * len(_ALL_TAG_FRAMES))], h)
        out += toks


def _documents(rng: random.Random, W: _World, n_tokens: int) -> list:
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
    W = _World(build_lexicon(seed))
    docs = _documents(random.Random(seed * 1_000_003 + 101), W, n_tokens)
    valid = _documents(random.Random(seed * 1_000_003 + 202), W, max(1, n_tokens // 50))
    return Corpus(
        name="microworld",
        documents=docs,
        valid=valid,
        description=(f"Embedded micro-world corpus (seed {seed}): reviews with a latent opinion "
                     "and topic (~70% of documents), world-knowledge and narrative documents."),
    )


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------
_TASK_PHEN = _Zipf(PHENOMENA, weights=(0.25, 0.2, 0.2, 0.15, 0.07, 0.05, 0.05, 0.03))


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
    W = _World(lex)
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
        toks, value, phen = _eval_sentence(rng, W, topic, rng.random() < 0.8, target, phen,
                                           frames, pick)
        toks = tuple(toks) + (".",)
        assert value * target > 0
        label = SENTIMENT_LABELS[1] if value > 0 else SENTIMENT_LABELS[0]
        return Example(tokens=toks, label=label, phenomenon=phen), toks

    splits = _fill(SENTIMENT_SIZES, make_one, rng)
    return Task(
        name="micro-sentiment", kind=CLASSIFICATION, splits=splits, labels=list(SENTIMENT_LABELS),
        description=("Sentence polarity in the micro-world; labels are composed from graded "
                     "adjective polarity with negation, contrast ('but': the second clause "
                     "decides) and intensity ('and': the stronger clause wins)."),
        split_notes=("train: head adjectives only, frames " + "/".join(TASK_FRAMES) +
                     "; dev/test: head and tail adjectives, same frames; shifted: tail adjectives "
                     "only, half of it in frames " + "/".join(SHIFTED_FRAMES) +
                     " that no other split uses."),
    )


def _tagging_task(seed: int) -> Task:
    lex = build_lexicon(seed)
    W = _World(lex)
    rng = random.Random(seed * 1_000_003 + 404)
    homs = tuple(lex.homograph_forms)
    held = set()
    for h in homs:
        held.add((h, NOUN_FRAMES[int(rng.random() * len(NOUN_FRAMES))]))
        held.add((h, VERB_FRAMES[int(rng.random() * len(VERB_FRAMES))]))
    inframes = NOUN_FRAMES + VERB_FRAMES
    nv = len(inframes)

    def make_one(split, i):
        if split == "shifted":
            if rng.random() < 0.4:
                frame = HELD_OUT_FRAMES[int(rng.random() * 2)]
                h = homs[int(rng.random() * len(homs))]
            else:
                h = homs[int(rng.random() * len(homs))]
                frame = NOUN_FRAMES[int(rng.random() * len(NOUN_FRAMES))] if i % 2 else \
                    VERB_FRAMES[int(rng.random() * len(VERB_FRAMES))]
                if (h, frame) not in held:
                    return None, None
            toks, tags = _tagged(rng, W, frame, h)
            phen = "held-out-frame" if frame in HELD_OUT_FRAMES else "held-out-combination"
        else:
            h = homs[int(rng.random() * len(homs))]
            if rng.random() < 0.12:
                frame = "nvn"
                toks, tags = _tagged(rng, W, frame, h)
            else:
                # alternate noun and verb uses so every homograph shows both tags
                frames = NOUN_FRAMES if i % 2 == 0 else VERB_FRAMES
                frame = frames[int(rng.random() * len(frames))]
                if (h, frame) in held:
                    return None, None
                toks, tags = _tagged(rng, W, frame, h)
            phen = "noun" if frame in NOUN_FRAMES else ("verb" if frame in VERB_FRAMES else
                                                        "noun+verb")
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
        name="micro-tagging", kind=TAGGING, splits=splits, labels=list(TAGS),
        description=("Part-of-speech tagging of micro-world sentences built around noun/verb "
                     "homographs (" + ", ".join(homs) + "): the same word is NOUN in one frame "
                     "and VERB in another."),
        split_notes=("train/dev/test: frames " + "/".join(inframes) + " and 'nvn', minus one noun "
                     "and one verb frame per homograph; shifted: those held-out homograph/frame "
                     "combinations (" + ", ".join(f"{h}:{f}" for h, f in held_sorted) +
                     ") and the frames " + "/".join(HELD_OUT_FRAMES) + " that no other split "
                     "uses. Example.phenomenon: noun / verb / noun+verb / held-out-frame / "
                     "held-out-combination."),
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
            tgt = _fact_sentence(lex, e, attr, frame)
        elif rng.random() < 0.2:
            other = [a for a in _FACT_ATTRS if a != attr]
            a2 = other[int(rng.random() * 2)]
            tgt = (_fact_sentence(lex, e, attr, "R", a2) if rng.random() < 0.5
                   else _fact_sentence(lex, e, a2, "R", attr))
        else:
            fr = FACT_FRAMES[attr]
            tgt = _fact_sentence(lex, e, attr, fr[int(rng.random() * len(fr))])
        used = {(e, a) for a in tgt[1]}
        pool = [(n, a) for n in [e] + distract for a in _FACT_ATTRS if (n, a) not in used]
        k = 1 + int(rng.random() * 4)          # 2..5 sentences in all
        others = rng.sample(pool, min(k, len(pool)))
        sents = [(tgt, True)]
        for n, a in others:
            frames = FACT_FRAMES[a] + (SHIFTED_FACT_FRAMES[a] if split == "shifted" else ())
            sents.append((_fact_sentence(lex, n, a, frames[int(rng.random() * len(frames))]),
                          False))
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
        question = tuple(_question(lex, e, qtype, q_shift))
        phen = qtype + ("+shifted-question" if q_shift else "") + \
            ("+shifted-passage" if p_shift else "")
        ex = Example(tokens=tuple(tokens), question=question, span=span, phenomenon=phen)
        return ex, (ex.tokens, question)

    splits = _fill(QA_SIZES, make_one, rng)
    return Task(
        name="micro-qa", kind=SPAN, splits=splits, labels=[],
        description=("Extractive QA over short passages of facts about the micro-world's cast "
                     "(where someone lives, their job, what they like; 'who lives in X ?')."),
        split_notes=("train/dev/test: passage frames " +
                     "/".join(f for a in _FACT_ATTRS for f in FACT_FRAMES[a]) +
                     " and the relative clause R; questions 'where does X live ?', "
                     "'what does X do ?', 'what does X like ?', 'who lives in C ?'. shifted: "
                     "question frames 'in which city does X live ?', 'what is the job of X ?', "
                     "'what is X fond of ?', 'which person lives in C ?' and/or the answer "
                     "stated in frames " + "/".join(f for a in _FACT_ATTRS
                                                   for f in SHIFTED_FACT_FRAMES[a]) +
                     ". Example.phenomenon: question type (city/job/likes/who) plus "
                     "+shifted-question / +shifted-passage."),
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
