"""A finished comparison run folder, read once into what every part of a report needs."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.data.tasks import TASK_FORMATS
from workbench.experiments.store import read_results
from workbench.metrics import PRIMARY_METRIC
from workbench.report import stats

SPLITS = ("test", "shifted")
FILE_SPECS = (*TASK_FORMATS, "text")  # the FORMAT:PATH specs of tasks and corpora (data.tasks)


def spec_name(spec: str) -> str:
    """A task or corpus as its user would name it: `tsv:/home/me/data/reviews.tsv` is reviews.tsv, a folder spec
    is the folder's name (titles and figures would otherwise repeat a whole absolute path); names are kept."""
    fmt, sep, path = spec.partition(":")
    return (Path(path).name or spec) if sep and fmt in FILE_SPECS else spec


def _read_json(path: Path, warnings: list, required: bool = False):
    if not path.is_file():
        if required:
            warnings.append(f"{path}: missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        warnings.append(f"{path}: not valid JSON ({e}), ignored")
        return None


def load_run(folder) -> dict:
    """Everything a report needs from a run folder (missing optional files become warnings or None)."""
    folder = Path(folder)
    results, warnings = read_results(folder)
    config = _read_json(folder / "config.json", warnings, required=True) or {}
    environment = _read_json(folder / "environment.json", warnings) or {}
    prepared = _read_json(folder / "prepared.json", warnings) or {}
    timings = _read_json(folder / "timings.json", warnings) or {}
    kind = config.get("task_kind")
    metric = config.get("primary_metric") or PRIMARY_METRIC.get(kind)
    if not metric:
        keys = [k for r in results for k in (r.metrics.get("test") or {}) if "[" not in k]
        metric = keys[0] if keys else "accuracy"
    task = config.get("task") or next((r.task for r in results if r.task), "task")
    return {
        "folder": folder,
        "name": folder.resolve().name,
        "results": results,
        "warnings": warnings,
        "config": config,
        "environment": environment,
        "prepared": prepared if isinstance(prepared, dict) else {},
        "timings": timings if isinstance(timings, dict) else {},
        "metric": metric,
        "task": spec_name(str(task)),
        "corpus": spec_name(str(config.get("corpus", "unknown corpus"))),
        "summaries": {s: stats.summarize(results, s, metric) for s in SPLITS},
    }


def pretraining_source(pre: dict | None) -> str:
    """Where a pipeline's pretraining happened, as the report tells it (the one rule its tables and prose
    share): "none" (random weights, counts on the labels), "elsewhere" (vectors or a model the user brought:
    their tokens and FLOPs are not known here) or "here" (the workbench trained it and counted its compute)."""
    if not pre or str(pre.get("method") or "none").startswith("none"):  # "none", "none (random weights)"
        return "none"
    return "here" if pre.get("tokens") or pre.get("flops") else "elsewhere"


def pretraining_of(run, pipeline) -> dict:
    info = (run["prepared"].get(pipeline) or {}) if isinstance(run["prepared"].get(pipeline), dict) else {}
    pre = info.get("pretraining")
    if not isinstance(pre, dict):
        pre = (
            next(
                (
                    r.pretraining
                    for r in run["results"]
                    if r.pipeline == pipeline and isinstance(r.pretraining, dict) and r.kind == "curve"
                ),
                None,
            )
            or {}
        )
    return pre
