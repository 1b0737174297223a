"""How a run's points were selected, read from its config (`dev`) and its results lines' `selection`
({"dev": "few" | "full" | "none", "dev_size", "configs": [{setting: value, ..., "dev_score"}], "chosen"}),
and what each pipeline's model pretrained (prepared.json's `parameters`).

Every field is read defensively: runs written before few-shot selection record none of it, and
they selected every point on the whole dev split, so they count as oracle dev selection too.
"""

from __future__ import annotations

from workbench.report import stats
from workbench.report.formatting import fnum

ORACLE = "oracle dev selection"


def selection_of(result) -> dict:
    """A results line's `selection`, or {} where it records none."""
    selection = getattr(result, "selection", None)
    return selection if isinstance(selection, dict) else {}


def oracle(run) -> bool:
    """Whether the run's trained points selected on the whole dev split: its config says dev = "full",
    a point records it, or the run records no dev setting at all (written before few-shot selection)."""
    dev = run["config"].get("dev")
    recorded = [selection_of(r).get("dev") for r in run["results"] if selection_of(r)]
    return dev == "full" or "full" in recorded or (dev is None and not recorded)


def qualified(text: str, run) -> str:
    """`text`, followed by "(oracle dev selection)" for a run that selected on the whole dev split."""
    return f"{text} ({ORACLE})" if oracle(run) else text


def dev_cells(run, pipeline: str, sizes: list[int]) -> list[str]:
    """Per n, which dev the pipeline's points selected on and its size (a range over seeds)."""
    cells = []
    for n in sizes:
        selections = [
            selection_of(r)
            for r in run["results"]
            if r.kind == "curve" and r.pipeline == pipeline and r.n == n and selection_of(r)
        ]
        modes = sorted({str(s.get("dev")) for s in selections})
        dev_sizes = sorted({s["dev_size"] for s in selections if isinstance(s.get("dev_size"), int)})
        if not selections:
            cells.append("not recorded")
        elif modes == ["none"]:
            cells.append("none (no training)")
        else:
            cells.append(f"{'/'.join(modes)}: {_range(dev_sizes)}" if dev_sizes else "/".join(modes))
    return cells


def grid_of(run, pipeline: str) -> dict | None:
    """The configurations the pipeline's trained points tried: {"size": configurations per point (a
    range), "values": {setting: sorted values}, "chosen": {configuration index: points}}; None if unrecorded."""
    tried = [
        selection_of(r)
        for r in run["results"]
        if r.kind == "curve"
        and r.pipeline == pipeline
        and isinstance(selection_of(r).get("configs"), list)
        and selection_of(r)["configs"]
    ]
    if not tried:
        return None
    values: dict[str, set] = {}
    chosen: dict[int, int] = {}
    for selection in tried:
        for config in selection["configs"]:
            for key, value in config.items() if isinstance(config, dict) else ():
                if key != "dev_score" and isinstance(value, (int, float, str)):
                    values.setdefault(key, set()).add(value)
        if isinstance(selection.get("chosen"), int):
            chosen[selection["chosen"]] = chosen.get(selection["chosen"], 0) + 1
    sizes = sorted({len(s["configs"]) for s in tried})
    return {
        "size": sizes,
        "values": {k: sorted(v, key=lambda x: (isinstance(x, str), x)) for k, v in values.items()},
        "chosen": dict(sorted(chosen.items())),
    }


def tuning_line(run) -> str:
    """The tuning budget in one sentence: configurations per trained point, and why that many."""
    grid, choice = run["config"].get("grid"), run["config"].get("grid_choice")
    if not isinstance(grid, int):
        return "Tuning: the run records no grid; each pipeline's configurations are listed below."
    why = " (--grid auto on a CPU)" if choice == "auto" and grid == 1 else ""
    if grid == 1:
        return (
            f"Tuning: every trained point trained one configuration, its family's hand-set recipe{why}; "
            "nothing was tuned. --grid 3 also tries a third and three times each learning rate."
        )
    return (
        f"Tuning: every trained point tried the same {grid} configurations of its family's row "
        "(workbench/pipelines/tuning.py) and kept the best on its dev."
    )


def grid_text(grid: dict | None) -> str:
    if grid is None:
        return "not recorded"
    settings = "; ".join(f"{key} ∈ {{{', '.join(_value(v) for v in vals)}}}" for key, vals in grid["values"].items())
    return f"{_range(grid['size'])} per point" + (f": {settings}" if settings else "")


def chosen_text(grid: dict | None) -> str:
    if not grid or not grid["chosen"]:
        return ""
    return ", ".join(f"#{index + 1}: {count}" for index, count in grid["chosen"].items())


def _range(values: list[int]) -> str:
    """'16' for one value, '14–18' for several (sorted)."""
    return fnum(values[0]) if len(values) == 1 else f"{fnum(values[0])}–{fnum(values[-1])}"


def _value(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def parameters_of(run, pipeline: str) -> dict:
    """prepared.json's parameter counts of the pipeline ({} where the run records none)."""
    info = run["prepared"].get(pipeline)
    counts = info.get("parameters") if isinstance(info, dict) else None
    return counts if isinstance(counts, dict) else {}


def share(part, whole) -> str:
    """A share as a percentage with enough decimals that only exactly 0 or all reads 0% or 100%."""
    if not whole:
        return "n/a"
    pct = 100.0 * part / whole
    for decimals in (0, 1, 2):
        text = f"{pct:.{decimals}f}"
        if 0 < pct < 100 and float(text) in (0.0, 100.0):
            continue
        return text + "%"
    return f"{pct:.3g}%"


def pretrained_text(counts: dict) -> str:
    """'44,100 of 280,134 (16%)'; tf-idf: '0 (not a neural model)'; 'not recorded' for older runs."""
    if not counts:
        return "not recorded"
    if counts.get("total") is None:
        return f"{fnum(counts.get('pretrained', 0))} ({counts.get('note', 'not counted')})"
    return f"{fnum(counts['pretrained'])} of {fnum(counts['total'])} ({share(counts['pretrained'], counts['total'])})"


def from_labels_text(counts: dict) -> str:
    if not counts:
        return "not recorded"
    if counts.get("total") is None:
        return f"all ({counts.get('note', 'not counted')})"
    return f"{fnum(counts['from_labels'])} ({share(counts['from_labels'], counts['total'])})"


def protocol_lines(run) -> list[str]:
    """The report's Protocol section: which dev the points selected on, the tuning grid, the interval,
    and when a difference counts as resolved."""
    dev = run["config"].get("dev")
    if oracle(run):
        why = (
            'the run\'s config says dev = "full"'
            if dev == "full"
            else "the run records no dev setting: it was written before few-shot selection, when every point "
            "selected on the whole dev split"
        )
        lines = [
            f"{ORACLE.capitalize()}: every trained point early-stopped, kept its best state and chose its "
            f"configuration on the whole dev split ({why}), far more labels than the point's n; few-shot "
            "results selected this way are overstated (Perez, Kiela & Cho 2021)."
        ]
    else:
        lines = [
            f"Few-shot dev selection (dev = {dev}): each trained point early-stopped, kept its best state and "
            "chose its configuration on its own dev subset, drawn from the dev split with about as many "
            "examples as its train subset (sizes per point below); points that train nothing use no dev."
        ]
    lines.append(tuning_line(run))
    lines.append(
        f"Intervals: {stats.INTERVAL_METHOD}. A lead, a reversal or a labels-to-match is stated only "
        "where the difference is resolved: 95% intervals apart, or the paired t-test over seeds at "
        f"p < {stats.ALPHA}."
    )
    return lines
