"""The real-text tokenizer: raw reviews and PTB-tokenized sentences give the same tokens."""

import pytest

from workbench.data.realtext import tokenize

# (raw text as a review writes it, the same text as SST-2 / WikiText write it)
PAIRS = [
    ("I didn't like Mr. Smith's film (really).", "i did n't like mr. smith 's film -lrb- really -rrb- ."),
    (
        "It's a \"well-made\" '70s B-movie... I can't/won't say",
        "it 's a `` well-made '' '70s b-movie ... i ca n't / wo n't say",
    ),
    ("The U.S. cut runs 1,000 minutes -- 7/10!!!", "the u.s. cut runs 1,000 minutes -- 7/10 !!!"),
    ("You cannot miss it; I'm gonna watch it", "you can not miss it ; i 'm gon na watch it"),
    ("the `rock' song", "the ` rock ' song"),
    ("A well-made film, 1,000 times", "a well @-@ made film , 1 @,@ 000 times"),
]


@pytest.mark.parametrize("raw, ptb", PAIRS)
def test_raw_and_ptb_text_agree(raw, ptb):
    assert tokenize(raw) == tokenize(ptb)


@pytest.mark.parametrize("text", [raw for raw, _ in PAIRS] + [ptb for _, ptb in PAIRS])
def test_idempotent(text):
    tokens = tokenize(text)
    assert tokenize(" ".join(tokens)) == tokens


def test_review_markup_entities_and_typography():
    review = "Great!<br /><br />Tom &amp; Jerry&#39;s “best” film…<BR>It’s <i>fine</i> — really"
    assert tokenize(review) == [
        "great",
        "!",
        "tom",
        "&",
        "jerry",
        "'s",
        '"',
        "best",
        '"',
        "film",
        "...",
        "it",
        "'s",
        "fine",
        "--",
        "really",
    ]


def test_clitics_split_the_ptb_way():
    assert tokenize("Don't, won't, can't, ain't, she'd, we'll, they've, you're") == [
        "do",
        "n't",
        ",",
        "wo",
        "n't",
        ",",
        "ca",
        "n't",
        ",",
        "ai",
        "n't",
        ",",
        "she",
        "'d",
        ",",
        "we",
        "'ll",
        ",",
        "they",
        "'ve",
        ",",
        "you",
        "'re",
    ]
    assert tokenize("O'Brien's 'slow' pace") == ["o'brien", "'s", "'", "slow", "'", "pace"]


def test_missing_space_after_period_still_splits():
    assert tokenize("bad movie.The end") == ["bad", "movie", ".", "the", "end"]
