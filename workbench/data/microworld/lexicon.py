"""The micro-world's words and hidden facts: fixed word lists, and per seed their frequency
order, polarities, the cast's facts and held-out combinations (`build_lexicon`), plus the
samplers that every generator draws from (`World`)."""

from __future__ import annotations

import bisect
import functools
import random
from dataclasses import dataclass

WORLD_SEED = 0
TOPICS = ("restaurant", "film", "hotel", "trip")

# ----------------------------------------------------------------------------------------------
# Word lists (fixed); the seed decides frequency order, world facts and held-out combinations.
# ----------------------------------------------------------------------------------------------
_POSITIVE = (
    ("good", 1.0),
    ("great", 1.5),
    ("nice", 1.0),
    ("excellent", 2.0),
    ("wonderful", 2.0),
    ("lovely", 1.5),
    ("friendly", 1.0),
    ("delicious", 1.5),
    ("pleasant", 0.5),
    ("amazing", 2.0),
    ("perfect", 2.0),
    ("fantastic", 2.0),
    ("fresh", 1.0),
    ("tasty", 1.0),
    ("cozy", 1.0),
    ("clean", 0.5),
    ("helpful", 1.0),
    ("charming", 1.5),
    ("brilliant", 2.0),
    ("decent", 0.5),
    ("delightful", 1.5),
    ("elegant", 1.5),
    ("generous", 1.0),
    ("gorgeous", 2.0),
    ("impressive", 1.5),
    ("marvelous", 2.0),
    ("outstanding", 2.0),
    ("splendid", 2.0),
    ("stunning", 2.0),
    ("terrific", 2.0),
    ("warm", 0.5),
    ("welcoming", 1.0),
    ("attentive", 1.0),
    ("flawless", 2.0),
    ("gracious", 1.0),
    ("heavenly", 2.0),
    ("memorable", 1.5),
    ("refreshing", 1.0),
    ("sublime", 2.0),
    ("exquisite", 2.0),
)
_NEGATIVE = (
    ("bad", -1.0),
    ("terrible", -2.0),
    ("awful", -2.0),
    ("poor", -1.0),
    ("rude", -1.5),
    ("boring", -1.0),
    ("dirty", -1.5),
    ("horrible", -2.0),
    ("disappointing", -1.0),
    ("bland", -0.5),
    ("cold", -0.5),
    ("noisy", -0.5),
    ("slow", -0.5),
    ("mediocre", -0.5),
    ("dreadful", -2.0),
    ("nasty", -1.5),
    ("stale", -1.0),
    ("greasy", -1.0),
    ("unpleasant", -1.0),
    ("shabby", -1.0),
    ("filthy", -2.0),
    ("lousy", -1.5),
    ("miserable", -1.5),
    ("dull", -0.5),
    ("awkward", -0.5),
    ("sloppy", -1.0),
    ("careless", -1.0),
    ("gloomy", -0.5),
    ("tasteless", -1.0),
    ("cramped", -0.5),
    ("chaotic", -1.0),
    ("overpriced", -0.5),
    ("smelly", -1.5),
    ("soggy", -1.0),
    ("tedious", -1.0),
    ("unfriendly", -1.0),
    ("grim", -1.0),
    ("dismal", -1.5),
    ("atrocious", -2.0),
    ("abysmal", -2.0),
)
_N_HEAD_PER_POLARITY = 10  # 20 head adjectives, 60 tail adjectives
_N_FIXED_HEAD = 4  # the first 4 of each list stay the most frequent for every seed
_ADJ_ZIPF_S = 1.5

_STRONG_INTENS = (("very", 1.5), ("really", 1.5), ("extremely", 2.0), ("incredibly", 2.0), ("truly", 1.5))
_WEAK_INTENS = (("slightly", 0.5), ("somewhat", 0.5), ("mildly", 0.5))
_NEGATORS = ("not", "never", "n't")

_FEMALE = (
    "mary",
    "anna",
    "lisa",
    "sara",
    "emma",
    "laura",
    "nina",
    "julia",
    "rosa",
    "ella",
    "maya",
    "lucy",
    "kate",
    "ines",
    "zoe",
    "lena",
    "vera",
    "alma",
    "rita",
    "eva",
)
_MALE = (
    "tom",
    "john",
    "paul",
    "mark",
    "peter",
    "james",
    "david",
    "mike",
    "oscar",
    "hugo",
    "leo",
    "sam",
    "ben",
    "omar",
    "ivan",
    "karl",
    "noah",
    "felix",
    "igor",
    "tim",
)
_PLACES = (
    ("paris",),
    ("rome",),
    ("london",),
    ("berlin",),
    ("madrid",),
    ("lisbon",),
    ("vienna",),
    ("prague",),
    ("oslo",),
    ("dublin",),
    ("tokyo",),
    ("cairo",),
    ("lima",),
    ("boston",),
    ("chicago",),
    ("sydney",),
    ("toronto",),
    ("athens",),
    ("warsaw",),
    ("milan",),
    ("new", "york"),
    ("hong", "kong"),
    ("cape", "town"),
    ("san", "diego"),
)
_PROFESSIONS = (
    "cook",
    "teacher",
    "doctor",
    "nurse",
    "farmer",
    "pilot",
    "baker",
    "lawyer",
    "driver",
    "singer",
    "writer",
    "waiter",
    "dentist",
    "engineer",
    "artist",
    "gardener",
    "barber",
    "tailor",
    "judge",
    "chef",
    "clerk",
    "sailor",
    "poet",
    "architect",
)
_FOODS = (
    "soup",
    "pasta",
    "pizza",
    "bread",
    "cheese",
    "rice",
    "salad",
    "cake",
    "fish",
    "chicken",
    "apples",
    "noodles",
    "curry",
    "tea",
    "coffee",
    "chocolate",
    "honey",
    "beans",
    "eggs",
    "pie",
    "sushi",
    "olives",
    "mangoes",
    "lemons",
)
_ANIMALS = ("cats", "dogs", "horses", "birds", "rabbits", "owls", "foxes", "goats", "ducks", "bees", "wolves", "bears")
_OBJECTS = (
    "table",
    "chair",
    "lamp",
    "door",
    "window",
    "bag",
    "key",
    "cup",
    "box",
    "bottle",
    "phone",
    "map",
    "ticket",
    "letter",
    "clock",
    "bike",
    "car",
    "boat",
    "garden",
    "kitchen",
)
_ADJ_NEUTRAL = (
    "big",
    "small",
    "old",
    "red",
    "green",
    "long",
    "quiet",
    "busy",
    "empty",
    "full",
    "young",
    "tall",
    "blue",
    "round",
    "wooden",
)
# homograph base -> (noun singular, noun plural, verb base, verb 3rd person singular)
_HOMOGRAPHS = (
    ("cook", "cooks", "cook", "cooks"),
    ("fish", "fish", "fish", "fishes"),
    ("plant", "plants", "plant", "plants"),
    ("watch", "watches", "watch", "watches"),
    ("visit", "visits", "visit", "visits"),
    ("run", "runs", "run", "runs"),
    ("train", "trains", "train", "trains"),
    ("book", "books", "book", "books"),
    ("play", "plays", "play", "plays"),
    ("park", "parks", "park", "parks"),
    ("drink", "drinks", "drink", "drinks"),
    ("walk", "walks", "walk", "walks"),
    ("paint", "paints", "paint", "paints"),
    ("dance", "dances", "dance", "dances"),
    ("light", "lights", "light", "lights"),
)
_ASPECTS = {
    "restaurant": (
        ("food", 0),
        ("service", 0),
        ("soup", 0),
        ("waiter", 0),
        ("staff", 0),
        ("dessert", 0),
        ("wine", 0),
        ("pasta", 0),
        ("bread", 0),
        ("menu", 0),
        ("waiters", 1),
        ("prices", 1),
        ("portions", 1),
    ),
    "film": (
        ("plot", 0),
        ("acting", 0),
        ("ending", 0),
        ("music", 0),
        ("script", 0),
        ("story", 0),
        ("actors", 1),
        ("dialogue", 0),
        ("jokes", 1),
        ("effects", 1),
        ("director", 0),
    ),
    "hotel": (
        ("room", 0),
        ("bed", 0),
        ("staff", 0),
        ("view", 0),
        ("breakfast", 0),
        ("pool", 0),
        ("lobby", 0),
        ("bathroom", 0),
        ("beds", 1),
        ("rooms", 1),
        ("location", 0),
    ),
    "trip": (
        ("weather", 0),
        ("guide", 0),
        ("beach", 0),
        ("tour", 0),
        ("train", 0),
        ("bus", 0),
        ("museum", 0),
        ("hotel", 0),
        ("people", 1),
        ("streets", 1),
        ("trains", 1),
    ),
}
_ACTIONS = (
    "like",
    "likes",
    "liked",
    "love",
    "loves",
    "live",
    "lives",
    "lived",
    "work",
    "works",
    "want",
    "wants",
    "saw",
    "see",
    "sees",
    "had",
    "has",
    "took",
    "went",
    "came",
    "left",
    "stayed",
    "gave",
    "give",
    "found",
    "find",
    "thought",
    "think",
    "seemed",
    "seem",
    "seems",
    "looked",
    "look",
    "looks",
    "said",
    "says",
    "watched",
    "booked",
    "walked",
    "asked",
    "ordered",
    "sent",
    "checked",
    "tried",
    "showed",
    "recommend",
    "return",
    "earns",
    "do",
    "sat",
    "fishes",
    "brought",
    "enjoyed",
    "met",
    "come",
)
_NOUNS = (
    "dinner",
    "night",
    "restaurant",
    "film",
    "hotel",
    "trip",
    "star",
    "stars",
    "refund",
    "house",
    "living",
    "profession",
    "job",
    "city",
    "home",
    "person",
    "week",
    "day",
    "evening",
    "time",
    "friends",
    "everyone",
    "waste",
)
# closed-class words with their tag
_FUNCTION = {
    "the": "DET",
    "a": "DET",
    "an": "DET",
    "every": "DET",
    "another": "DET",
    "which": "DET",
    "in": "ADP",
    "at": "ADP",
    "of": "ADP",
    "on": "ADP",
    "near": "ADP",
    "by": "ADP",
    "for": "ADP",
    "with": "ADP",
    "about": "ADP",
    "as": "ADP",
    "to": "ADP",
    "and": "CONJ",
    "but": "CONJ",
    "so": "CONJ",
    "i": "PRON",
    "we": "PRON",
    "they": "PRON",
    "he": "PRON",
    "she": "PRON",
    "it": "PRON",
    "us": "PRON",
    "who": "PRON",
    "that": "PRON",
    "what": "PRON",
    "there": "PRON",
    "here": "ADV",
    "today": "ADV",
    "tomorrow": "ADV",
    "twice": "ADV",
    "early": "ADV",
    "back": "ADV",
    "longer": "ADV",
    "soon": "ADV",
    "together": "ADV",
    "most": "ADV",
    "where": "ADV",
    "out": "ADV",
    "more": "ADV",
    "again": "ADV",
    "all": "ADV",
    "last": "ADJ",
    "is": "AUX",
    "are": "AUX",
    "was": "AUX",
    "were": "AUX",
    "did": "AUX",
    "does": "AUX",
    "will": "AUX",
    "would": "AUX",
}
_NUMBERS = ("one", "two", "three", "four", "five")
_PUNCT = (",", ".", "?")
_OTHER_ADJ = ("fond",)


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class Zipf:
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
    word_class: dict  # word -> class name ("food", "adj_eval", "noun|verb", ...)
    polarity: dict  # evaluative adjective -> graded polarity in {+-0.5, +-1, +-1.5, +-2}
    homographs: dict  # word -> tags it can take, e.g. ("NOUN", "VERB")
    frequency_rank: dict  # evaluative adjective -> 1-based corpus frequency rank
    head_adjectives: tuple  # frequent evaluative adjectives (labeled train uses only these)
    tail_adjectives: tuple  # rare evaluative adjectives (the shifted split uses only these)
    never_negated: tuple  # tail adjectives that the corpus never negates
    positive_order: tuple  # positive adjectives, most frequent first
    negative_order: tuple  # negative adjectives, most frequent first
    intensifiers: dict  # intensifier -> multiplier (>1 strong, <1 downtoner)
    negators: tuple
    names: tuple  # the cast (40 people)
    places: tuple  # cities as token tuples ("new", "york")
    professions: tuple
    foods: tuple
    animals: tuple
    objects: tuple
    neutral_adjectives: tuple
    homograph_forms: dict  # base -> {"noun", "plural", "verb", "verb3"}
    gender: dict  # name -> "f" | "m"
    facts: dict  # name -> {"city": tuple, "job": tuple, "likes": tuple}
    function_tags: dict  # closed-class word -> tag


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
    never = tuple(
        sorted(rng.sample(pos_order[_N_HEAD_PER_POLARITY:], n_tail // 3))
        + sorted(rng.sample(neg_order[_N_HEAD_PER_POLARITY:], n_tail // 3))
    )
    rank = {}
    for i in range(len(pos_order)):
        rank[pos_order[i]] = 2 * i + 1
        rank[neg_order[i]] = 2 * i + 2

    names = _FEMALE + _MALE
    gender = {n: ("f" if n in _FEMALE else "m") for n in names}
    liked = _FOODS + _ANIMALS
    facts = {}
    for n in names:
        facts[n] = {"city": rng.choice(_PLACES), "job": (rng.choice(_PROFESSIONS),), "likes": (rng.choice(liked),)}

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
        seed=seed,
        word_class=wc,
        polarity=polarity,
        homographs=homographs,
        frequency_rank=rank,
        head_adjectives=head,
        tail_adjectives=tail,
        never_negated=never,
        positive_order=pos_order,
        negative_order=neg_order,
        intensifiers=dict(_STRONG_INTENS + _WEAK_INTENS),
        negators=_NEGATORS,
        names=names,
        places=_PLACES,
        professions=_PROFESSIONS,
        foods=_FOODS,
        animals=_ANIMALS,
        objects=_OBJECTS,
        neutral_adjectives=_ADJ_NEUTRAL,
        homograph_forms=forms,
        gender=gender,
        facts=facts,
        function_tags=dict(_FUNCTION),
    )


def ground_truth(seed: int = WORLD_SEED) -> dict[str, dict]:
    """word -> {"class": class name, "polarity": float for evaluative adjectives else None}."""
    lex = build_lexicon(seed)
    return {w: {"class": c, "polarity": lex.polarity.get(w)} for w, c in lex.word_class.items()}


class World:
    """Per-seed samplers shared by the corpus and the task generators."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        s = _ADJ_ZIPF_S
        never = set(lex.never_negated)
        self.adj = {1: Zipf(lex.positive_order, s), -1: Zipf(lex.negative_order, s)}
        self.adj_neg = {}
        for sign, order in ((1, lex.positive_order), (-1, lex.negative_order)):
            items = [w for w in order if w not in never]
            weights = [1.0 / (order.index(w) + 1) ** s for w in items]
            self.adj_neg[sign] = Zipf(items, weights=weights)
        self.aspects = {t: Zipf(_ASPECTS[t], 0.8) for t in TOPICS}
        self.strong = Zipf([w for w, _ in _STRONG_INTENS], 1.0)
        self.weak = Zipf([w for w, _ in _WEAK_INTENS], 1.0)
        self.names = Zipf(lex.names, 0.5)
        self.places = Zipf(lex.places, 0.7)
        self.objects = Zipf(lex.objects, 0.8)
        self.neutral = Zipf(lex.neutral_adjectives, 0.8)
        self.profs = Zipf(lex.professions, 0.7)
        self.homs = Zipf(tuple(lex.homograph_forms), 0.5)
