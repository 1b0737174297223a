"""Turn a finished comparison run into a self-contained HTML page and its Markdown twin.

The report is built once as a list of blocks (headings, paragraphs, tables, figures) and then
written both as HTML (inline CSS, figures embedded as base64 PNG: one file to mail or archive)
and as Markdown (figures as relative links into figures/). All text is plain text until it is
written, and is escaped there, so a pipeline called `<script>` can never inject markup.

Every sentence of the summary is generated from the measured numbers (who leads at each n, by
how much, whether the CIs overlap, how many labels one pipeline needs to match another, how the
gap moves with n and under shift), so the prose is always about this run.
"""
from __future__ import annotations

import base64
import html
import json
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.experiments.store import RESULTS_FILE, read_results
from workbench.metrics import PRIMARY_METRIC
from workbench.report import plots, stats

SPLITS = ("test", "shifted")
CLOSE = 0.005  # gaps that move less than this are "about the same"


class Report(tuple):
    """(html_path, md_path, warnings), plus .pdf_path (None when no PDF was written) and .notes
    (what was skipped and why, e.g. no PDF engine installed). Unpacks as a 3-tuple."""

    def __new__(cls, html_path, md_path, warnings, pdf_path=None, notes=()):
        self = super().__new__(cls, (html_path, md_path, list(warnings)))
        self.html_path, self.md_path, self.warnings = html_path, md_path, self[2]
        self.pdf_path, self.notes = pdf_path, list(notes)
        return self


# ---------------------------------------------------------------- loading
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
    return {"folder": folder, "name": folder.resolve().name, "results": results, "warnings": warnings,
            "config": config, "environment": environment, "prepared": prepared if isinstance(prepared, dict) else {},
            "timings": timings if isinstance(timings, dict) else {}, "metric": metric, "task": str(task),
            "corpus": str(config.get("corpus", "unknown corpus")),
            "summaries": {s: stats.summarize(results, s, metric) for s in SPLITS}}


# ---------------------------------------------------------------- formatting
def f3(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def fnum(x) -> str:
    """Counts with separators, big or small floats in scientific notation."""
    if x is None or x == "":
        return "none"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e12:
        return f"{int(x):,}"
    return f"{x:.3g}" if abs(x) < 1e5 else f"{x:.2e}"


def fflops(x) -> str:
    """FLOPs always in scientific notation (3.20e+13), "none" when absent."""
    return f"{float(x):.2e}" if isinstance(x, (int, float)) and not isinstance(x, bool) and x else "none"


def flat_items(data: dict):
    """(key, text) rows of a settings table; nested dicts become key.subkey rows."""
    for k, v in data.items():
        if isinstance(v, dict) and v:
            for k2, v2 in v.items():
                yield f"{k}.{k2}", _value_text(v2)
        else:
            yield str(k), _value_text(v)


def fsize(n) -> str:
    return "n/a" if n is None else f"{n:,.0f}"


def cell_stats(e) -> str:
    return f"{f3(e['mean'])} ± {f3(e['sd'])} [{f3(e['ci_low'])}, {f3(e['ci_high'])}]"


def match_cell(m, sizes_a) -> str:
    if m["bound"] == "exact":
        return f"≈ {fsize(m['n'])}"
    if m["bound"] == "at_most":
        return f"≤ {fsize(m['n'])}"
    return f"> {fsize(max(sizes_a))}" if sizes_a else "not measured"


def _value_text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------- prose
def _gap_trend(g0: float, g1: float) -> str:
    if g0 > 0 > g1 or g0 < 0 < g1:
        return "reverses"
    if abs(abs(g1) - abs(g0)) < CLOSE:
        return "stays about the same"
    return "narrows" if abs(g1) < abs(g0) else "widens"


def _pretraining_of(run, pipeline) -> dict:
    info = (run["prepared"].get(pipeline) or {}) if isinstance(run["prepared"].get(pipeline), dict) else {}
    pre = info.get("pretraining")
    if not isinstance(pre, dict):
        pre = next((r.pretraining for r in run["results"] if r.pipeline == pipeline
                    and isinstance(r.pretraining, dict) and r.kind == "curve"), None) or {}
    return pre


def _compute_text(pre: dict) -> str:
    if not pre or not (pre.get("tokens") or pre.get("flops")):
        return "none" + (f" ({pre['method']})" if pre.get("method") else "")
    parts = []
    if pre.get("flops"):
        parts.append(f"{fflops(pre['flops'])} FLOPs")
    if pre.get("tokens"):
        parts.append(f"{fnum(pre['tokens'])} tokens")
    if pre.get("seconds"):
        parts.append(f"{fnum(float(pre['seconds']))} s")
    return ", ".join(parts)


def summary_sentences(run) -> list[str]:
    """The generated summary: every sentence is computed from this run's numbers."""
    metric, test = run["metric"], run["summaries"]["test"]
    out: list[str] = []
    if not test:
        return [f"No test scores for {metric} were found in results.jsonl, so there is nothing to compare yet."]
    sizes = stats.sizes_of(test)
    order = stats.overall_ranking(test)
    for n in sizes:
        ranked = stats.ranking(test, n)
        lead = test[(ranked[0], n)]
        if len(ranked) == 1:
            out.append(f"At n={n} only {ranked[0]} was measured: {f3(lead['mean'])} {metric}.")
            continue
        second = test[(ranked[1], n)]
        overlap = stats.ci_overlap(test, ranked[0], ranked[1], n)
        out.append(f"At n={n}, {ranked[0]} leads with {f3(lead['mean'])} {metric}, "
                   f"{f3(lead['mean'] - second['mean'])} ahead of {ranked[1]} ({f3(second['mean'])}); "
                   + ("their 95% CIs overlap, so this lead is not clearly resolved with "
                      f"{min(lead['k'], second['k'])} seeds." if overlap else "their 95% CIs do not overlap."))
    if len(order) >= 2:
        best, runner = order[0], order[1]
        common = [n for n in sizes if (best, n) in test and (runner, n) in test]
        if len(common) >= 2:
            g0 = test[(best, common[0])]["mean"] - test[(runner, common[0])]["mean"]
            g1 = test[(best, common[-1])]["mean"] - test[(runner, common[-1])]["mean"]
            trend = _gap_trend(g0, g1)
            if trend == "reverses":
                out.append(f"The order of {best} and {runner} reverses with more labels: {best} - {runner} is "
                           f"{g0:+.3f} at n={common[0]} and {g1:+.3f} at n={common[-1]}.")
            else:
                out.append(f"Over all sizes {best} is best and {runner} second; the gap between them "
                           f"{trend} from {g0:+.3f} at n={common[0]} to {g1:+.3f} at n={common[-1]}.")
        curve_best = stats.curve(test, best)
        for other in order[1:]:
            curve_other = stats.curve(test, other)
            n_b = max(curve_other)
            m = stats.labels_to_match(curve_best, curve_other, n_b)
            if m["bound"] == "exact":
                out.append(f"With about {fsize(m['n'])} labels {best} matches what {other} reaches with {n_b} "
                           f"({f3(m['target'])}).")
            elif m["bound"] == "at_most":
                out.append(f"With at most {fsize(m['n'])} labels (its smallest size) {best} already matches what "
                           f"{other} reaches with {n_b} ({f3(m['target'])}).")
            else:
                out.append(f"{best} does not reach {other}'s score with {n_b} labels ({f3(m['target'])}) at any "
                           f"measured size.")
            n_small = min(curve_best)
            back = stats.labels_to_match(curve_other, curve_best, n_small)
            if back["bound"] == "not_reached":
                out.append(f"{other} never reaches {best}'s score with {n_small} labels ({f3(back['target'])}) "
                           f"within its measured sizes (up to {max(curve_other)}).")
            elif back["bound"] == "exact":
                out.append(f"{other} needs about {fsize(back['n'])} labels to match {best} with {n_small}.")
    shifted = run["summaries"]["shifted"]
    if shifted and len(order) >= 2:
        best, runner = order[0], order[1]
        both = [n for n in sizes if all((p, n) in d for p in (best, runner) for d in (test, shifted))]
        if both:
            n = both[-1]
            gt = test[(best, n)]["mean"] - test[(runner, n)]["mean"]
            gs = shifted[(best, n)]["mean"] - shifted[(runner, n)]["mean"]
            word = "larger" if abs(gs) > abs(gt) + CLOSE else "smaller" if abs(gs) < abs(gt) - CLOSE else "about the same"
            out.append(f"On the shifted split at n={n}, {best} - {runner} is {gs:+.3f} against {gt:+.3f} on test: "
                       f"the gap is {word} under shift.")
        drops = [test[k]["mean"] - shifted[k]["mean"] for k in test if k in shifted]
        if drops:
            mean_drop = sum(drops) / len(drops)
            verb = "lose" if mean_drop > 0 else "gain"
            out.append(f"Averaged over pipelines and sizes, scores {verb} {abs(mean_drop):.3f} {metric} from test to "
                       f"shifted.")
        lead_shift = stats.ranking(shifted, max(stats.sizes_of(shifted)))
        lead_test = stats.ranking(test, max(sizes))
        if lead_shift and lead_test and lead_shift[0] != lead_test[0]:
            out.append(f"The leader at the largest size differs: {lead_test[0]} on test, {lead_shift[0]} on shifted.")
    pres = {p: _pretraining_of(run, p) for p in order}
    with_compute = [f"{p}: {_compute_text(pre)}" for p, pre in pres.items()]
    if with_compute:
        out.append("Pretraining compute: " + "; ".join(with_compute) + ".")
    budgets = stats.summarize_budgets(run["results"], "test", metric)
    if budgets:
        hi = max(budgets, key=lambda k: (k[2], k[1]))
        keys = sorted((k for k in budgets if k[:2] == hi[:2]), key=lambda k: k[2])
        lo = keys[0]
        if lo == hi:
            sentence = (f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[hi]['mean'])} after "
                        f"{fflops(hi[2])} FLOPs")
        else:
            sentence = (f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[lo]['mean'])} after "
                        f"{fflops(lo[2])} FLOPs and {f3(budgets[hi]['mean'])} after {fflops(hi[2])} FLOPs")
        statics = [(p, test[(p, hi[1])]["mean"]) for p in order if p != hi[0] and (p, hi[1]) in test]
        if statics:
            ref, ref_score = max(statics, key=lambda x: x[1])
            passing = [k for k in keys if budgets[k]["mean"] > ref_score]
            sentence += (f"; it passes {ref} ({f3(ref_score)}) from {fflops(passing[0][2])} FLOPs on" if passing
                         else f"; it stays below {ref} ({f3(ref_score)}) at every budget")
        out.append(sentence + ".")
    if run["warnings"]:
        out.append(f"{len(run['warnings'])} warning(s) while reading the run (see Warnings).")
    return out


# ---------------------------------------------------------------- blocks
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


def run_blocks(run, fig_dir: Path, fig_prefix: str = "", level: int = 2, pipelines_order=None) -> list:
    """All sections of one run's report (also used per run in a side-by-side comparison)."""
    metric, task, results = run["metric"], run["task"], run["results"]
    sums = run["summaries"]
    test = sums["test"]
    order = stats.overall_ranking(test) if test else stats.pipelines_of(sums["shifted"])
    blocks = [H(level, "Summary"), UL(summary_sentences(run))]
    if run["warnings"]:
        blocks += [H(level, "Warnings"), UL(run["warnings"])]

    curves = plots.plot_curves({s: sums[s] for s in SPLITS}, fig_dir / f"{fig_prefix}curves", task, metric,
                               pipelines=pipelines_order or order)
    blocks.append(H(level, "Data-efficiency curves"))
    if curves:
        blocks += [P(f"{metric} vs number of labeled examples n (log scale), mean over seeds with a shaded 95% CI, "
                     f"for the {' and '.join(s for s in SPLITS if sums[s])} split(s)."),
                   IMG(curves[0], f"{task}: {metric} vs n")]
    else:
        blocks.append(P("No curve results to plot."))

    for split in SPLITS:
        s = sums[split]
        if not s:
            continue
        ns = stats.sizes_of(s)
        rows = []
        for p in [q for q in order if q in stats.pipelines_of(s)] + [q for q in stats.pipelines_of(s) if q not in order]:
            row = [p]
            for n in ns:
                e = s.get((p, n))
                row.append((cell_stats(e), {"data-pipeline": p, "data-n": n, "data-mean": repr(e["mean"]),
                                            "data-k": e["k"]}) if e else "")
            rows.append(row)
        ks = sorted({e["k"] for e in s.values()})
        blocks += [H(level, f"{metric} on the {split} split"),
                   TABLE(["pipeline"] + [f"n={n}" for n in ns], rows,
                         f"mean ± sd [95% t-interval] over {'/'.join(map(str, ks))} seed{'s' if ks != [1] else ''}")]

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
            header = ["pipeline A", "to match B"] + [f"B's size #{i + 1}" for i in range(max(len(stats.sizes_of(test, p))
                                                                                             for p in order))]
            width = len(header)
            rows = [r + [""] * (width - len(r)) for r in rows]
        blocks += [H(level, "Labels to match"),
                   P(f"How many labels pipeline A needs to reach pipeline B's mean test {metric} at each of B's sizes, "
                     "by linear interpolation of A's mean curve in log n. ≈: interpolated; ≤: A already reaches it at "
                     "its smallest size; >: not reached within A's measured sizes."),
                   TABLE(header, rows)]

        rows = []
        for n in stats.sizes_of(test):
            ranked = stats.ranking(test, n)
            for other in ranked[1:]:
                c = stats.paired_comparison(results, ranked[0], other, n, "test", metric)
                rows.append([str(n), ranked[0], other, f"{c['mean_diff']:+.3f}", f3(c["t"]).replace("n/a", "nan"),
                             "nan" if not math.isfinite(c["p"]) else f"{c['p']:.3g}", str(c["k"]),
                             f"{c['wins_a']}/{c['k']}"])
        if rows:
            blocks += [H(level, "Paired comparisons"),
                       P(f"At each n, the leader on test {metric} against each other pipeline, paired over seeds (a "
                         "seed draws the same labeled subset for every pipeline): mean difference, paired t-test (t, "
                         "two-sided p; nan with fewer than 2 seeds or identical differences) and how many seeds the "
                         "leader wins."),
                       TABLE(["n", "leader", "vs", "mean diff", "t", "p", "seeds", "leader wins"], rows)]

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
            phen_blocks += [H(level + 1, f"{split} split"), TABLE(["pipeline", "n"] + keys, rows, "mean ± sd over seeds")]
    if phen_blocks:
        blocks += [H(level, "Accuracy by phenomenon"),
                   P("Scores on slices of the evaluation data (metric[phenomenon]) at the smallest and largest n.")]
        blocks += phen_blocks

    rows = []
    prep_s = run["timings"].get("prepare_seconds") if isinstance(run["timings"].get("prepare_seconds"), dict) else {}
    for p in order + [q for q in run["prepared"] if q not in order]:
        pre = _pretraining_of(run, p)
        info = run["prepared"].get(p) if isinstance(run["prepared"].get(p), dict) else {}
        oov = info.get("oov")
        oov_text = ", ".join(f"{k}: {v:.1%}" if isinstance(v, (int, float)) else f"{k}: {v}" for k, v in oov.items()) \
            if isinstance(oov, dict) else (str(oov) if oov else "")
        rows.append([p, str(pre.get("method") or "none"), fnum(pre.get("tokens")) if pre.get("tokens") else "none",
                     fflops(pre.get("flops")),
                     fnum(float(pre["seconds"])) if pre.get("seconds") else "none",
                     str(info.get("coverage", "")), oov_text, fnum(prep_s.get(p)) if p in prep_s else ""])
    blocks += [H(level, "Pretraining compute"),
               P("Unlabeled-text pretraining behind each pipeline (none: a random-initialised baseline)."),
               TABLE(["pipeline", "method", "tokens", "FLOPs", "seconds", "coverage", "OOV rate", "prepare seconds"],
                     rows)]

    budgets = stats.summarize_budgets(results, "test", metric)
    if budgets:
        budget_pipes = {k[0] for k in budgets}
        n_fixed = max(k[1] for k in budgets)
        static_points = {}
        for p in order:
            if p in budget_pipes or (p, n_fixed) not in test:
                continue
            e = test[(p, n_fixed)]
            static_points[p] = {"flops": _pretraining_of(run, p).get("flops"), "mean": e["mean"],
                                "ci_low": e["ci_low"], "ci_high": e["ci_high"], "n": n_fixed}
        fig = plots.plot_budgets(results, fig_dir / f"{fig_prefix}budgets", metric, static_points, "test", task,
                                 pipelines=pipelines_order or order)
        rows = [[p, e["checkpoint"], fflops(flops), str(n), cell_stats(e), str(e["k"])]
                for (p, n, flops), e in budgets.items()]
        blocks += [H(level, "Score vs pretraining budget"),
                   P(f"Test {metric} at a fixed n for checkpoints taken at increasing pretraining compute; the other "
                     "pipelines are drawn at their own pretraining FLOPs as dotted horizontal lines.")]
        if fig:
            blocks.append(IMG(fig[0], f"{task}: {metric} vs pretraining FLOPs"))
        blocks.append(TABLE(["pipeline", "checkpoint", "FLOPs", "n", "mean ± sd [95% CI]", "seeds"], rows))

    for title, data in (("Configuration", run["config"]), ("Environment", run["environment"]),
                        ("Timings", run["timings"])):
        if data:
            blocks += [H(level, title), TABLE(["key", "value"], [list(kv) for kv in flat_items(data)])]
    return blocks


# ---------------------------------------------------------------- writers
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #444;padding-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}
th,td{border:1px solid #bbb;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eee}tr:nth-child(even) td{background:#fafafa}caption{caption-side:bottom;font-size:.85em;color:#555;
text-align:left;padding-top:.3em}img{max-width:100%;height:auto;border:1px solid #ddd}
.meta{color:#555;font-size:.9em}
"""


def _html_blocks(blocks) -> str:
    e = html.escape
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append(f"<h{b[1]}>{e(str(b[2]))}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{e(str(b[1]))}</p>")
        elif b[0] == "ul":
            out.append("<ul>" + "".join(f"<li>{e(str(x))}</li>" for x in b[1]) + "</ul>")
        elif b[0] == "table":
            _, header, rows, caption = b
            parts = ["<table>"]
            if caption:
                parts.append(f"<caption>{e(caption)}</caption>")
            parts.append("<thead><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr></thead><tbody>")
            for row in rows:
                cells = []
                for c in row:
                    if isinstance(c, tuple):
                        attrs = "".join(f' {k}="{e(str(v))}"' for k, v in c[1].items())
                        cells.append(f"<td{attrs}>{e(str(c[0]))}</td>")
                    else:
                        cells.append(f"<td>{e(str(c))}</td>")
                parts.append("<tr>" + "".join(cells) + "</tr>")
            parts.append("</tbody></table>")
            out.append("".join(parts))
        elif b[0] == "img":
            data = base64.b64encode(Path(b[1]).read_bytes()).decode("ascii")
            out.append(f'<p><img src="data:image/png;base64,{data}" alt="{e(b[2])}"></p>')
    return "\n".join(out)


def _md_text(s) -> str:
    """Plain text for Markdown: raw HTML and table separators escaped."""
    return html.escape(str(s), quote=False).replace("|", "\\|").replace("\n", " ")


def _md_blocks(blocks, base: Path) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append("#" * b[1] + " " + _md_text(b[2]))
        elif b[0] == "p":
            out.append(_md_text(b[1]))
        elif b[0] == "ul":
            out.append("\n".join(f"- {_md_text(x)}" for x in b[1]))
        elif b[0] == "table":
            _, header, rows, caption = b
            lines = ["| " + " | ".join(_md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
            for row in rows:
                lines.append("| " + " | ".join(_md_text(c[0] if isinstance(c, tuple) else c) for c in row) + " |")
            if caption:
                lines += ["", f"*{_md_text(caption)}*"]
            out.append("\n".join(lines))
        elif b[0] == "img":
            png = Path(b[1])
            rel = png.relative_to(base).as_posix() if png.is_relative_to(base) else png.as_posix()
            svg = png.with_suffix(".svg")
            extra = f" ([SVG]({svg.relative_to(base).as_posix()}))" if svg.exists() and svg.is_relative_to(base) else ""
            out.append(f"![{_md_text(b[2])}]({rel}){extra}")
    return "\n\n".join(out) + "\n"


def _html_page(title: str, subtitle: str, blocks) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n<p class=\"meta\">{html.escape(subtitle)}</p>\n"
            f"{_html_blocks(blocks)}\n</body></html>\n")


def _pdf_engine() -> list[str] | None:
    wk = shutil.which("wkhtmltopdf")
    if wk:
        return [wk]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return [exe]
    return None


def write_pdf(html_path: Path) -> tuple[Path | None, str]:
    """report.pdf next to the HTML when wkhtmltopdf or a headless Chromium is installed.
    Returns (path or None, a note saying what happened); never raises."""
    engine = _pdf_engine()
    if engine is None:
        return None, "no PDF engine (wkhtmltopdf or chromium) installed: report.pdf skipped"
    pdf = html_path.with_suffix(".pdf")
    try:
        with tempfile.TemporaryDirectory() as profile:
            if Path(engine[0]).name == "wkhtmltopdf":
                cmd = engine + ["--quiet", str(html_path), str(pdf)]
            else:
                cmd = engine + ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                "--disable-component-update", "--disable-sync", "--no-first-run",
                                f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                html_path.resolve().as_uri()]
            subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"PDF engine {engine[0]} failed ({e}): report.pdf skipped"
    if pdf.is_file() and pdf.stat().st_size > 0:
        return pdf, f"report.pdf written with {Path(engine[0]).name}"
    return None, f"PDF engine {engine[0]} wrote no PDF: report.pdf skipped"


def _finish(out_folder: Path, stem: str, title: str, subtitle: str, blocks, warnings, pdf: bool) -> Report:
    html_path, md_path = out_folder / f"{stem}.html", out_folder / f"{stem}.md"
    html_text = _html_page(title, subtitle, blocks)
    md_text = f"# {_md_text(title)}\n\n{_md_text(subtitle)}\n\n" + _md_blocks(blocks, out_folder)
    for path, text in ((html_path, html_text), (md_path, md_text)):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    notes, pdf_path = [], None
    if pdf:
        pdf_path, note = write_pdf(html_path)
        notes.append(note)
    else:
        notes.append("PDF not requested")
    return Report(html_path, md_path, warnings, pdf_path, notes)


def _require_results(run):
    from workbench.errors import WorkbenchError

    if not run["results"]:
        raise WorkbenchError(f"{run['folder'] / RESULTS_FILE}: no readable results; run "
                             f"`workbench compare --out {run['folder']}` first")


def write_report(folder, pdf: bool = True) -> Report:
    """report.html, report.md (and report.pdf when an engine is installed) + figures/ in the run folder.

    Returns Report(html_path, md_path, warnings) with .pdf_path and .notes.
    """
    folder = Path(folder)
    run = load_run(folder)
    _require_results(run)
    blocks = run_blocks(run, folder / "figures")
    title = f"{run['task']} on {run['corpus']}: data-efficiency report"
    subtitle = (f"run {run['name']} · primary metric {run['metric']} · "
                f"{len(stats.pipelines_of(run['summaries']['test']))} pipelines · {len(run['results'])} results")
    return _finish(folder, "report", title, subtitle, blocks, run["warnings"], pdf)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"


def comparison_sentences(runs) -> list[str]:
    """Generated cross-run prose: each run's leader at its largest n, and shared pipelines' differences."""
    out = []
    for run in runs:
        test = run["summaries"]["test"]
        if test:
            n = max(stats.sizes_of(test))
            lead = stats.ranking(test, n)[0]
            out.append(f"{run['name']} ({run['task']} on {run['corpus']}): {lead} leads at n={n} with "
                       f"{f3(test[(lead, n)]['mean'])} {run['metric']}.")
    first = runs[0]
    for other in runs[1:]:
        if other["metric"] != first["metric"]:
            out.append(f"{first['name']} and {other['name']} use different primary metrics ({first['metric']} vs "
                       f"{other['metric']}): compare their numbers with care.")
        a, b = first["summaries"]["test"], other["summaries"]["test"]
        for p in stats.pipelines_of(a):
            common = sorted(set(stats.sizes_of(a, p)) & set(stats.sizes_of(b, p)))
            if common:
                n = common[-1]
                d = a[(p, n)]["mean"] - b[(p, n)]["mean"]
                out.append(f"{p} at n={n}: {f3(a[(p, n)]['mean'])} in {first['name']} vs {f3(b[(p, n)]['mean'])} in "
                           f"{other['name']} ({d:+.3f}).")
    return out


def write_comparison_report(folders, out_folder, pdf: bool = True) -> Report:
    """Two or more runs side by side in OUT_FOLDER/report.html + report.md: one table of every run's
    test means at each n, then each run's full report sections (figures in OUT_FOLDER/figures)."""
    out_folder = Path(out_folder)
    out_folder.mkdir(parents=True, exist_ok=True)
    runs = [load_run(f) for f in folders]
    for run in runs:
        _require_results(run)
    names = [r["name"] for r in runs]
    if len(set(names)) < len(names):
        for i, r in enumerate(runs):
            r["name"] = f"{r['name']} ({i + 1})"
    warnings = [w for r in runs for w in r["warnings"]]
    sizes = sorted({n for r in runs for n in stats.sizes_of(r["summaries"]["test"])})
    rows = []
    for r in runs:
        test = r["summaries"]["test"]
        for p in stats.overall_ranking(test) if test else []:
            rows.append([r["name"], p] + [(f"{f3(test[(p, n)]['mean'])} ± {f3(test[(p, n)]['sd'])}",
                                           {"data-run": r["name"], "data-pipeline": p, "data-n": n,
                                            "data-mean": repr(test[(p, n)]["mean"])}) if (p, n) in test else ""
                                          for n in sizes])
    blocks = [H(2, "Summary"), UL(comparison_sentences(runs)),
              H(2, "Test means of all runs"),
              TABLE(["run", "pipeline"] + [f"n={n}" for n in sizes], rows,
                    "mean ± sd over seeds of each run's primary metric on the test split")]
    all_pipes = list(dict.fromkeys(p for r in runs for p in stats.overall_ranking(r["summaries"]["test"])))
    for i, run in enumerate(runs):
        blocks.append(H(2, f"Run {run['name']}: {run['task']} on {run['corpus']} ({run['metric']})"))
        blocks += run_blocks(run, out_folder / "figures", f"{i + 1}-{_safe(run['name'])}-", level=3,
                             pipelines_order=all_pipes)
    title = "Comparison: " + " vs ".join(r["name"] for r in runs)
    subtitle = " · ".join(f"{r['name']}: {r['task']} on {r['corpus']}" for r in runs)
    return _finish(out_folder, "report", title, subtitle, blocks, warnings, pdf)
