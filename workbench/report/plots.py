"""Figures of a report: data-efficiency curves and score vs pretraining compute.

Matplotlib with the Agg backend (no display needed). Every pipeline gets its own marker AND
line style, not only a colour, so a grayscale print still tells the lines apart. Each figure is
saved as PNG (dpi 120, embedded in the HTML page) and SVG (for papers and slides).
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: no global backend switch, safe in notebooks
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

from workbench.report import stats  # noqa: E402
from workbench.report.anchors import draw_anchors

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "p"]  # no "h": at 6 pt it reads as "o"
LINESTYLES = [
    "-",
    "--",
    ":",
    "-.",
    (0, (5, 1, 1, 1, 1, 1)),
    (0, (1, 3)),
    (0, (8, 2)),
    (0, (3, 1, 1, 1)),
    (0, (6, 2, 1, 2, 1, 2)),
    (0, (2, 1)),
    (0, (10, 3, 2, 3)),
]
COLORS = [
    "#1b1b1b",
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#7f7f7f",
    "#8c564b",
    "#9467bd",
    "#bcbd22",
]  # 11 of each: a real-text preset draws 9 pipelines, the same style must not come round again
DPI = 120


def style(i: int) -> dict:
    """Marker, line style and colour of the i-th pipeline (distinct in grayscale too)."""
    return {
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "color": COLORS[i % len(COLORS)],
    }


def _label(text) -> str:
    """Data text as a literal matplotlib label: a '$' in a pipeline name must not start mathtext."""
    return str(text).replace("$", r"\$")


def _style_index(pipeline, order: list) -> int:
    if pipeline not in order:
        order.append(pipeline)
    return order.index(pipeline)


def _save(fig, path_stem) -> list[Path]:
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    fig.savefig(paths[0], dpi=DPI, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def _size_ticks(ax, sizes) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(sizes, [str(n) for n in sizes])


def plot_curves(
    summaries_by_split: dict, path_stem, task: str, metric: str, pipelines=None, labels: dict | None = None
) -> list[Path] | None:
    """Score vs number of labels n (log axis), one panel per split side by side.

    summaries_by_split: {split: summary from `stats.summarize`}, e.g. {"test": ..., "shifted": ...};
    empty summaries are left out. Each pipeline: mean markers joined by a line, and a shaded 95% CI
    band over seeds. `pipelines` fixes the order (and so the style) of the lines across figures;
    `labels` gives a pipeline's legend text (default: its name), in one legend below the panels.
    Writes PATH_STEM.png and PATH_STEM.svg; returns their paths, or None when there is nothing to draw.
    """
    panels = [(split, s) for split, s in summaries_by_split.items() if s]
    if not panels:
        return None
    order = list(pipelines) if pipelines else []
    for _, s in panels:
        order += [p for p in stats.pipelines_of(s) if p not in order]
    fig = Figure(figsize=(5.6 * len(panels), 4.2))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)
    for ax, (split, summary) in zip(axes[0], panels):
        for i, pipeline in enumerate(order):
            ns = stats.sizes_of(summary, pipeline)
            if not ns:
                continue
            e = [summary[(pipeline, n)] for n in ns]
            st = style(i)
            ax.fill_between(
                ns, [x["ci_low"] for x in e], [x["ci_high"] for x in e], color=st["color"], alpha=0.15, linewidth=0
            )
            ax.plot(
                ns,
                [x["mean"] for x in e],
                label=_label((labels or {}).get(pipeline, pipeline)),
                marker=st["marker"],
                linestyle=st["linestyle"],
                color=st["color"],
                markersize=6,
                linewidth=1.6,
                markerfacecolor="white",
                markeredgewidth=1.4,
            )
        if split == "test":
            draw_anchors(ax, task, stats.sizes_of(summary))  # published results at full data, where they fall
        _size_ticks(ax, stats.sizes_of(summary))
        ax.set_xlabel("labeled training examples n (log scale)")
        ax.set_title(_label(f"{task}: {split} split"))
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel(_label(f"{metric} (mean over seeds, 95% interval band)"))
    handles, names = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:  # a pipeline measured only on a later panel still gets its entry
        more = [(h, n) for h, n in zip(*ax.get_legend_handles_labels()) if n not in names]
        handles, names = handles + [h for h, _ in more], names + [n for _, n in more]
    fig.tight_layout()
    fig.legend(
        handles,
        names,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        fontsize=8,
        frameon=True,
        ncol=1 if len(panels) == 1 else 2,
    )
    return _save(fig, path_stem)


def plot_budgets(
    results, path_stem, metric: str, static_points, split: str = "test", task: str | None = None, pipelines=None
):
    """Downstream score at a fixed n vs pretraining FLOPs (log x), for the "budget" results.

    Each pretrained pipeline with budget results: mean ± 95% CI over seeds at each checkpoint's
    pretraining FLOPs. `static_points`: {pipeline: {"flops": float | None, "mean", "ci_low", "ci_high",
    "n"}} for the baselines: a point with error bar at its own (small) pretraining FLOPs, a dotted
    horizontal line through it, annotated; without FLOPs (no pretraining) only the annotated line.
    `pipelines` fixes each pipeline's style (same as in `plot_curves` when given the same order).
    Writes PATH_STEM.png/.svg and returns their paths; None when there are no budget results.
    """
    budgets = stats.summarize_budgets(results, split, metric)
    if not budgets:
        return None
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    series: dict[tuple, list] = {}
    for (pipeline, n, flops), e in budgets.items():
        series.setdefault((pipeline, n), []).append((flops, e))
    all_x = [f for (_, _, f) in budgets]
    order = list(pipelines or [])
    for (pipeline, n), points in series.items():
        st = style(_style_index(pipeline, order))
        xs = [f for f, _ in points]
        ys = [e["mean"] for _, e in points]
        err = [[e["mean"] - e["ci_low"] for _, e in points], [e["ci_high"] - e["mean"] for _, e in points]]
        ax.errorbar(
            xs,
            ys,
            yerr=err,
            label=_label(f"{pipeline} (n={n})"),
            marker=st["marker"],
            linestyle=st["linestyle"],
            color=st["color"],
            capsize=3,
            markerfacecolor="white",
            markeredgewidth=1.4,
        )
    static_points = static_points or {}
    all_x += [p["flops"] for p in static_points.values() if p.get("flops")]
    for pipeline, point in static_points.items():
        if point.get("mean") is None or not math.isfinite(point["mean"]):
            continue
        st = style(_style_index(pipeline, order))
        ax.axhline(point["mean"], color=st["color"], linestyle=":", linewidth=1.2)
        flops = point.get("flops")
        n_note = f", n={point['n']}" if point.get("n") is not None else ""
        if flops:
            err = [[point["mean"] - point["ci_low"]], [point["ci_high"] - point["mean"]]]
            ax.errorbar(
                [flops],
                [point["mean"]],
                yerr=err,
                marker=st["marker"],
                color=st["color"],
                capsize=3,
                linestyle="none",
                markerfacecolor="white",
                markeredgewidth=1.4,
            )
            ax.annotate(
                _label(f"{pipeline}{n_note}"),
                (flops, point["mean"]),
                textcoords="offset points",
                xytext=(4, 5),
                fontsize=8,
                color=st["color"],
            )
        else:
            ax.annotate(
                _label(f"{pipeline}{n_note} (no pretraining)"),
                (0.01, point["mean"]),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(0, 4),
                fontsize=8,
                color=st["color"],
            )
    ax.set_xscale("log")
    if all_x:
        ax.set_xlim(min(all_x) / 3, max(all_x) * 3)
    ax.set_xlabel("pretraining compute (FLOPs, log scale)")
    ax.set_ylabel(_label(f"{metric} on {split} (mean, 95% CI)"))
    ax.set_title(_label(f"{task + ': ' if task else ''}score vs pretraining compute"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path_stem)
