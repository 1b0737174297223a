"""results.jsonl: one JSON line per finished point, appended atomically.

Each line is written with one O_APPEND write and fsync'd, so a crash leaves at worst one
partial last line. Reading skips (and reports) a corrupted line; its point counts as not done
and is recomputed, and no other point is lost. A rerun appends only missing points, so no
point is ever duplicated.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def point_key(record: dict) -> tuple:
    return (record.get("kind", "curve"), record["pipeline"], record["task"], int(record["n"]), int(record["seed"]),
            record.get("checkpoint"))


class ResultStore:
    def __init__(self, folder):
        self.path = Path(folder) / "results.jsonl"

    def read(self) -> tuple[list[dict], list[str]]:
        """(records, warnings): the report's reader, so that the runner and the report agree on
        which lines count (a corrupted line is skipped and warned about; the last of a repeated point wins)."""
        from workbench.report.stats import load_results

        if not self.path.exists():
            return [], []
        return load_results(self.path.parent)

    def done(self) -> set[tuple]:
        return {point_key(r) for r in self.read()[0]}

    def append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size and not self._ends_with_newline():
                line = "\n" + line  # a crash left a partial line: never glue a new record onto it
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
