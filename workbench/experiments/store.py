"""results.jsonl, a comparison's results: one JSON line per finished point.

This module is the one definition of the format: a point's identity (`Point`), a line
(`PointResult`), appending and reading. Each line is written with one O_APPEND write and
fsync'd, so a crash leaves at worst one partial last line. Reading skips (and warns about) a
corrupted line; its point counts as not done and is recomputed, and no other point is lost.
A point that appears twice is read as its last line. A rerun appends only missing points.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

RESULTS_FILE = "results.jsonl"
REQUIRED_FIELDS = ("pipeline", "n", "seed", "metrics")


class Point(NamedTuple):
    """What a result measured: a later line with the same point replaces an earlier one."""

    kind: str
    pipeline: str
    task: str | None
    n: int
    seed: int
    checkpoint: str | None = None


@dataclass
class PointResult:
    """One line of results.jsonl. Fields that are None are left out of the line.

    SELECTION (pipelines.tuning), `selection` of a point:
    - `dev`: "few" (early stopping, best state and configuration picked on a dev subset of the
      point's size, data.subsets.dev_subset), "full" (on the whole dev split: oracle selection),
      or "none" (a point that trains nothing: zero-shot, in-context);
    - `dev_size`: how many dev examples it selected on (0 for "none"); metrics["dev"] are the
      chosen model's scores on exactly these;
    - `configs` (not for "none"): each configuration tried, in the order of its family's row of
      TUNING_GRID, as what it sets (`lr`; tfidf: `C`) plus its `dev_score` (primary metric);
    - `chosen`: the index in `configs` of the one evaluated on test and shifted test.
    """

    pipeline: str
    n: int
    seed: int
    metrics: dict  # {split: {metric: value}}
    examples: dict | None = None  # {split: how many examples its metrics were computed on}
    task: str | None = None
    kind: str = "curve"  # "curve", or "budget": a pretraining checkpoint fine-tuned at fixed n
    fit: dict | None = None  # how the chosen configuration trained: steps, best dev score, train config
    selection: dict | None = None  # what the point selected on and among (SELECTION below)
    pretraining: dict | None = None  # the representation's pretraining: method, tokens, FLOPs, seconds
    seconds: float | None = None
    checkpoint: str | None = None  # budget points: the checkpoint, its FLOPs and tokens
    budget_flops: float | None = None
    budget_tokens: int | None = None

    @property
    def point(self) -> Point:
        return Point(self.kind, self.pipeline, self.task, self.n, self.seed, self.checkpoint)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, row: dict) -> PointResult:
        """The known fields of a line (keys this version does not know are left out)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in known and v is not None})


def read_results(folder) -> tuple[list[PointResult], list[str]]:
    """Parse `FOLDER/results.jsonl`, never crashing on a bad line.

    A line that is not valid JSON (e.g. half-written when a run was killed), not an object,
    missing one of pipeline/n/seed/metrics, or whose n or seed is not a whole number, is skipped
    with a warning naming file and line. If the same point appears twice, the last line wins
    (also warned). Returns (results in first-seen order, warnings); a missing file gives ([], [warning]).
    """
    path = Path(folder) / RESULTS_FILE
    if not path.is_file():
        return [], [f"{path}: no such file"]
    warnings: list[str] = []
    by_point: dict[Point, PointResult] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                warnings.append(f"{path}:{lineno}: not valid JSON ({e.msg}; a half-written line?), skipped")
                continue
            if not isinstance(row, dict):
                warnings.append(f"{path}:{lineno}: not a JSON object, skipped")
                continue
            missing = [k for k in REQUIRED_FIELDS if k not in row]
            if missing or not isinstance(row.get("metrics"), dict):
                what = ", ".join(missing) if missing else "metrics (not an object)"
                warnings.append(f"{path}:{lineno}: missing {what}, skipped")
                continue
            if not all(isinstance(row[k], int) and not isinstance(row[k], bool) for k in ("n", "seed")):
                warnings.append(f"{path}:{lineno}: n and seed must be whole numbers, skipped")
                continue
            result = PointResult.from_dict(row)
            if result.point in by_point:
                warnings.append(
                    f"{path}:{lineno}: repeats {result.pipeline} n={result.n} seed={result.seed} "
                    f"({result.kind}); the later line is kept"
                )
            by_point[result.point] = result
    return list(by_point.values()), warnings


class ResultStore:
    """A run folder's results file, as the runner uses it: what is done, and one more line."""

    def __init__(self, folder):
        self.path = Path(folder) / RESULTS_FILE

    def read(self) -> tuple[list[PointResult], list[str]]:
        """(results, warnings) as the report reads them; no file yet is no results and no warning."""
        return read_results(self.path.parent) if self.path.exists() else ([], [])

    def done(self) -> set[Point]:
        return {r.point for r in self.read()[0]}

    def append(self, result: PointResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(result.to_dict(), sort_keys=True) + "\n"
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
