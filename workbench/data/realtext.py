"""The one normalizer and word tokenizer for real text (IMDB reviews, SST-2 sentences).

A model pretrained on IMDB must see SST-2 the way it saw its corpus. IMDB reviews are raw,
HTML-ish text ("<br />", "&#39;", "Don't", "(it)"); SST-2 is lowercased and PTB-tokenized
("do n't", "``", "-lrb-"). `tokenize` maps both to the same tokens: markup removed, entities
decoded, lowercased, punctuation and clitics split the Penn Treebank way ("don't" -> "do n't",
"it's" -> "it 's", "cannot" -> "can not"), PTB escapes and quote marks mapped to the characters
raw text uses. Hyphenated words ("well-made"), numbers ("1,000", "7/10"), "...", "--" and
abbreviations ("mr.", "u.s.") stay one token. It is idempotent: tokenizing already-tokenized
text joined by spaces gives the same tokens back, so SST-2's tokens and the raw sentence agree.
"""

from __future__ import annotations

import html
import re

# Bump when the tokens for some text change: caches of tokenized corpora are keyed by it.
TOKENIZER_VERSION = "realtext-1"

MARKUP = re.compile(r"</?(?:br|p|hr|i|b|em)\s*/?>", re.IGNORECASE)
# PTB and WikiText escapes, and typographic quotes, as the characters raw text uses.
ESCAPES = [
    ("``", '"'),
    ("''", '"'),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("`", "'"),
    ("\u00b4", "'"),
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u2026", "..."),
    ("\u2014", " -- "),
    ("\u2013", " -- "),
    ("-lrb-", "("),
    ("-rrb-", ")"),
    ("-lsb-", "["),
    ("-rsb-", "]"),
    ("-lcb-", "{"),
    ("-rcb-", "}"),
    (" @-@ ", "-"),
    (" @,@ ", ","),
    (" @.@ ", "."),
]
_CLITICS = [
    (re.compile(r"\b(can)(not)\b"), r"\1 \2"),
    (re.compile(r"\b(gon|wan|got)(na|ta)\b"), r"\1 \2"),
    (re.compile(r"(\w)(n't)\b"), r"\1 \2"),
    (re.compile(r"(\w)('(?:s|re|ve|ll|d|m))\b"), r"\1 \2"),
]
_RUNS = re.compile(r"\.{2,}|-{2,}")  # "...." is "...", "---" is "--"
_ABBREVIATIONS = r"(?:mr|mrs|ms|dr|jr|sr|st|vs|etc|inc)\."
TOKEN = re.compile(
    r"n't(?!\w)"  # the split clitic of "do n't"
    r"|'(?:s|re|ve|ll|d|m)(?!\w)"  # 's 're 've 'll 'd 'm
    r"|'\d0s(?!\w)"  # '70s
    rf"|\b{_ABBREVIATIONS}"  # mr. vs. etc.
    r"|\b[a-z](?:\.[a-z])+\.?"  # u.s. e.g. j.k.
    r"|\d+(?:[.,:/]\d+)+"  # 1,000 3.5 7/10 7:30
    r"|\w+(?:[-']\w+)*"  # words, hyphenated words, o'brien
    r"|\.\.\.|--"  # (runs of dots and dashes are made these two by `normalize`)
    r"|[!?]+|\*+"  # !!! ?!? ***
    r"|\S"  # any other character alone
)


def normalize(text: str) -> str:
    """Markup removed, entities decoded, lowercased, escapes and clitics spelled the PTB way."""
    text = html.unescape(MARKUP.sub(" ", text)).lower()
    for old, new in ESCAPES:
        text = text.replace(old, new)
    for pattern, replacement in _CLITICS:
        text = pattern.sub(replacement, text)
    return _RUNS.sub(lambda run: "..." if run.group()[0] == "." else "--", text)


def tokenize(text: str) -> list[str]:
    """The words of raw or PTB-tokenized text, normalized (see the module docstring)."""
    return TOKEN.findall(normalize(text))
