"""The one way the workbench writes a file: to a temporary file beside it, then a rename.

A reader (or a rerun after Ctrl-C) sees either the old file or the whole new one, never half
of one. Every on-disk format (results, pretraining folders, vectors, vocabularies, the cache,
reports) writes through `atomic_path`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a temporary path in the target's folder; on success it replaces `path`, on error it is removed.

    For writers that insist on a file name (safetensors, gensim, torch.save)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600); a report is read by others
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, data, indent: int | None = 2) -> None:
    """Sorted keys and a final newline, so that the same data gives the same bytes."""
    write_text(path, json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n")
