"""The IMDB files (Maas et al. 2011) both ways: made from the canonical archive, read back with checks.

The archive holds 100,000 small files (`aclImdb/{train,test}/{neg,pos}/ID_RATING.txt`,
`aclImdb/train/unsup/ID_0.txt`). `build_files` turns it, in memory (nothing is extracted to
disk, so no member can land outside the cache), into `train.jsonl.gz`, `test.jsonl.gz` and
`unsup.jsonl.gz` with exactly the bytes of `../shared/data/imdb` (its SOURCE.md): one
`{"id", "rating", "label", "text"}` object a line, neg then pos by numeric id, gzip at level 9
with mtime 0 and no file name, so the registry can check their sha256s. `read_reviews` reads
one back; every bad archive member or line is a one-line `WorkbenchError` naming it.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zlib
from typing import NamedTuple

from workbench.errors import WorkbenchError, where

FILES = {"train": "train.jsonl.gz", "test": "test.jsonl.gz", "unsup": "unsup.jsonl.gz"}
# archive folder -> (file, label, allowed ratings), in the order rows are written
_FOLDERS = {
    "train/neg": ("train", 0, range(1, 5)),
    "train/pos": ("train", 1, range(7, 11)),
    "test/neg": ("test", 0, range(1, 5)),
    "test/pos": ("test", 1, range(7, 11)),
    "train/unsup": ("unsup", None, range(0, 1)),
}
_REVIEW_NAME = re.compile(r"(\d+)_(\d+)\.txt")


class Review(NamedTuple):
    id: int
    rating: int
    label: int | None
    text: str


def _review_place(member: tarfile.TarInfo, source: str) -> tuple[str, int, int] | None:
    """(folder, id, rating) of a review member; None for the archive's other files."""
    parts = member.name.removeprefix("./").split("/")
    if member.name.startswith("/") or ".." in parts:
        raise WorkbenchError(
            f"{source}: member {member.name!r} would land outside the archive's folder; "
            f"refusing the archive (fetch the canonical one again)"
        )
    if len(parts) != 4 or parts[0] != "aclImdb" or f"{parts[1]}/{parts[2]}" not in _FOLDERS:
        return None
    folder = f"{parts[1]}/{parts[2]}"
    match = _REVIEW_NAME.fullmatch(parts[3])
    if not member.isfile() or match is None:
        raise WorkbenchError(f"{source}: member {member.name!r}: expected a review file named ID_RATING.txt")
    review_id, rating = int(match.group(1)), int(match.group(2))
    if rating not in _FOLDERS[folder][2]:
        raise WorkbenchError(f"{source}: member {member.name!r}: rating {rating} does not belong in {folder}")
    return folder, review_id, rating


def _read_archive(payload: bytes, source: str) -> dict[str, list[Review]]:
    by_folder: dict[str, list[Review]] = {folder: [] for folder in _FOLDERS}
    try:
        tar = gzip.decompress(payload)  # whole, so that the gzip trailer's CRC and length are checked
        with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
            for member in archive:
                place = _review_place(member, source)
                if place is None:
                    continue
                folder, review_id, rating = place
                data = archive.extractfile(member).read()
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise WorkbenchError(
                        f"{source}: member {member.name!r}: invalid UTF-8 at byte {exc.start}; "
                        f"the archive is not the registered one"
                    ) from None
                by_folder[folder].append(Review(review_id, rating, _FOLDERS[folder][1], text))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise WorkbenchError(f"{source}: not a complete tar.gz archive ({exc}); fetch it again") from None
    for folder, reviews in by_folder.items():
        if not reviews:
            raise WorkbenchError(f"{source}: no reviews in aclImdb/{folder}/; not the aclImdb archive")
        ids = sorted(r.id for r in reviews)
        duplicate = next((a for a, b in zip(ids, ids[1:]) if a == b), None)
        if duplicate is not None:
            raise WorkbenchError(f"{source}: aclImdb/{folder}/ holds review id {duplicate} twice")
    return by_folder


def encode_rows(reviews: list[Review]) -> bytes:
    """The JSON-lines file as gzip bytes: the same rows always give the same bytes."""
    lines = "".join(json.dumps(review._asdict(), ensure_ascii=False) + "\n" for review in reviews)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as stream:
        stream.write(lines.encode("utf-8"))
    return buffer.getvalue()


def build_files(payload: bytes, source: str) -> dict[str, bytes]:
    """{"train": bytes, "test": bytes, "unsup": bytes} from the aclImdb tar.gz (nothing touches the disk)."""
    by_folder = _read_archive(payload, source)
    rows: dict[str, list[Review]] = {split: [] for split in FILES}
    for folder, (split, _, _) in _FOLDERS.items():
        rows[split].extend(sorted(by_folder[folder], key=lambda r: r.id))
    return {split: encode_rows(reviews) for split, reviews in rows.items()}


def _field(record: dict, name: str, kinds, path, line: int):
    if name not in record:
        raise WorkbenchError(f"{where(path, line)}: missing field {name!r}; each line needs id, rating, label and text")
    value = record[name]
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise WorkbenchError(f"{where(path, line)}: field {name!r} is {value!r}, not of the expected type")
    return value


def read_reviews(path, labeled: bool) -> list[Review]:
    """The reviews of one JSON-lines file; a bad line is a one-line error naming file and line.

    `labeled`: every label is 0 or 1 (train, test); else every label is null (unsup)."""
    try:
        with gzip.open(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise WorkbenchError(
            f"{path}: not a complete gzip file ({exc}); delete it and run `workbench data fetch imdb`"
        ) from None
    reviews = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise WorkbenchError(f"{where(path, number)}: invalid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"{where(path, number)}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise WorkbenchError(f"{where(path, number)}: expected a JSON object per line")
        label = _field(record, "label", (int, type(None)), path, number)
        if (label not in (0, 1)) if labeled else (label is not None):
            expected = "0 or 1" if labeled else "null (unlabeled reviews)"
            raise WorkbenchError(f"{where(path, number)}: label {label!r}, expected {expected}")
        reviews.append(
            Review(
                _field(record, "id", int, path, number),
                _field(record, "rating", int, path, number),
                label,
                _field(record, "text", str, path, number),
            )
        )
    if not reviews:
        raise WorkbenchError(f"{path}: no reviews; delete it and run `workbench data fetch imdb`")
    return reviews
