"""The registry of named real datasets and the local cache they are fetched into.

Each dataset names its canonical download address per file, the sha256 of the file as the
project reads it, its license and citation. `fetch` downloads (checking the download's own
sha256 where it is registered), extracts (a zip member, a gzip stream, or files built in memory
from a tar.gz, never a whole archive unpacked: no path can escape the cache), verifies every
file and only then writes them; `local_file` returns a verified path or says which command
fetches it. The cache folder is $WORKBENCH_DATA when set, else the per-user cache folder.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from workbench import atomic
from workbench.data import imdb_files
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it lives in the cache and how to get it."""

    path: str  # relative to the dataset's cache folder
    url: str
    sha256: str
    archive: str | None = None  # None, "zip" (take `member`), "gzip", or a builder of BUILDERS (take `member`)
    member: str | None = None
    download_sha256: str | None = None  # of the downloaded file itself, where it is known


# archive kinds whose files are built from the whole download: (payload, url) -> {member: bytes}
BUILDERS = {"aclImdb": imdb_files.build_files}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str  # "corpus", "classification", "tagging", or "corpus+classification" (both from one dataset)
    folder: str
    files: tuple[RemoteFile, ...]
    license: str
    citation: str
    description: str
    split_notes: str = ""
    extra: dict = field(default_factory=dict)

    def file(self, path: str) -> RemoteFile:
        return next(f for f in self.files if f.path == path)


_WT2 = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2/"
_UD = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.16/"
_GLUE_SST2 = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
_CONLL2000 = "https://www.clips.uantwerpen.be/conll2000/chunking/"
_IMDB = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
_IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            name="wikitext2",
            kind="corpus",
            folder="wikitext2",
            files=(
                RemoteFile(
                    "train.txt", _WT2 + "train.txt", "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"
                ),
                RemoteFile(
                    "valid.txt", _WT2 + "valid.txt", "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"
                ),
                RemoteFile(
                    "test.txt", _WT2 + "test.txt", "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"
                ),
            ),
            license="CC BY-SA (Wikipedia text)",
            citation="Merity, Xiong, Bradbury, Socher. Pointer Sentinel Mixture Models. arXiv:1609.07843, 2016.",
            description="WikiText-2 (tokenized, <unk> for rare words): 2.05M training tokens of Wikipedia.",
            split_notes="train.txt is the pretraining corpus; valid.txt is held out for validation loss.",
        ),
        DatasetSpec(
            name="sst2",
            kind="classification",
            folder="sst2",
            files=(
                RemoteFile(
                    "train.tsv",
                    _GLUE_SST2,
                    "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
                    "zip",
                    "SST-2/train.tsv",
                ),
                RemoteFile(
                    "dev.tsv",
                    _GLUE_SST2,
                    "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
                    "zip",
                    "SST-2/dev.tsv",
                ),
                RemoteFile(
                    "sentiment-test",
                    "https://raw.githubusercontent.com/PrincetonML/SIF/master/data/sentiment-test",
                    "4fefd1cd67526cf87ebc7fafc3afc21cc7cfa6ae53b45e74f77f9456e3c62752",
                ),
            ),
            license="none stated (research and educational use; cite the papers)",
            citation="Socher et al. Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. "
            "EMNLP 2013. Wang et al. GLUE. ICLR 2019.",
            description="Binary movie-review sentiment (GLUE SST-2): phrases and sentences, lowercased, PTB-tokenized.",
            split_notes="GLUE hides its test labels: dev.tsv (872) selects models, and the labeled SST-2 test "
            "(sentiment-test, 1,821, as in SentEval) reports.",
            extra={"labels": ("0", "1"), "label_names": {"0": "negative", "1": "positive"}},
        ),
        DatasetSpec(
            name="ud-upos",
            kind="tagging",
            folder="ud_en_ewt",
            files=(
                RemoteFile(
                    "en_ewt-ud-train.conllu",
                    _UD + "en_ewt-ud-train.conllu",
                    "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
                ),
                RemoteFile(
                    "en_ewt-ud-dev.conllu",
                    _UD + "en_ewt-ud-dev.conllu",
                    "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
                ),
                RemoteFile(
                    "en_ewt-ud-test.conllu",
                    _UD + "en_ewt-ud-test.conllu",
                    "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
                ),
            ),
            license="CC BY-SA 4.0",
            citation="Silveira et al. A Gold Standard Dependency Corpus for English. LREC 2014. Universal Dependencies 2.16.",
            description="Universal Dependencies English Web Treebank r2.16, universal POS tags (17).",
            split_notes="Official train/dev/test; multiword-token ranges and empty nodes are skipped.",
        ),
        DatasetSpec(
            name="conll2000-chunk",
            kind="tagging",
            folder="conll2000",
            files=(
                RemoteFile(
                    "train.txt",
                    _CONLL2000 + "train.txt.gz",
                    "82033cd7a72b209923a98007793e8f9de3abc1c8b79d646c50648eb949b87cea",
                    "gzip",
                ),
                RemoteFile(
                    "test.txt",
                    _CONLL2000 + "test.txt.gz",
                    "73b7b1e565fa75a1e22fe52ecdf41b6624d6f59dacb591d44252bf4d692b1628",
                    "gzip",
                ),
            ),
            license="none stated (WSJ text of the Penn Treebank; research and educational use)",
            citation="Tjong Kim Sang and Buchholz. Introduction to the CoNLL-2000 Shared Task: Chunking. CoNLL 2000.",
            description="CoNLL-2000 chunking (WSJ), BIO chunk tags (22).",
            split_notes="No official dev split: the last 1,000 training sentences are held out as dev; test reports.",
        ),
        DatasetSpec(
            name="imdb",
            kind="corpus+classification",
            folder="imdb",
            files=(
                RemoteFile(
                    "train.jsonl.gz",
                    _IMDB,
                    "e55e309d06079745593e06ca25c2b277b708e3428b2ac84414c677226154513d",
                    "aclImdb",
                    "train",
                    _IMDB_SHA256,
                ),
                RemoteFile(
                    "test.jsonl.gz",
                    _IMDB,
                    "fa95c381230370e549a41ab5b9805e5548a8d179f9ad3f50a388afd65d0bf58d",
                    "aclImdb",
                    "test",
                    _IMDB_SHA256,
                ),
                RemoteFile(
                    "unsup.jsonl.gz",
                    _IMDB,
                    "82ccdf71df77b63d0f9bcfb314a3c288613d87ac3eedfb1cefae424bd06d50b9",
                    "aclImdb",
                    "unsup",
                    _IMDB_SHA256,
                ),
            ),
            license="none stated (research and educational use; cite the paper)",
            citation="Maas, Daly, Pham, Huang, Ng, Potts. Learning Word Vectors for Sentiment Analysis. ACL 2011.",
            description="IMDB movie reviews (Large Movie Review Dataset v1.0): binary sentiment of whole reviews; "
            "long reviews are cut to their first 64 and last 192 tokens (head+tail).",
            split_notes="train = 24,000 of the 25,000 train reviews; dev = 1,000 carved from train, stratified "
            "(500 per label, fixed seed); test = the 25,000 test reviews (movies train never shows) "
            "reports.",
            # vocab_size: the corpus's default word vocabulary; 60k leaves 1.5% of SST-2 dev tokens unknown
            # (30k: 3.3%; bench/realtext/oov.py)
            extra={
                "corpus_description": "IMDB unlabeled text: the 50,000 unsup + 25,000 train reviews (never test), "
                "normalized and tokenized by workbench.data.realtext.",
                "vocab_size": 60_000,
            },
        ),
    ]
}


def cache_dir() -> Path:
    """$WORKBENCH_DATA, else $XDG_CACHE_HOME/workbench, else ~/.cache/workbench."""
    env = os.environ.get("WORKBENCH_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench"


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise WorkbenchError(
            f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)} (see `workbench data list`)"
        )
    return DATASETS[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int], bool] = {}


def _verify(path: Path, expected: str, name: str) -> None:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise WorkbenchError(
            f"{path}: sha256 mismatch (expected {expected[:12]}..., got {actual[:12]}...): "
            f"the file is corrupt or not the registered version; delete it and run `workbench data fetch {name}` "
            f"(or point WORKBENCH_DATA at a good copy)"
        )
    _VERIFIED[key] = True


def _inside(root: Path, relative: str) -> Path:
    """The path `relative` under `root`, refusing anything that would escape it."""
    target = (root / relative).resolve()
    if root.resolve() not in target.parents:
        raise WorkbenchError(f"refusing to write {relative!r}: it would land outside the cache folder {root}")
    return target


def local_file(name: str, path: str) -> Path:
    """The verified local copy of one registered file, or an error saying how to fetch it."""
    spec = get_spec(name)
    remote = spec.file(path)
    local = cache_dir() / spec.folder / remote.path
    if not local.exists():
        raise WorkbenchError(
            f"dataset {name!r} is not in the cache ({local} is missing): run `workbench data fetch {name}`, "
            f"or set WORKBENCH_DATA to a folder that holds it"
        )
    if local.is_dir():
        raise WorkbenchError(
            f"{local}: is a directory, expected a file; delete it and run `workbench data fetch {name}`"
        )
    _verify(local, remote.sha256, name)
    return local


def is_cached(name: str) -> bool:
    spec = get_spec(name)
    return all((cache_dir() / spec.folder / f.path).is_file() for f in spec.files)


def _download(url: str, progress) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            buffer = io.BytesIO()
            with progress(total=total, desc=url.rsplit("/", 1)[-1]) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    buffer.write(block)
                    bar.update(len(block))
            return buffer.getvalue()
    except OSError as exc:
        raise WorkbenchError(
            f"could not download {url}: {exc}; check the network, or copy the file into the cache by hand"
        ) from exc


def _check_download(remote: RemoteFile, payload: bytes) -> None:
    actual = hashlib.sha256(payload).hexdigest()
    if remote.download_sha256 and actual != remote.download_sha256:
        raise WorkbenchError(
            f"{remote.url}: sha256 mismatch of the download (expected {remote.download_sha256[:12]}..., "
            f"got {actual[:12]}...): truncated or not the registered file; nothing was written, try again"
        )


def _extract(remote: RemoteFile, payload: bytes, built: dict[str, dict[str, bytes]]) -> bytes:
    """The file's bytes from its download; `built` keeps each builder's output, one build per download."""
    if remote.archive is None:
        return payload
    if remote.archive in BUILDERS:
        if remote.url not in built:
            built[remote.url] = BUILDERS[remote.archive](payload, remote.url)
        return built[remote.url][remote.member]
    try:
        if remote.archive == "gzip":
            return gzip.decompress(payload)
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            if remote.member not in archive.namelist():
                raise WorkbenchError(f"{remote.url}: the archive has no member {remote.member!r}")
            return archive.read(remote.member)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise WorkbenchError(
            f"{remote.url}: not a valid {remote.archive} archive ({exc}); try `workbench data fetch` again"
        ) from exc


def fetch(name: str, progress=None) -> list[Path]:
    """Download, extract and verify every file of a dataset into the cache; skip verified files."""
    progress = progress or (lambda **kw: tqdm(unit="B", unit_scale=True, leave=False, **kw))
    spec = get_spec(name)
    root = cache_dir()
    folder = root / spec.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, delete=True)
        probe.close()
    except OSError as exc:
        raise WorkbenchError(
            f"cache folder {root} cannot be written ({exc.strerror}): set WORKBENCH_DATA to a writable folder"
        ) from exc
    downloads: dict[str, bytes] = {}  # one archive serves several files
    built: dict[str, dict[str, bytes]] = {}
    verified: dict[Path, bytes | None] = {}  # None: already in the cache
    for remote in spec.files:
        target = _inside(root, f"{spec.folder}/{remote.path}")
        if target.is_file() and sha256_of(target) == remote.sha256:
            verified[target] = None
            continue
        if remote.url not in downloads:
            downloads[remote.url] = _download(remote.url, progress)
            _check_download(remote, downloads[remote.url])
        content = _extract(remote, downloads[remote.url], built)
        actual = hashlib.sha256(content).hexdigest()
        if actual != remote.sha256:
            raise WorkbenchError(
                f"{remote.url}: sha256 mismatch for {remote.path} (expected {remote.sha256[:12]}..., "
                f"got {actual[:12]}...): the server sent a different file; nothing was written"
            )
        verified[target] = content
    for target, content in verified.items():  # written only once every file verified
        if content is not None:
            atomic.write_bytes(target, content)
    return list(verified)
