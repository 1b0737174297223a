"""The report as a list of blocks (headings, paragraphs, lists, tables, figures), built once and
then written as HTML and Markdown by `report.writers`. All text in a block is plain text; the
writers escape it, so a pipeline called `<script>` can never inject markup.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from workbench.report import plots, protocol, stats
from workbench.report.anchors import anchors_for
from workbench.report.formatting import cell_stats, f3, fflops, flat_items, fnum, match_cell
from workbench.report.loading import SPLITS, pretraining_of, pretraining_source
from workbench.report.prose import comparison_sentences, summary_sentences


def H(level, text):
    return ("h", level, text)


def P(text):
    return ("p", text)


def UL(items):
    return ("ul", list(items))


def TABLE(header, rows, caption=None):
    """rows: lists of cells; a cell is text or (text, {data-attribute: value})."""
    return ("table", list(header), [list(r) for r in rows], caption)


def IMG(png: Path, alt: str):
    return ("img", Path(png), alt)


def legend_text(run, pipeline: str) -> str:
    """A pipeline's figure legend: its weights pretrained (count and share) beside its pretraining tokens and FLOPs."""
    counts, pre = protocol.parameters_of(run, pipeline), pretraining_of(run, pipeline)
    if not counts:
        weights = "weights pretrained not recorded"
    elif counts.get("total") is None:
        weights = f"nothing pretrained ({counts.get('note', 'not counted')})"
    else:
        weights = f"{protocol.pretrained_text(counts)} weights pretrained"
    if not (pre.get("tokens") or pre.get("flops")):
        return f"{pipeline}: {weights}, no pretraining text"
    tokens = f"{fnum(pre['tokens'])} tokens, " if pre.get("tokens") else ""
    return f"{pipeline}: {weights}, {tokens}{fflops(pre.get('flops'))} FLOPs"


def protocol_blocks(run, level: int, order: list[str]) -> list:
    """Which dev each point selected on and its size, the configurations each pipeline tried, the interval."""
    blocks = [H(level, "Protocol")] + [P(line) for line in protocol.protocol_lines(run)]
    sizes = stats.sizes_of(run["summaries"]["test"]) or stats.sizes_of(run["summaries"]["shifted"])
    if sizes:
        blocks.append(
            TABLE(
                ["pipeline"] + [f"n={n}" for n in sizes],
                [[p] + protocol.dev_cells(run, p, sizes) for p in order],
                "the dev each point selected on (few: its own subset; full: the whole dev split; none: "
                "no training) and its size, over seeds",
            )
        )
    grids = {p: protocol.grid_of(run, p) for p in order}
    blocks.append(
        TABLE(
            ["pipeline", "configurations tried", "chosen (configuration: points)"],
            [[p, protocol.grid_text(grids[p]), protocol.chosen_text(grids[p])] for p in order],
            "the tuning grid: every configuration a trained point tried, each selected on its dev",
        )
    )
    return blocks


def corpus_text(pretraining: dict, corpus: str) -> str:
    """The unlabeled text a pipeline's pretraining read: the run's corpus (with its size), none, or not
    known for vectors or a model made elsewhere (a file the user brought, a transformers checkpoint)."""
    source = pretraining_source(pretraining)
    if source != "here":
        return "none" if source == "none" else "not known (made elsewhere)"
    size = pretraining.get("corpus_tokens")
    return f"{corpus} ({fnum(size)} tokens)" if size else corpus


def run_blocks(run, fig_dir: Path, fig_prefix: str = "", level: int = 2, pipelines_order=None) -> list:
    """All sections of one run's report (also used per run in a side-by-side comparison)."""
    metric, task, results = run["metric"], run["task"], run["results"]
    sums = run["summaries"]
    test = sums["test"]
    order = stats.overall_ranking(test) if test else stats.pipelines_of(sums["shifted"])
    legend = {p: legend_text(run, p) for p in dict.fromkeys(list(pipelines_order or []) + order)}
    curves = plots.plot_curves(
        {s: sums[s] for s in SPLITS},
        fig_dir / f"{fig_prefix}curves",
        protocol.qualified(task, run),
        metric,
        pipelines=pipelines_order or order,
        labels=legend,
    )
    blocks = [H(level, "Data-efficiency curves")]  # the result first: on the PDF's first page, under the title
    if curves:
        blocks += [
            P(
                protocol.qualified(
                    f"{metric} vs number of labeled examples n (log scale), mean over seeds with a shaded 95% "
                    f"interval ({stats.INTERVAL_METHOD}), for the {' and '.join(s for s in SPLITS if sums[s])} "
                    "split(s); the legend gives each model's share of weights pretrained and its pretraining "
                    "tokens and FLOPs",
                    run,
                )
                + "."
            ),
            IMG(curves[0], f"{task}: {metric} vs n"),
        ]
        if anchors_for(task):
            blocks += [
                P("Known results on this task (stars on the test panel, where they fall on its axes):"),
                UL(anchor.sentence() for anchor in anchors_for(task)),
            ]
    else:
        blocks.append(P("No curve results to plot."))
    blocks += [H(level, "Summary"), UL(summary_sentences(run))]
    if run["warnings"]:
        blocks += [H(level, "Warnings"), UL(run["warnings"])]
    blocks += protocol_blocks(run, level, order)

    for split in SPLITS:
        s = sums[split]
        if not s:
            continue
        ns = stats.sizes_of(s)
        rows = []
        measured = stats.pipelines_of(s)
        for p in [q for q in order if q in measured] + [q for q in measured if q not in order]:
            row = [p]
            for n in ns:
                e = s.get((p, n))
                row.append(
                    (cell_stats(e), {"data-pipeline": p, "data-n": n, "data-mean": repr(e["mean"]), "data-k": e["k"]})
                    if e
                    else ""
                )
            rows.append(row)
        ks = sorted({e["k"] for e in s.values()})
        blocks += [
            H(level, f"{metric} on the {split} split"),
            TABLE(
                ["pipeline"] + [f"n={n}" for n in ns],
                rows,
                protocol.qualified(
                    f"mean ± sd [{stats.INTERVAL_METHOD}] over {'/'.join(map(str, ks))} seed{'s' if ks != [1] else ''}",
                    run,
                ),
            ),
        ]

    if test and len(order) >= 2:
        rows = []
        ns = stats.sizes_of(test)
        ragged = not all(set(stats.sizes_of(test, p)) == set(ns) for p in order)
        for b in order:
            cb = stats.curve(test, b)
            for a in order:
                if a == b:
                    continue
                ca = stats.curve(test, a)
                rows.append([a, b] + [match_cell(stats.labels_to_match(ca, cb, n), list(ca)) for n in cb])
                if ragged:
                    rows[-1][2:] = [f"B at n={n}: {c}" for n, c in zip(cb, rows[-1][2:])]
        if not ragged:
            header = ["pipeline A", "to match B"] + [f"B at n={n}" for n in ns]
        else:
            most = max(len(stats.sizes_of(test, p)) for p in order)
            header = ["pipeline A", "to match B"] + [f"B's size #{i + 1}" for i in range(most)]
            width = len(header)
            rows = [r + [""] * (width - len(r)) for r in rows]
        blocks += [
            H(level, "Labels to match"),
            P(
                protocol.qualified(
                    f"How many labels pipeline A needs to reach pipeline B's mean test {metric} at each of B's "
                    "sizes, by linear interpolation of A's mean curve in log n. ≈: interpolated; ≤: A already "
                    "reaches it at its smallest size; >: not reached within A's measured sizes. The table shows "
                    "every pair; the summary states one only where the curves separate",
                    run,
                )
                + "."
            ),
            TABLE(header, rows),
        ]

        rows = []
        for n in stats.sizes_of(test):
            ranked = stats.ranking(test, n)
            for other in ranked[1:]:
                c = stats.paired_comparison(results, ranked[0], other, n, "test", metric)
                rows.append(
                    [
                        str(n),
                        ranked[0],
                        other,
                        f"{c['mean_diff']:+.3f}",
                        f3(c["t"]).replace("n/a", "nan"),
                        "nan" if not math.isfinite(c["p"]) else f"{c['p']:.3g}",
                        str(c["k"]),
                        f"{c['wins_a']}/{c['k']}",
                    ]
                )
        if rows:
            blocks += [
                H(level, "Paired comparisons"),
                P(
                    protocol.qualified(
                        f"At each n, the highest mean on test {metric} against each other pipeline, paired over "
                        "seeds (a seed draws the same labeled subset for every pipeline): mean difference, paired "
                        "t-test (t, two-sided p; nan with fewer than 2 seeds or identical differences; resolved "
                        f"below {stats.ALPHA}) and how many seeds the leader wins",
                        run,
                    )
                    + "."
                ),
                TABLE(["n", "leader", "vs", "mean diff", "t", "p", "seeds", "leader wins"], rows),
            ]

    phen_blocks = []
    for split in SPLITS:
        keys = stats.phenomenon_metrics(results, split)
        s_all = {k: stats.summarize(results, split, k) for k in keys}
        ns = stats.sizes_of(sums[split]) if sums[split] else []
        if not keys or not ns:
            continue
        picks = sorted({ns[0], ns[-1]})
        rows = []
        for p in order:
            for n in picks:
                cells = []
                for k in keys:
                    e = s_all[k].get((p, n))
                    cells.append(f"{f3(e['mean'])} ± {f3(e['sd'])}" if e else "")
                if any(cells):
                    rows.append([p, str(n)] + cells)
        if rows:
            phen_blocks += [
                H(level + 1, f"{split} split"),
                TABLE(["pipeline", "n"] + keys, rows, protocol.qualified("mean ± sd over seeds", run)),
            ]
    if phen_blocks:
        blocks += [
            H(level, "Accuracy by phenomenon"),
            P("Scores on slices of the evaluation data (metric[phenomenon]) at the smallest and largest n."),
        ]
        blocks += phen_blocks

    rows = []
    prep_s = run["timings"].get("prepare_seconds") if isinstance(run["timings"].get("prepare_seconds"), dict) else {}
    for p in order + [q for q in run["prepared"] if q not in order]:
        pre = pretraining_of(run, p)
        info = run["prepared"].get(p) if isinstance(run["prepared"].get(p), dict) else {}
        oov = info.get("oov")
        oov_text = (
            ", ".join(f"{k}: {v:.1%}" if isinstance(v, (int, float)) else f"{k}: {v}" for k, v in oov.items())
            if isinstance(oov, dict)
            else (str(oov) if oov else "")
        )
        counts = protocol.parameters_of(run, p)
        rows.append(
            [
                p,
                str(pre.get("method") or "none"),
                corpus_text(pre, run["corpus"]),
                fnum(pre.get("tokens")) if pre.get("tokens") else "none",
                fflops(pre.get("flops")),
                protocol.pretrained_text(counts),
                protocol.from_labels_text(counts),
                fnum(float(pre["seconds"])) if pre.get("seconds") else "none",
                str(info.get("coverage", "")),
                oov_text,
                fnum(prep_s.get(p)) if p in prep_s else "",
            ]
        )
    blocks += [
        H(level, "Pretraining compute"),
        P(
            "Unlabeled-text pretraining behind each pipeline (none: a random-initialised baseline), and how "
            "much of each model it supplied: the parameters that come pretrained and those learned from the "
            "labels only (counted on the model a point starts from)."
        ),
        TABLE(
            [
                "pipeline",
                "method",
                "corpus",
                "tokens",
                "FLOPs",
                "weights pretrained",
                "weights from labels only",
                "seconds",
                "coverage",
                "OOV rate",
                "prepare seconds",
            ],
            rows,
        ),
    ]

    budgets = stats.summarize_budgets(results, "test", metric)
    if budgets:
        budget_pipes = {k[0] for k in budgets}
        n_fixed = max(k[1] for k in budgets)
        static_points = {}
        for p in order:
            if p in budget_pipes or (p, n_fixed) not in test:
                continue
            e = test[(p, n_fixed)]
            static_points[p] = {
                "flops": pretraining_of(run, p).get("flops"),
                "mean": e["mean"],
                "ci_low": e["ci_low"],
                "ci_high": e["ci_high"],
                "n": n_fixed,
            }
        fig = plots.plot_budgets(
            results,
            fig_dir / f"{fig_prefix}budgets",
            metric,
            static_points,
            "test",
            protocol.qualified(task, run),
            pipelines=pipelines_order or order,
        )
        rows = [
            [p, e["checkpoint"], fflops(flops), str(n), cell_stats(e), str(e["k"])]
            for (p, n, flops), e in budgets.items()
        ]
        blocks += [
            H(level, "Score vs pretraining budget"),
            P(
                protocol.qualified(
                    f"Test {metric} at a fixed n for checkpoints taken at increasing pretraining compute; the other "
                    "pipelines are drawn at their own pretraining FLOPs as dotted horizontal lines",
                    run,
                )
                + "."
            ),
        ]
        if fig:
            blocks.append(IMG(fig[0], f"{task}: {metric} vs pretraining FLOPs"))
        blocks.append(
            TABLE(
                ["pipeline", "checkpoint", "FLOPs", "n", "mean ± sd [95% interval]", "seeds"],
                rows,
                protocol.qualified(stats.INTERVAL_METHOD, run),
            )
        )

    for title, data in (
        ("Configuration", run["config"]),
        ("Environment", run["environment"]),
        ("Timings", run["timings"]),
    ):
        if data:
            blocks += [H(level, title), TABLE(["key", "value"], [list(kv) for kv in flat_items(data)])]
    return blocks


def comparison_blocks(runs, fig_dir: Path) -> list:
    """Two or more runs side by side: one table of every run's test means at each n, then each
    run's full sections (figures in FIG_DIR)."""
    sizes = sorted({n for r in runs for n in stats.sizes_of(r["summaries"]["test"])})
    rows = []
    for r in runs:
        test = r["summaries"]["test"]
        for p in stats.overall_ranking(test) if test else []:
            cells = [
                (
                    f"{f3(test[(p, n)]['mean'])} ± {f3(test[(p, n)]['sd'])}",
                    {"data-run": r["name"], "data-pipeline": p, "data-n": n, "data-mean": repr(test[(p, n)]["mean"])},
                )
                if (p, n) in test
                else ""
                for n in sizes
            ]
            rows.append([protocol.qualified(r["name"], r), p] + cells)
    blocks = [
        H(2, "Summary"),
        UL(comparison_sentences(runs)),
        H(2, "Test means of all runs"),
        TABLE(
            ["run", "pipeline"] + [f"n={n}" for n in sizes],
            rows,
            "mean ± sd over seeds of each run's primary metric on the test split",
        ),
    ]
    all_pipes = list(dict.fromkeys(p for r in runs for p in stats.overall_ranking(r["summaries"]["test"])))
    for i, run in enumerate(runs):
        blocks.append(
            H(2, protocol.qualified(f"Run {run['name']}: {run['task']} on {run['corpus']} ({run['metric']})", run))
        )
        blocks += run_blocks(run, fig_dir, f"{i + 1}-{_safe(run['name'])}-", level=3, pipelines_order=all_pipes)
    return blocks


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"
