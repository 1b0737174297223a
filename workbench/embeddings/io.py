"""Read and write word vectors in the formats people actually download, never with pickle.

word2vec text/binary, GloVe text (no header), fastText `.vec` (word2vec text) and `.bin`.
`KeyedVectors.load` unpickles and could run code from a downloaded file, so it is never used.
Every bad file becomes one `WorkbenchError` line naming the file and how to fix it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors

from workbench.atomic import atomic_path, write_json
from workbench.errors import WorkbenchError, where

FORMATS = ("auto", "word2vec", "word2vec-bin", "glove", "fasttext-bin")


VECTORS_FILE, META_FILE = "vectors.bin", "meta.json"


def save_vectors(kv: KeyedVectors, path) -> Path:
    """word2vec format, binary when the name ends in `.bin`, else text; atomic (temp + rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        kv.save_word2vec_format(str(tmp), binary=path.suffix == ".bin")
    return path


def save_vector_folder(folder, kv: KeyedVectors, meta: dict) -> None:
    """A cached set of trained vectors: FOLDER/vectors.bin and FOLDER/meta.json (how they were made).
    The vectors are written first, so a folder with meta.json always holds its vectors."""
    save_vectors(kv, Path(folder) / VECTORS_FILE)
    write_json(Path(folder) / META_FILE, meta)


def load_vector_folder(folder) -> tuple[KeyedVectors, dict] | None:
    """(vectors, meta) of a folder written by `save_vector_folder`; None when it is not complete."""
    path, meta_path = Path(folder) / VECTORS_FILE, Path(folder) / META_FILE
    if not (path.exists() and meta_path.exists()):
        return None
    return load_vectors(path), json.loads(meta_path.read_text(encoding="utf-8"))


def _has_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        first = fh.readline()
    parts = first.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def _check_text(path: Path, header: bool) -> None:
    """Find the first line whose width disagrees, so the error can name it (gensim's may not)."""
    with open(path, "rb") as fh:
        lines = iter(fh)
        start = 1
        if header:
            count, dim = (int(x) for x in next(lines).split())
            start = 2
        else:
            dim = None
        seen = 0
        for number, raw in enumerate(lines, start=start):
            try:
                parts = raw.decode("utf-8").rstrip("\n").rstrip().split(" ")
            except UnicodeDecodeError:
                raise WorkbenchError(f"{where(path, number)}: not UTF-8 text; re-encode the file as UTF-8") from None
            if not raw.strip():
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise WorkbenchError(
                    f"{where(path, number)}: {len(parts) - 1} values where the "
                    f"{'header' if header else 'first line'} says {dim}; fix or drop that line"
                )
            seen += 1
    if header and seen != count:
        raise WorkbenchError(
            f"{path}: header promises {count} vectors but the file has {seen}; the file is "
            f"truncated or the header is wrong (download it again or fix the first line)"
        )


def _detect(path: Path) -> str:
    if path.suffix == ".bin":
        return "bin"
    return "word2vec" if _has_header(path) else "glove"


def load_vectors(path, fmt: str = "auto") -> KeyedVectors:
    """Word vectors from `path`; `fmt` is one of FORMATS ("auto" guesses from name and first line)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise WorkbenchError(f"unknown vector format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not path.exists():
        raise WorkbenchError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise WorkbenchError(f"{path}: is a folder; give the vector file inside it")
    if path.stat().st_size == 0:
        raise WorkbenchError(f"{path}: empty file; train or download the vectors again")
    kind = _detect(path) if fmt == "auto" else fmt
    if kind == "bin":
        try:
            return _load(path, "word2vec-bin")
        except WorkbenchError as first:
            try:
                return _load(path, "fasttext-bin")
            except WorkbenchError:
                raise WorkbenchError(f"{first} (also not a fastText .bin)") from None
    return _load(path, kind)


def _load(path: Path, kind: str) -> KeyedVectors:
    try:
        if kind == "fasttext-bin":
            return load_facebook_vectors(str(path))
        if kind == "word2vec-bin":
            return KeyedVectors.load_word2vec_format(str(path), binary=True, unicode_errors="strict")
        header = kind == "word2vec"
        _check_text(path, header)
        return KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=not header, unicode_errors="strict")
    except WorkbenchError:
        raise
    except UnicodeDecodeError:
        raise WorkbenchError(f"{path}: a word is not valid UTF-8; re-encode the file as UTF-8") from None
    except EOFError:
        raise WorkbenchError(f"{path}: the file ends early (truncated); download or save it again") from None
    except (
        ValueError,
        IndexError,
        KeyError,
        TypeError,
        OSError,
        AssertionError,
        NotImplementedError,
        struct.error,
        MemoryError,
    ) as exc:
        hint = {"word2vec-bin": "not a word2vec binary file", "fasttext-bin": "not a fastText .bin model"}.get(
            kind, "not a vector file"
        )
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkbenchError(f"{path}: {hint} ({msg}); check the file or pass the right --format") from None
