"""The embedded micro-world: determinism, split hygiene, labels, and the corpus signals it promises."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from workbench.data import microworld as mw
from workbench.data.microworld import (
    TAGS,
    TASK_NAMES,
    build_lexicon,
    generate_corpus,
    ground_truth,
    make_task,
)

ROOT = Path(__file__).resolve().parents[1]
NEGATORS = {"not", "never", "n't"}
WEAK = {"slightly", "somewhat", "mildly"}
SIZES = {
    "micro-sentiment": {"train": 3000, "dev": 500, "test": 1000, "shifted": 1000},
    "micro-tagging": {"train": 2000, "dev": 300, "test": 600, "shifted": 600},
    "micro-qa": {"train": 2000, "dev": 300, "test": 600, "shifted": 600},
}


@pytest.fixture(scope="module")
def lex():
    return build_lexicon()


@pytest.fixture(scope="module")
def tasks():
    return {name: make_task(name) for name in TASK_NAMES}


@pytest.fixture(scope="module")
def small_corpus():
    return generate_corpus(100_000)


@pytest.fixture(scope="module")
def big_corpus():
    return generate_corpus(1_000_000)


def _key(ex):
    return (ex.tokens, ex.label, ex.tags, ex.question, ex.span, ex.phenomenon)


# ---------------------------------------------------------------------------------- determinism
def test_same_seed_same_everything(small_corpus, tasks, lex):
    again = generate_corpus(100_000)
    assert again.documents == small_corpus.documents
    assert again.valid == small_corpus.valid
    fresh = build_lexicon.__wrapped__(mw.WORLD_SEED)
    assert fresh == lex
    for name in TASK_NAMES:
        t2 = make_task(name)
        for split, exs in tasks[name].splits.items():
            assert [_key(e) for e in t2.splits[split]] == [_key(e) for e in exs], (name, split)


def test_different_seed_differs(small_corpus, lex):
    other = generate_corpus(100_000, seed=1)
    assert other.documents != small_corpus.documents
    lex1 = build_lexicon(1)
    assert lex1.facts != lex.facts
    t0, t1 = make_task("micro-sentiment"), make_task("micro-sentiment", seed=1)
    assert [e.tokens for e in t0.splits["train"]] != [e.tokens for e in t1.splits["train"]]


def test_independent_of_pythonhashseed():
    code = (
        "import hashlib\n"
        "from workbench.data.microworld import generate_corpus, make_task\n"
        "c = generate_corpus(20_000)\n"
        "t = make_task('micro-tagging')\n"
        "s = repr(c.documents) + repr(c.valid) + repr([e.tokens for e in t.splits['shifted']])\n"
        "print(hashlib.sha256(s.encode()).hexdigest())\n"
    )
    outs = []
    for hs in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hs)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.strip())
    assert outs[0] == outs[1]


# ---------------------------------------------------------------------------------- splits
@pytest.mark.parametrize("name", TASK_NAMES)
def test_splits_sizes_and_disjoint(tasks, name):
    task = tasks[name]
    assert {k: len(v) for k, v in task.splits.items()} == SIZES[name]
    seen = {}
    for split, exs in task.splits.items():
        for e in exs:
            content = (e.tokens, e.question)
            assert content not in seen, f"{name}: example in {seen.get(content)} and {split}"
            seen[content] = split


def test_sentiment_labels_balanced(tasks):
    task = tasks["micro-sentiment"]
    assert task.kind == "classification" and task.labels == ["negative", "positive"]
    for split, exs in task.splits.items():
        frac = Counter(e.label for e in exs)["positive"] / len(exs)
        assert 0.45 <= frac <= 0.55, (split, frac)
        assert {e.phenomenon for e in exs} <= set(mw.PHENOMENA)
    assert {e.phenomenon for e in task.splits["train"]} == set(mw.PHENOMENA)


# ---------------------------------------------------------------------------------- sentiment
def _simple_label(tokens, lex):
    """Independent recomputation for sentences without intensifiers: the last clause after "but"
    decides; a negator in that clause flips the adjective's polarity."""
    toks = list(tokens)
    if "but" in toks:
        toks = toks[len(toks) - toks[::-1].index("but") :]
    adjs = [t for t in toks if t in lex.polarity]
    assert len(adjs) == 1
    pol = lex.polarity[adjs[0]]
    if any(t in NEGATORS for t in toks):
        pol = -pol
    return "positive" if pol > 0 else "negative"


def test_sentiment_labels_compose(tasks, lex):
    checked = Counter()
    for _split, exs in tasks["micro-sentiment"].splits.items():
        for e in exs:
            v = mw.sentiment_value(e.tokens)
            assert (v > 0) == (e.label == "positive"), e
            if "intensity" not in e.phenomenon:
                assert _simple_label(e.tokens, lex) == e.label, e
                checked[e.phenomenon] += 1
            if e.phenomenon == "plain":
                assert not any(t in NEGATORS or t == "but" for t in e.tokens)
            if "negation" in e.phenomenon:
                assert any(t in NEGATORS for t in e.tokens)
            if "contrast" in e.phenomenon:
                assert "but" in e.tokens
            if "intensity" in e.phenomenon:
                assert any(t in lex.intensifiers for t in e.tokens)
    assert checked["plain"] > 500 and checked["negation"] > 300 and checked["contrast"] > 300


def test_sentiment_hand_cases(lex):
    good, bad = lex.head_adjectives[0], lex.negative_order[0]
    assert lex.polarity[good] > 0 > lex.polarity[bad]
    assert mw.sentiment_value(["the", "soup", "was", good, "."]) > 0
    assert mw.sentiment_value(["the", "soup", "was", "not", good, "."]) < 0
    assert mw.sentiment_value(["the", "soup", "was", "n't", bad, "at", "all", "."]) > 0
    assert mw.sentiment_value(["the", "room", "was", good, "but", "the", "staff", "was", bad, "."]) < 0
    assert (
        mw.sentiment_value(
            ["the", "room", "was", "extremely", good, "but", "the", "staff", "was", "slightly", bad, "."]
        )
        < 0
    )
    assert (
        mw.sentiment_value(
            ["the", "soup", "was", "slightly", "bad", "and", "the", "staff", "was", "extremely", "friendly", "."]
        )
        > 0
    )


def test_sentiment_head_tail_splits(tasks, lex):
    head, tail = set(lex.head_adjectives), set(lex.tail_adjectives)
    assert len(head) + len(tail) == len(lex.polarity) and not head & tail
    splits = tasks["micro-sentiment"].splits
    for e in splits["train"]:
        assert all(t in head for t in e.tokens if t in lex.polarity), e
    for e in splits["shifted"]:
        assert all(t in tail for t in e.tokens if t in lex.polarity), e
    test_adjs = {t for e in splits["test"] for t in e.tokens if t in lex.polarity}
    assert test_adjs & head and test_adjs & tail
    # shifted also uses frames the train split never shows
    train_words = {t for e in splits["train"] for t in e.tokens}
    assert {"looked", "looks", "said", "says"} & {t for e in splits["shifted"] for t in e.tokens}
    assert not {"looked", "looks", "said", "says", "everyone"} & train_words


def test_polarity_graded_and_nonzero(lex):
    vals = set(lex.polarity.values())
    assert 0.0 not in vals and len(vals) >= 6
    assert 60 <= len(lex.polarity) <= 100
    assert sum(v > 0 for v in lex.polarity.values()) == sum(v < 0 for v in lex.polarity.values())


# ---------------------------------------------------------------------------------- corpus
def test_corpus_size_and_valid(big_corpus):
    n = big_corpus.n_tokens
    assert 1_000_000 <= n < 1_010_000
    n_valid = sum(len(d) for d in big_corpus.valid)
    assert 0.015 * n <= n_valid <= 0.03 * n
    assert all(t == t.lower() and " " not in t and t for d in big_corpus.documents[:500] for t in d)


def _doc_opinion(doc):
    op = None
    for i, t in enumerate(doc):
        if t in ("star", "stars") and i > 0:
            op = {"one": -1, "two": -1, "four": 1, "five": 1}.get(doc[i - 1], op)
    return op


def _sentences(doc):
    cur = []
    for t in doc:
        cur.append(t)
        if t in (".", "?"):
            yield cur
            cur = []


def test_tail_adjectives_frequent_enough_and_in_matching_documents(big_corpus, lex):
    counts = Counter(t for d in big_corpus.documents for t in d)
    for a in lex.tail_adjectives:
        assert counts[a] >= 20, (a, counts[a])
    head_min = min(counts[a] for a in lex.head_adjectives)
    tail_max = max(counts[a] for a in lex.tail_adjectives)
    assert counts[lex.positive_order[0]] > 10 * tail_max and head_min >= tail_max / 2
    agree, total, plain_agree, plain_total = Counter(), Counter(), Counter(), Counter()
    for d in big_corpus.documents:
        op = _doc_opinion(d)
        if op is None:
            continue
        for s in _sentences(d):
            # no negation, no contrast, no downtoned (possibly opposite) clause
            is_plain = not any(t in NEGATORS or t == "but" or t in WEAK for t in s)
            for t in s:
                if t in lex.polarity:
                    ok = lex.polarity[t] * op > 0
                    total[t] += 1
                    agree[t] += ok
                    if is_plain:
                        plain_total[t] += 1
                        plain_agree[t] += ok
    # over all clauses (negated ones included) tail adjectives lean to their document's opinion;
    # per word, plain clauses agree almost always
    tail_agree = sum(agree[a] for a in lex.tail_adjectives) / sum(total[a] for a in lex.tail_adjectives)
    assert tail_agree > 0.55, tail_agree
    for a in lex.tail_adjectives:
        assert plain_total[a] >= 10 and plain_agree[a] / plain_total[a] > 0.97, a


def test_negation_only_for_some_adjectives(big_corpus, lex):
    negated = Counter()
    for d in big_corpus.documents:
        for s in _sentences(d):
            for i, t in enumerate(s):
                if t in lex.polarity and any(x in NEGATORS for x in s[max(0, i - 3) : i]):
                    negated[t] += 1
    never = set(lex.never_negated)
    assert len(never) >= len(lex.polarity) // 5
    assert never <= set(lex.tail_adjectives)
    for a in lex.polarity:
        if a in never:
            assert negated[a] == 0, a
        else:
            assert negated[a] > 0, a


def test_corpus_uses_task_constructions(small_corpus, lex):
    text = [" ".join(d) for d in small_corpus.documents]
    joined = "\n".join(text)
    for phrase in (
        " but the ",
        " was not ",
        " did not seem ",
        " at all ",
        ", so we came back .",
        ", so we left early .",
        "i gave it five stars .",
        "i gave it one star .",
        " very ",
        " slightly ",
        " seemed ",
    ):
        assert phrase in joined, phrase
    # world knowledge in several frames, consistent with the facts
    name = lex.names[0]
    city = " ".join(lex.facts[name]["city"])
    assert f"{name} lives in {city} ." in joined or f"{city} is where {name} lives ." in joined
    for n in lex.names:
        c = " ".join(lex.facts[n]["city"])
        for other in lex.places:
            o = " ".join(other)
            if o != c:
                assert f"{n} lives in {o} ." not in joined


def test_ground_truth_covers_vocabulary(small_corpus, tasks, lex):
    gt = ground_truth()
    vocab = {t for d in small_corpus.documents + small_corpus.valid for t in d}
    for task in tasks.values():
        for exs in task.splits.values():
            for e in exs:
                vocab.update(e.tokens)
                vocab.update(e.question or ())
    missing = sorted(vocab - set(gt))
    assert not missing, missing
    for w, info in gt.items():
        if info["class"] == "adj_eval":
            assert info["polarity"] == lex.polarity[w] and info["polarity"] != 0
        else:
            assert info["polarity"] is None, w
    assert {gt[w]["class"] for w in lex.names} == {"person"}
    assert gt["cook"]["class"] == "noun|verb"
    assert 10 <= len(lex.homographs) and 300 <= len(gt) <= 2000


# ---------------------------------------------------------------------------------- tagging
def _skeleton(ex, lex):
    keep_noun = set(lex.homographs) | {f["verb3"] for f in lex.homograph_forms.values()}
    return tuple(
        tag if tag in ("PROPN", "ADJ") or (tag == "NOUN" and tok not in keep_noun) else tok
        for tok, tag in zip(ex.tokens, ex.tags)
    )


def test_tagging(tasks, lex):
    task = tasks["micro-tagging"]
    assert task.kind == "tagging" and task.labels == list(TAGS)
    for exs in task.splits.values():
        for e in exs:
            assert len(e.tags) == len(e.tokens) and set(e.tags) <= set(TAGS)
    tags_of = {}
    for e in task.splits["train"]:
        for tok, tag in zip(e.tokens, e.tags):
            if tok in lex.homograph_forms:
                tags_of.setdefault(tok, set()).add(tag)
    for h in lex.homograph_forms:
        assert tags_of.get(h, set()) >= {"NOUN", "VERB"}, (h, tags_of.get(h))
    train_skel = {_skeleton(e, lex) for e in task.splits["train"]}
    shifted = task.splits["shifted"]
    assert {e.phenomenon for e in shifted} == {"held-out-frame", "held-out-combination"}
    for e in shifted:
        assert _skeleton(e, lex) not in train_skel, e


# ---------------------------------------------------------------------------------- QA
def test_qa_spans(tasks, lex):
    task = tasks["micro-qa"]
    assert task.kind == "span"
    for _split, exs in task.splits.items():
        for e in exs:
            s, t = e.span
            assert 0 <= s <= t < len(e.tokens)
            answer = e.tokens[s : t + 1]
            q = e.question
            names = [w for w in q if w in lex.facts]
            if e.phenomenon.startswith("who"):
                assert len(answer) == 1 and answer[0] in lex.facts
                assert lex.facts[answer[0]]["city"] == tuple(q[q.index("in") + 1 : -1])
            else:
                assert len(names) == 1
                attr = e.phenomenon.split("+")[0]
                assert answer == lex.facts[names[0]][attr], (e, attr)
            n_sent = sum(tok == "." for tok in e.tokens)
            assert 2 <= n_sent <= 5
    train_q = {e.question[:2] for e in task.splits["train"]}
    shifted = task.splits["shifted"]
    assert any(e.question[:2] not in train_q for e in shifted)
    assert any("shifted-passage" in e.phenomenon for e in shifted)
    assert all("shifted" in e.phenomenon for e in shifted)
    assert not any("shifted" in e.phenomenon for s in ("train", "dev", "test") for e in task.splits[s])
