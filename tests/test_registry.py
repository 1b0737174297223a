"""The registry fetches over any URL scheme urllib knows; tests serve files from file:// URLs."""

import gzip
import hashlib
import io
import zipfile

import pytest

from workbench.data import registry
from workbench.data.registry import DatasetSpec, RemoteFile
from workbench.errors import WorkbenchError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A fake dataset of three files (plain, gzip, zip member) served from file:// URLs."""
    source = tmp_path / "server"
    source.mkdir()
    plain, inner = b"hello world\n", b"zipped text\n"
    (source / "plain.txt").write_bytes(plain)
    (source / "packed.txt.gz").write_bytes(gzip.compress(b"gzipped text\n"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("DIR/inner.txt", inner)
        archive.writestr("../../evil.txt", b"should never be written")
    (source / "bundle.zip").write_bytes(buffer.getvalue())
    url = source.as_uri() + "/"
    spec = DatasetSpec(
        "fake",
        "corpus",
        "fake",
        (
            RemoteFile("plain.txt", url + "plain.txt", sha(plain)),
            RemoteFile("packed.txt", url + "packed.txt.gz", sha(b"gzipped text\n"), "gzip"),
            RemoteFile("inner.txt", url + "bundle.zip", sha(inner), "zip", "DIR/inner.txt"),
        ),
        "CC0",
        "nobody",
        "a fake dataset",
    )
    monkeypatch.setitem(registry.DATASETS, "fake", spec)
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    return spec, cache


def quiet(**kwargs):
    class Bar:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            pass

    return Bar()


def test_fetch_extracts_and_verifies(served):
    spec, cache = served
    paths = registry.fetch("fake", progress=quiet)
    assert sorted(p.name for p in paths) == ["inner.txt", "packed.txt", "plain.txt"]
    assert (cache / "fake" / "packed.txt").read_bytes() == b"gzipped text\n"
    assert registry.local_file("fake", "inner.txt").read_bytes() == b"zipped text\n"
    assert not any(p.name == "evil.txt" for p in cache.parent.rglob("*"))
    assert registry.is_cached("fake")


def test_sha_mismatch_from_server_writes_nothing(served, monkeypatch):
    spec, cache = served
    bad = DatasetSpec("fake", "corpus", "fake", (RemoteFile("plain.txt", spec.files[0].url, "0" * 64),), "", "", "")
    monkeypatch.setitem(registry.DATASETS, "fake", bad)
    with pytest.raises(WorkbenchError, match="sha256 mismatch"):
        registry.fetch("fake", progress=quiet)
    assert not (cache / "fake" / "plain.txt").exists()


def test_corrupt_cached_file_is_refused(served):
    spec, cache = served
    registry.fetch("fake", progress=quiet)
    (cache / "fake" / "plain.txt").write_bytes(b"tampered\n")
    with pytest.raises(WorkbenchError, match="sha256 mismatch.*workbench data fetch fake"):
        registry.local_file("fake", "plain.txt")


def test_missing_dataset_says_how_to_fetch(served):
    with pytest.raises(WorkbenchError, match="workbench data fetch fake"):
        registry.local_file("fake", "plain.txt")


def test_path_escape_refused(served, monkeypatch):
    spec, cache = served
    evil = DatasetSpec(
        "fake", "corpus", "fake", (RemoteFile("../../evil.txt", spec.files[0].url, spec.files[0].sha256),), "", "", ""
    )
    monkeypatch.setitem(registry.DATASETS, "fake", evil)
    with pytest.raises(WorkbenchError, match="outside the cache"):
        registry.fetch("fake", progress=quiet)


def test_unwritable_cache(served, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_DATA", str(blocker / "cache"))
    with pytest.raises(WorkbenchError, match="cannot be written.*WORKBENCH_DATA"):
        registry.fetch("fake", progress=quiet)


def test_unreachable_url(served, monkeypatch, tmp_path):
    gone = DatasetSpec(
        "fake", "corpus", "fake", (RemoteFile("x.txt", (tmp_path / "nope.txt").as_uri(), "0" * 64),), "", "", ""
    )
    monkeypatch.setitem(registry.DATASETS, "fake", gone)
    with pytest.raises(WorkbenchError, match="could not download"):
        registry.fetch("fake", progress=quiet)


def test_unknown_dataset():
    with pytest.raises(WorkbenchError, match="unknown dataset 'nope'.*workbench data list"):
        registry.get_spec("nope")


def test_every_registered_file_has_url_and_sha():
    for spec in registry.DATASETS.values():
        assert spec.license and spec.citation
        for remote in spec.files:
            assert remote.url.startswith("https://") and len(remote.sha256) == 64


@pytest.fixture
def served_imdb(tmp_path, monkeypatch):
    """A small archive laid out like aclImdb_v1.tar.gz, registered like imdb, served from a file:// URL."""
    from test_imdb import OTHER, REVIEWS, make_archive

    from workbench.data import imdb_files

    def serve(reviews):
        payload = make_archive({**OTHER, **reviews})
        (tmp_path / "aclImdb_v1.tar.gz").write_bytes(payload)
        return payload

    payload = serve(REVIEWS)
    built = imdb_files.build_files(payload, "x")
    url = (tmp_path / "aclImdb_v1.tar.gz").as_uri()
    spec = DatasetSpec(
        "fake-imdb",
        "corpus+classification",
        "imdb",
        tuple(
            RemoteFile(imdb_files.FILES[split], url, sha(built[split]), "aclImdb", split, sha(payload))
            for split in built
        ),
        "none",
        "Maas et al.",
        "fake IMDB",
    )
    monkeypatch.setitem(registry.DATASETS, "fake-imdb", spec)
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    return spec, cache, built, serve


def test_fetch_builds_imdb_files_from_the_archive(served_imdb):
    spec, cache, built, _ = served_imdb
    paths = registry.fetch("fake-imdb", progress=quiet)
    assert sorted(p.name for p in paths) == ["test.jsonl.gz", "train.jsonl.gz", "unsup.jsonl.gz"]
    assert registry.local_file("fake-imdb", "train.jsonl.gz").read_bytes() == built["train"]
    assert sorted(p.name for p in (cache / "imdb").iterdir()) == ["test.jsonl.gz", "train.jsonl.gz", "unsup.jsonl.gz"]


def test_bad_imdb_archive_writes_nothing(served_imdb, monkeypatch):
    spec, cache, built, serve = served_imdb
    from test_imdb import REVIEWS

    serve({**REVIEWS, "aclImdb/train/pos/notes.txt": "not a review"})  # another archive: its sha256 differs
    with pytest.raises(WorkbenchError, match="sha256 mismatch of the download"):
        registry.fetch("fake-imdb", progress=quiet)
    payload = (cache.parent / "aclImdb_v1.tar.gz").read_bytes()
    unchecked = DatasetSpec(
        "fake-imdb",
        spec.kind,
        "imdb",
        tuple(RemoteFile(f.path, f.url, f.sha256, f.archive, f.member) for f in spec.files),
        "",
        "",
        "",
    )
    monkeypatch.setitem(registry.DATASETS, "fake-imdb", unchecked)  # no download sha256: the builder itself refuses
    with pytest.raises(WorkbenchError, match="notes.txt': expected a review file named ID_RATING.txt"):
        registry.fetch("fake-imdb", progress=quiet)
    (cache.parent / "aclImdb_v1.tar.gz").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(WorkbenchError, match="not a complete tar.gz"):
        registry.fetch("fake-imdb", progress=quiet)
    assert not any(p.is_file() for p in cache.rglob("*"))
