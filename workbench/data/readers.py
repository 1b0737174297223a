"""Readers for the file formats users have: plain text, TSV/CSV/JSONL, CoNLL/CoNLL-U, SQuAD JSON.

Every reader returns tokens already normalized (see `normalize`), so the whole project sees
one tokenization. Every malformed input raises a `WorkbenchError` that names the file and line.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from workbench.errors import WorkbenchError, where

# WikiText splits numbers and hyphens with @-@ markers, SST-2 writes brackets as -lrb-/-rrb-:
# map both to the plain character so the two sources share words.
TOKEN_REPLACEMENTS = {"@-@": "-", "@,@": ",", "@.@": ".", "-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]"}


def normalize(tokens) -> list[str]:
    """The lowercasing policy: every token lowercased, source-specific escape tokens unified."""
    out = []
    for token in tokens:
        token = token.lower()
        out.append(TOKEN_REPLACEMENTS.get(token, token))
    return out


_WORD_RE = re.compile(r"\w+|[^\w\s]")


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Words and punctuation of raw text with their character offsets (for SQuAD answers)."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def read_text(path) -> str:
    """A whole file as text, with clear errors for a missing file, a folder, empty or non-UTF-8 input."""
    path = Path(path)
    if not path.exists():
        raise WorkbenchError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise WorkbenchError(f"{path}: is a directory, expected a file; name the file itself")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WorkbenchError(
            f"{where(path, line)}: invalid UTF-8 (byte 0x{data[exc.start]:02x}); re-encode the file as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 {path.name} > fixed.txt`"
        ) from None
    if not text.strip():
        raise WorkbenchError(f"{path}: the file is empty; point to a file with data")
    return text.lstrip("\ufeff")


def read_corpus_lines(path) -> list[list[str]]:
    """A plain-text corpus: one document (or paragraph) per non-empty line, whitespace-tokenized."""
    return [normalize(line.split()) for line in read_text(path).splitlines() if line.strip()]


def _column(header: list[str], name: str, path, option: str) -> int:
    if name not in header:
        raise WorkbenchError(
            f"{where(path, 1)}: no column {name!r} (columns: {', '.join(header)}); set {option} to one of them"
        )
    return header.index(name)


def read_labeled_rows(path, fmt: str, text_col: str, label_col: str) -> list[tuple[str, str, int]]:
    """(text, label, line number) rows of a TSV/CSV/JSONL classification file.

    For TSV/CSV, columns are named by the header line, or given as 0-based numbers for a file
    without a header (e.g. `--text-col 0 --label-col 1`).
    """
    text = read_text(path)
    rows: list[tuple[str, str, int]] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WorkbenchError(
                    f"{where(path, number)}: not valid JSON ({exc.msg}); write one JSON object per line"
                ) from None
            if not isinstance(record, dict):
                raise WorkbenchError(f"{where(path, number)}: expected a JSON object per line")
            for name, option in ((text_col, "--text-col"), (label_col, "--label-col")):
                if name not in record:
                    raise WorkbenchError(
                        f"{where(path, number)}: no field {name!r} (fields: {', '.join(record)}); every line needs "
                        f"it: fix this line, or name the right field with {option}"
                    )
            rows.append((str(record[text_col]), str(record[label_col]), number))
        return rows
    if fmt not in ("tsv", "csv"):
        raise WorkbenchError(f"unknown table format {fmt!r}: use tsv, csv or jsonl")
    lines = text.splitlines()
    if fmt == "tsv":  # SST-style TSV has no quoting: quotes are literal characters
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(lines)
    records = list(reader)
    if text_col.isdigit() and label_col.isdigit():
        text_i, label_i, first = int(text_col), int(label_col), 1
    else:
        header = [h.strip() for h in records[0]]
        text_i = _column(header, text_col, path, "--text-col")
        label_i = _column(header, label_col, path, "--label-col")
        records, first = records[1:], 2
    needed = max(text_i, label_i) + 1
    for number, record in enumerate(records, start=first):
        if not record or not any(field.strip() for field in record):
            continue
        if len(record) < needed:
            raise WorkbenchError(
                f"{where(path, number)}: {len(record)} field(s), expected at least {needed}; "
                f"fix the row (a missing {'tab' if fmt == 'tsv' else 'comma'}?)"
            )
        label = record[label_i].strip()
        if not label:
            raise WorkbenchError(f"{where(path, number)}: empty label; every row needs a label")
        rows.append((record[text_i], label, number))
    if not rows:
        raise WorkbenchError(f"{path}: no data rows; the file has a header only")
    return rows


def read_conll(path, tag_col: int, word_col: int = 0, conllu: bool = False):
    """Sentences of a CoNLL (whitespace columns) or CoNLL-U (10 tab columns) file.

    Returns a list of (tokens, tags, first line number). In CoNLL-U, comments, multiword-token
    ranges (`3-4`) and empty nodes (`8.1`) are skipped: tagging is over syntactic words.
    """
    text = read_text(path)
    sentences = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 1
    width = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if tokens:
                sentences.append((normalize(tokens), tags, start))
            tokens, tags, width = [], [], None
            continue
        if conllu and line.startswith("#"):
            continue
        fields = line.split("\t") if conllu else line.split()
        if conllu:
            if len(fields) != 10:
                raise WorkbenchError(f"{where(path, number)}: {len(fields)} tab-separated columns, CoNLL-U needs 10")
            if "-" in fields[0] or "." in fields[0]:
                continue
        else:
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                raise WorkbenchError(
                    f"{where(path, number)}: {len(fields)} columns where this sentence's rows have {width}; fix the ragged row"
                )
        if max(tag_col, word_col) >= len(fields):
            raise WorkbenchError(
                f"{where(path, number)}: no column {max(tag_col, word_col)} (the row has {len(fields)}); choose --tag-col below {len(fields)}"
            )
        if not tokens:
            start = number
        tokens.append(fields[word_col])
        tags.append(fields[tag_col])
    if tokens:
        sentences.append((normalize(tokens), tags, start))
    if not sentences:
        raise WorkbenchError(
            f"{path}: no sentences found; expected one token per line and a blank line between sentences"
        )
    return sentences


def read_squad(path):
    """(passage tokens, question tokens, (start, end)) triples from SQuAD-style JSON.

    Answers are given as character offsets into the context; they are mapped to the tokens
    they cover. Unanswerable questions (no answers) are skipped.
    """
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{where(path, exc.lineno)}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise WorkbenchError(f'{path}: expected SQuAD JSON with a top-level "data" list')
    triples = []
    for article in document["data"]:
        for paragraph in article.get("paragraphs", []):
            context = paragraph.get("context")
            if not isinstance(context, str):
                raise WorkbenchError(f'{path}: a paragraph has no "context" string')
            spans = tokenize_with_offsets(context)
            words = normalize(t for t, _, _ in spans)
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers") or []
                if not answers:
                    continue
                answer = answers[0]
                begin = answer.get("answer_start")
                text = answer.get("text", "")
                if not isinstance(begin, int) or context[begin : begin + len(text)] != text:
                    raise WorkbenchError(
                        f"{path}: question {qa.get('id', '?')!r}: answer_start does not point at the answer text"
                    )
                end_char = begin + len(text)
                covered = [i for i, (_, s, e) in enumerate(spans) if s < end_char and e > begin]
                if not covered:
                    raise WorkbenchError(f"{path}: question {qa.get('id', '?')!r}: the answer covers no token")
                question = normalize(t for t, _, _ in tokenize_with_offsets(qa.get("question", "")))
                triples.append((words, question, (covered[0], covered[-1])))
    if not triples:
        raise WorkbenchError(f"{path}: no answerable questions found")
    return triples
