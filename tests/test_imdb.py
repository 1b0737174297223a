"""IMDB: the archive-to-files step on a small archive of the same layout, the checked reader,
the task and corpus on small files, and (when the real folder is there) SOURCE.md's counts and
sha256s reproduced byte for byte."""

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from workbench.data import imdb, imdb_files, registry, tasks
from workbench.data.imdb_files import Review, build_files, encode_rows, read_reviews
from workbench.data.registry import DatasetSpec, RemoteFile
from workbench.errors import WorkbenchError

REVIEWS = {
    "aclImdb/train/neg/10_4.txt": "Bad.<br />Really bad, don't.",
    "aclImdb/train/neg/2_1.txt": "Awful &amp; dull.",
    "aclImdb/train/pos/5_9.txt": "Great fun — “loved” it.",
    "aclImdb/test/neg/3_2.txt": "Boring.",
    "aclImdb/test/pos/4_10.txt": "Superb!",
    "aclImdb/train/unsup/12_0.txt": "Saw it twice.",
    "aclImdb/train/unsup/7_0.txt": "A film, café.",
}
OTHER = {
    "aclImdb/imdb.vocab": "the\nand\n",
    "aclImdb/README": "Large Movie Review Dataset v1.0\n",
    "aclImdb/train/labeledBow.feat": "0 9:1\n",
}


def make_archive(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def rows_of(data: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines()]


def error_of(fn, *args) -> str:
    with pytest.raises(WorkbenchError) as info:
        fn(*args)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_build_files_layout_order_and_bytes():
    files = build_files(make_archive({**OTHER, **REVIEWS}), "src.tar.gz")
    assert set(files) == {"train", "test", "unsup"}
    train = rows_of(files["train"])
    # neg then pos, each by numeric id
    assert [(r["id"], r["rating"], r["label"]) for r in train] == [(2, 1, 0), (10, 4, 0), (5, 9, 1)]
    assert train[1]["text"] == "Bad.<br />Really bad, don't."  # text exactly as in the archive
    assert [(r["id"], r["label"]) for r in rows_of(files["unsup"])] == [(7, None), (12, None)]
    assert rows_of(files["test"])[0] == {"id": 3, "rating": 2, "label": 0, "text": "Boring."}
    for data in files.values():  # mtime 0, no file name, level 9: the same archive always gives the same bytes
        assert data[3] == 0 and data[4:8] == b"\0\0\0\0" and data[8] == 2
    assert "“loved”" in gzip.decompress(files["train"]).decode("utf-8")  # not \u-escaped
    assert build_files(make_archive({**REVIEWS, **OTHER}), "again") == files


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda payload: payload[: len(payload) // 2], "not a complete tar.gz"),
        (lambda payload: payload[:40] + bytes(b ^ 0xFF for b in payload[40:60]) + payload[60:], "src.tar.gz"),
        (lambda payload: b"<html>not found</html>", "not a complete tar.gz"),
    ],
)
def test_truncated_or_corrupted_archive(damage, expected):
    assert expected in error_of(build_files, damage(make_archive(REVIEWS)), "src.tar.gz")


@pytest.mark.parametrize(
    "member, content, expected",
    [
        ("aclImdb/../../evil.txt", "x", "'aclImdb/../../evil.txt' would land outside"),
        ("/etc/evil.txt", "x", "'/etc/evil.txt' would land outside"),
        (
            "aclImdb/train/pos/notes.txt",
            "x",
            "'aclImdb/train/pos/notes.txt': expected a review file named ID_RATING.txt",
        ),
        ("aclImdb/train/pos/9_2.txt", "x", "rating 2 does not belong in train/pos"),
        ("aclImdb/train/neg/8_1.txt", b"caf\xe9", "'aclImdb/train/neg/8_1.txt': invalid UTF-8 at byte 3"),
        ("aclImdb/train/neg/2_3.txt", "again", "review id 2 twice"),
    ],
)
def test_bad_member_named(member, content, expected):
    message = error_of(build_files, make_archive({**REVIEWS, member: content}), "src.tar.gz")
    assert message.startswith("src.tar.gz: ") and expected in message


def test_archive_without_a_folder_is_refused():
    partial = {k: v for k, v in REVIEWS.items() if "/test/pos/" not in k}
    assert "no reviews in aclImdb/test/pos/" in error_of(build_files, make_archive(partial), "src.tar.gz")


# ---------------------------------------------------------------- the checked reader
def write_lines(tmp_path, lines: list[bytes | str], name="train.jsonl.gz") -> Path:
    path = tmp_path / name
    raw = b"".join((line.encode("utf-8") if isinstance(line, str) else line) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(raw))
    return path


GOOD = '{"id": 0, "rating": 3, "label": 0, "text": "fine"}'


@pytest.mark.parametrize(
    "line, labeled, expected",
    [
        ('{"id": 1, "rating": 3, "label": 0}', True, "missing field 'text'"),
        ('{"id": 1, "rating": 3, "label": 2, "text": "x"}', True, "label 2, expected 0 or 1"),
        ('{"id": 1, "rating": 3, "label": null, "text": "x"}', True, "label None, expected 0 or 1"),
        ('{"id": 1, "rating": 0, "label": 1, "text": "x"}', False, "label 1, expected null"),
        ('{"id": 1, "rating": 3, "label": true, "text": "x"}', True, "field 'label' is True"),
        ('{"id": "1", "rating": 3, "label": 0, "text": "x"}', True, "field 'id' is '1'"),
        ('{"id": 1, "rating": 3, "label": 0, "text": "x"', True, "not valid JSON"),
        ("[1, 2]", True, "expected a JSON object"),
        (b'{"id": 1, "rating": 3, "label": 0, "text": "caf\xe9"}', True, "invalid UTF-8 (byte 0xe9)"),
    ],
)
def test_bad_line_named(tmp_path, line, labeled, expected):
    path = write_lines(tmp_path, [GOOD if labeled else GOOD.replace('"label": 0', '"label": null'), line])
    message = error_of(read_reviews, path, labeled)
    assert message.startswith(f"{path}:2: ") and expected in message


def test_truncated_or_empty_file(tmp_path):
    path = write_lines(tmp_path, [GOOD] * 50)
    path.write_bytes(path.read_bytes()[:-12])
    assert "not a complete gzip file" in error_of(read_reviews, path, True)
    empty = write_lines(tmp_path, [], name="empty.jsonl.gz")
    assert "no reviews" in error_of(read_reviews, empty, True)


def test_reader_roundtrip(tmp_path):
    reviews = [Review(3, 8, 1, 'say "hi"\u0010 café'), Review(1, 2, 0, "x")]
    path = tmp_path / "r.jsonl.gz"
    path.write_bytes(encode_rows(reviews))
    assert read_reviews(path, labeled=True) == reviews


# ---------------------------------------------------------------- task and corpus, on small files
@pytest.fixture
def small_imdb(tmp_path, monkeypatch):
    """An imdb dataset of 40 + 40 + 20 reviews in a temporary cache."""

    def review(i, label):
        words = " ".join(f"w{j}" for j in range(i % 7 * 60))  # some longer than the truncation
        return Review(i, (9 if label else 2) if label is not None else 0, label, f"Review {i}: {words}")

    files = {
        "train": [review(i, i % 2) for i in range(40)],
        "test": [review(i, i % 2) for i in range(20)],
        "unsup": [review(i, None) for i in range(20)],
    }
    cache = tmp_path / "data"
    real = registry.get_spec("imdb")
    remotes = []
    for split, reviews in files.items():
        data = encode_rows(reviews)
        (cache / "imdb").mkdir(parents=True, exist_ok=True)
        (cache / "imdb" / imdb_files.FILES[split]).write_bytes(data)
        remotes.append(RemoteFile(imdb_files.FILES[split], real.files[0].url, hashlib.sha256(data).hexdigest()))
    spec = DatasetSpec(
        "imdb",
        real.kind,
        "imdb",
        tuple(remotes),
        real.license,
        real.citation,
        real.description,
        real.split_notes,
        real.extra,
    )
    monkeypatch.setitem(registry.DATASETS, "imdb", spec)
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "artifacts"))
    monkeypatch.setattr(imdb, "DEV_SIZE", 10)
    for cached in (imdb.tokenized, imdb._full_splits, tasks.resolve_task, tasks.resolve_corpus):
        cached.cache_clear()
    yield files
    for cached in (imdb.tokenized, imdb._full_splits, tasks.resolve_task, tasks.resolve_corpus):
        cached.cache_clear()


def test_task_splits_truncation_and_profile(small_imdb):
    task = tasks.resolve_task("imdb")
    assert {split: len(v) for split, v in task.splits.items()} == {"train": 30, "dev": 10, "test": 20}
    assert sorted(ex.label for ex in task.splits["dev"]) == ["0"] * 5 + ["1"] * 5
    assert max(len(ex.tokens) for ex in task.splits["train"]) == imdb.HEAD + imdb.TAIL
    longest = next(ex for ex in task.splits["test"] if ex.tokens[1] == "6")  # 363 tokens: head and tail kept
    assert len(longest.tokens) == 256 and longest.tokens[:3] == ("review", "6", ":")
    assert longest.tokens[63] == "w60" and longest.tokens[64] == "w168" and longest.tokens[-1] == "w359"
    info = tasks.describe_task(task)
    assert info["lengths"]["test"]["max"] == 363 and 0 < info["lengths"]["test"]["truncated"] < 1
    assert tasks.resolve_task("imdb").splits["dev"] == task.splits["dev"]  # fixed


def test_corpus_is_unsup_and_train_never_test(small_imdb, tmp_path):
    corpus = tasks.resolve_corpus("imdb")
    assert len(corpus.documents) == 60 and corpus.documents[0][:3] == ["review", "0", ":"]
    assert "imdb" in tasks.corpus_names() and "imdb" in tasks.task_names()
    cached = list((tmp_path / "artifacts" / "tokenized").rglob("reviews.txt.gz"))  # for the next process
    assert len(cached) == 2  # unsup and train
    for path in cached:
        path.write_bytes(path.read_bytes()[:-20])
    imdb.tokenized.cache_clear()
    assert "cached tokens unreadable" in error_of(imdb.tokenized, "unsup")


def test_data_info_shows_corpus_task_and_lengths(small_imdb):
    from conftest import run_main

    result = run_main("data", "info", "imdb")
    assert result.returncode == 0, result.stderr
    assert "documents: 60" in result.stdout and "dev" in result.stdout
    assert "tokens before truncation: median" in result.stdout and "cut" in result.stdout


# ---------------------------------------------------------------- the real files
IMDB_DIR = Path(os.environ.get("WORKBENCH_DATA", "/nonexistent")) / "imdb"
# file: (rows, whitespace words, label counts), from SOURCE.md
SOURCE = {
    "train": (25_000, 5_844_680, {0: 12_500, 1: 12_500}),
    "test": (25_000, 5_713_167, {0: 12_500, 1: 12_500}),
    "unsup": (50_000, 11_721_682, {None: 50_000}),
}


@pytest.mark.slow
@pytest.mark.skipif(
    not IMDB_DIR.is_dir(), reason="IMDB absent: set WORKBENCH_DATA to a folder laid out like ../shared/data"
)
@pytest.mark.parametrize("split", list(SOURCE))
def test_real_files_counts_and_bytes(split):
    """Every row read back and rewritten by our writer gives SOURCE.md's sha256: the fetch builds these bytes."""
    path = registry.local_file("imdb", imdb_files.FILES[split])
    reviews = read_reviews(path, labeled=split != "unsup")
    rows, words, labels = SOURCE[split]
    assert len(reviews) == rows and sum(len(r.text.split()) for r in reviews) == words
    assert {label: sum(r.label == label for r in reviews) for label in labels} == labels
    assert hashlib.sha256(encode_rows(reviews)).hexdigest() == registry.get_spec("imdb").file(path.name).sha256
