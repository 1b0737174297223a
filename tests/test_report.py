"""workbench.report: statistics against numpy/scipy, and the rendered HTML/Markdown pages."""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import re
import warnings as pywarnings
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from workbench.cli import report as report_command
from workbench.errors import WorkbenchError
from workbench.experiments.store import PointResult, read_results
from workbench.report import render, stats
from workbench.report.document import legend_text
from workbench.report.formatting import cell_stats
from workbench.report.loading import load_run
from workbench.report.prose import summary_sentences
from workbench.report.protocol import ORACLE
from workbench.report.protocol import tuning_line as protocol_tuning_line

EVIL = "<script>alert(1)</script>"
PIPELINES = ["word2vec+lstm", "bert-tiny", EVIL]
SIZES = [16, 64, 256]
SEEDS = [0, 1, 2]
BASE = {"word2vec+lstm": 0.55, "bert-tiny": 0.70, EVIL: 0.45}
PHENOMENA = ["negation", "intensifier"]
PARAMETERS = {
    "bert-tiny": {"total": 486_274, "pretrained": 486_016, "from_labels": 258},
    "word2vec+lstm": {"total": 280_134, "pretrained": 44_100, "from_labels": 236_034},
    "random": {"total": 280_134, "pretrained": 0, "from_labels": 280_134},
}


def make_run(
    folder: Path, base=None, seed: int = 0, budgets: bool = True, corrupt: bool = True, dev: str | None = "few"
) -> dict:
    """A synthetic comparison run folder; returns {(pipeline, n, seed): {split: {metric: value}}} as kept
    (the duplicate's later value), the reference for every check. `dev`: the config's dev selection
    ("few", "full", or None: a run written before the setting existed)."""
    base = dict(BASE if base is None else base)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "task": "micro-sentiment",
                "task_kind": "classification",
                "corpus": "microworld",
                "pipelines": list(base),
                "sizes": SIZES,
                "seeds": SEEDS,
                "primary_metric": "accuracy",
                "note": "<b>bold</b>",
                **({"dev": dev} if dev else {}),
            }
        )
    )
    (folder / "environment.json").write_text(
        json.dumps({"python": "3.11.2", "torch": "2.4.0", "cpu_count": 2, "git_revision": "abc123+dirty"})
    )
    prepared = {}
    for p in base:
        if p == "bert-tiny":
            pre = {"method": "mlm", "tokens": 1_000_000, "flops": 3.2e13, "seconds": 41.5}
        elif p == "word2vec+lstm":
            pre = {"method": "word2vec", "tokens": 200_000, "flops": 2.0e10, "seconds": 3.0}
        else:
            pre = {"method": "random", "tokens": None, "flops": None, "seconds": None}
        prepared[p] = {
            "pretraining": pre,
            "coverage": "97% of task types",
            "oov": {"test": 0.03, "shifted": 0.08},
            "parameters": PARAMETERS.get(p, PARAMETERS["random"]),
        }
    (folder / "prepared.json").write_text(json.dumps(prepared))
    (folder / "timings.json").write_text(json.dumps({"prepare_seconds": {p: 1.5 for p in base}, "total_seconds": 99.0}))
    kept, lines = {}, []
    for p in base:
        for n in SIZES:
            for s in SEEDS:
                growth = 0.06 * math.log2(n / 16)
                test = float(np.clip(base[p] + growth + rng.normal(0, 0.02), 0, 1))
                shifted = float(np.clip(test - 0.05 - (0.04 if p != "bert-tiny" else 0) + rng.normal(0, 0.02), 0, 1))
                m = {
                    "test": {"accuracy": test, "macro_f1": test - 0.01},
                    "shifted": {"accuracy": shifted},
                    "dev": {"accuracy": test + 0.01},
                }
                for ph in PHENOMENA:
                    m["test"][f"accuracy[{ph}]"] = float(np.clip(test - 0.1 + rng.normal(0, 0.05), 0, 1))
                    m["shifted"][f"accuracy[{ph}]"] = float(np.clip(shifted - 0.1 + rng.normal(0, 0.05), 0, 1))
                kept[(p, n, s)] = m
                lines.append(
                    {
                        "pipeline": p,
                        "task": "micro-sentiment",
                        "n": n,
                        "seed": s,
                        "kind": "curve",
                        "metrics": m,
                        "seconds": 1.0,
                        "pretraining": prepared[p]["pretraining"],
                    }
                )
                if dev:
                    lines[-1]["selection"] = {
                        "dev": dev,
                        "dev_size": n if dev == "few" else 500,
                        "chosen": s % 3,
                        "configs": [{"lr": lr, "dev_score": test} for lr in (2e-3, 6.7e-4, 6e-3)],
                    }
    # a duplicate point: an earlier, different value that the later line must replace
    first = dict(lines[0], metrics={"test": {"accuracy": 0.0}, "shifted": {"accuracy": 0.0}})
    lines.insert(0, first)
    if budgets:
        for flops in (1e11, 1e12, 1e13):
            for s in SEEDS:
                acc = float(0.5 + 0.05 * math.log10(flops / 1e11) + rng.normal(0, 0.01))
                lines.append(
                    {
                        "pipeline": "bert-tiny",
                        "task": "micro-sentiment",
                        "n": 64,
                        "seed": s,
                        "kind": "budget",
                        "checkpoint": f"step-{int(flops // 1e9)}",
                        "budget_flops": flops,
                        "metrics": {"test": {"accuracy": acc}},
                        "seconds": 1.0,
                    }
                )
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    if corrupt:
        half = json.dumps(lines[5])[:40]
        text += half + "\n"  # a half-written last line
    (folder / "results.jsonl").write_text(text)
    return kept


def ref_mean(kept, p, n, split="test", metric="accuracy"):
    return float(np.mean([kept[(p, n, s)][split][metric] for s in SEEDS]))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "micro"
    kept = make_run(folder)
    report = render.write_report(folder, pdf=False)
    return folder, kept, report


# ---------------------------------------------------------------- stats
def test_read_results_skips_corrupted_and_keeps_last(run_dir):
    folder, kept, _ = run_dir
    results, warns = read_results(folder)
    curve = [r for r in results if r.kind == "curve"]
    assert len(curve) == len(kept) and len([r for r in results if r.kind == "budget"]) == 9
    last_line = len((folder / "results.jsonl").read_text().splitlines())
    assert any(f"results.jsonl:{last_line}: not valid JSON" in w for w in warns)
    assert any("repeats" in w and "later line is kept" in w for w in warns)
    r0 = next(r for r in curve if (r.pipeline, r.n, r.seed) == (PIPELINES[0], 16, 0))
    assert r0.metrics["test"]["accuracy"] == kept[(PIPELINES[0], 16, 0)]["test"]["accuracy"]


def test_read_results_missing_file(tmp_path):
    results, warns = read_results(tmp_path)
    assert results == [] and "no such file" in warns[0]


def test_summarize_matches_numpy_scipy(run_dir):
    folder, kept, _ = run_dir
    results, _ = read_results(folder)
    for split in ("test", "shifted"):
        summary = stats.summarize(results, split, "accuracy")
        assert set(summary) == {(p, n) for p in PIPELINES for n in SIZES}
        for (p, n), e in summary.items():
            x = np.array([kept[(p, n, s)][split]["accuracy"] for s in SEEDS])
            half = st.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
            assert e["k"] == 3
            assert e["mean"] == pytest.approx(x.mean(), abs=1e-12)
            assert e["sd"] == pytest.approx(x.std(ddof=1), abs=1e-12)
            assert e["ci_low"] == pytest.approx(x.mean() - half, abs=1e-12)
            assert e["ci_high"] == pytest.approx(x.mean() + half, abs=1e-12)


def test_interval_random_and_degenerate():
    rng = np.random.default_rng(5)
    for k in (2, 3, 7):
        x = rng.uniform(0.45, 0.55, size=k)  # far from the bounds: without a set size, the plain t-interval
        e = stats.interval(x)
        lo, hi = st.t.interval(0.95, k - 1, loc=x.mean(), scale=st.sem(x))
        assert (e["ci_low"], e["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    one = stats.interval([0.7])
    assert {k: one[k] for k in ("mean", "sd", "ci_low", "ci_high", "k")} == {
        "mean": 0.7,
        "sd": 0.0,
        "ci_low": 0.7,
        "ci_high": 0.7,
        "k": 1,
    }
    for score in (0.482, 0.501, 0.733):  # seeds that agree: the logit round trip must not cut the mean out
        same = stats.interval([score] * 3, n_examples=1000)
        assert same["ci_low"] <= same["mean"] <= same["ci_high"] and same["ci_high"] - same["ci_low"] < 1e-12


def test_labels_to_match_hand_made():
    a = {16: 0.5, 64: 0.7, 256: 0.9}
    b = {16: 0.6, 64: 0.8, 256: 0.95}
    m = stats.labels_to_match(a, b, 64)  # 0.8 is halfway between 64 and 256 in log n -> 128
    assert m["bound"] == "exact" and m["n"] == pytest.approx(128.0) and m["target"] == 0.8
    assert stats.labels_to_match(a, b, 16)["n"] == pytest.approx(32.0)  # 0.6 halfway 16..64
    assert stats.labels_to_match(a, b, 256) == {"n": None, "bound": "not_reached", "target": 0.95}
    assert stats.labels_to_match(b, a, 16) == {"n": 16.0, "bound": "at_most", "target": 0.5}
    assert stats.labels_to_match(a, {64: 0.7}, 64) == {"n": 64.0, "bound": "exact", "target": 0.7}
    # summary entries work as curve values too
    assert stats.labels_to_match({n: {"mean": v} for n, v in a.items()}, b, 64)["n"] == pytest.approx(128.0)


def test_labels_to_match_random_vs_np_interp():
    rng = np.random.default_rng(1)
    sizes = [16, 64, 256, 1024]
    for _ in range(50):
        ys = np.sort(rng.uniform(0.3, 0.9, size=4))
        target = rng.uniform(ys[0] + 1e-6, ys[-1])
        m = stats.labels_to_match(dict(zip(sizes, ys)), {100: target}, 100)
        assert m["bound"] == "exact"
        assert m["n"] == pytest.approx(np.exp(np.interp(target, ys, np.log(sizes))), rel=1e-9)


def test_paired_comparison_matches_ttest_rel(run_dir):
    folder, kept, _ = run_dir
    results, _ = read_results(folder)
    for n in SIZES:
        a = np.array([kept[("bert-tiny", n, s)]["test"]["accuracy"] for s in SEEDS])
        b = np.array([kept[("word2vec+lstm", n, s)]["test"]["accuracy"] for s in SEEDS])
        c = stats.paired_comparison(results, "bert-tiny", "word2vec+lstm", n, "test", "accuracy")
        ref = st.ttest_rel(a, b)
        assert c["k"] == 3 and c["mean_diff"] == pytest.approx((a - b).mean(), abs=1e-12)
        assert c["t"] == pytest.approx(ref.statistic, rel=1e-9) and c["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert c["wins_a"] == int((a > b).sum())
    rng = np.random.default_rng(2)
    for k in (2, 4, 9):
        a, b = rng.normal(size=k), rng.normal(size=k)
        res = [PointResult("A", 8, i, {"test": {"m": a[i]}}) for i in range(k)]
        res += [PointResult("B", 8, i, {"test": {"m": b[i]}}) for i in range(k)]
        c = stats.paired_comparison(res, "A", "B", 8, "test", "m")
        ref = st.ttest_rel(a, b)
        assert c["t"] == pytest.approx(ref.statistic, rel=1e-9) and c["p"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_paired_comparison_degenerate_without_warnings():
    one = [PointResult(p, 8, 0, {"test": {"m": v}}) for p, v in (("A", 0.6), ("B", 0.5))]
    same = [PointResult(p, 8, s, {"test": {"m": v + s}}) for s in range(3) for p, v in (("A", 0.6), ("B", 0.5))]
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("error")
        c1 = stats.paired_comparison(one, "A", "B", 8, "test", "m")
        c2 = stats.paired_comparison(same, "A", "B", 8, "test", "m")
        c0 = stats.paired_comparison(one, "A", "C", 8, "test", "m")
    assert c1["k"] == 1 and math.isnan(c1["p"]) and c1["mean_diff"] == pytest.approx(0.1)
    assert c2["k"] == 3 and math.isnan(c2["p"]) and math.isnan(c2["t"]) and c2["wins_a"] == 3
    assert c0["k"] == 0 and math.isnan(c0["mean_diff"])


def test_ci_overlap():
    s = {
        ("a", 1): {"ci_low": 0.1, "ci_high": 0.3},
        ("b", 1): {"ci_low": 0.3, "ci_high": 0.5},
        ("c", 1): {"ci_low": 0.31, "ci_high": 0.5},
    }
    assert stats.ci_overlap(s, "a", "b", 1) and stats.ci_overlap(s, "b", "a", 1)
    assert not stats.ci_overlap(s, "a", "c", 1) and stats.ci_overlap(s, "b", "c", 1)


# ---------------------------------------------------------------- rendered report
def _table_means(text: str) -> dict:
    """(pipeline, n) -> data-mean of the first (test) table's cells in the HTML."""
    out = {}
    for m in re.finditer(
        r'<td data-pipeline="([^"]*)" data-n="(\d+)" data-mean="([^"]*)" data-k="\d+">([^<]*)</td>', text
    ):
        key = (html.unescape(m.group(1)), int(m.group(2)))
        out.setdefault(key, (float(m.group(3)), html.unescape(m.group(4))))
    return out


def test_html_report(run_dir):
    folder, kept, report = run_dir
    html_path, md_path, warns = report
    assert html_path == folder / "report.html" and html_path.is_file()
    text = html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in text
    assert "micro-sentiment" in text and "microworld" in text
    assert EVIL not in text and html.escape(EVIL) in text and "<b>bold</b>" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # self-contained
    means = _table_means(text)
    for p in PIPELINES:
        for n in SIZES:
            value, shown = means[(p, n)]
            assert value == pytest.approx(ref_mean(kept, p, n), abs=1e-12)
            assert shown.startswith(f"{ref_mean(kept, p, n):.3f} ± ")
    for section in (
        "Labels to match",
        "Paired comparisons",
        "Accuracy by phenomenon",
        "accuracy[negation]",
        "Pretraining compute",
        "Score vs pretraining budget",
        "Configuration",
        "Environment",
        "Timings",
        "abc123+dirty",
        "Warnings",
        "not valid JSON",
    ):
        assert section in text, section
    assert text.count("data:image/png;base64,") == 2  # curves + budgets
    assert any("not valid JSON" in w for w in warns)
    assert (folder / "figures" / "curves.png").is_file() and (folder / "figures" / "curves.svg").is_file()
    assert (folder / "figures" / "budgets.svg").is_file()
    assert "PDF not requested" in report.notes


def test_embedded_images_decode(run_dir):
    import io

    import matplotlib.image as mpimg

    text = run_dir[2][0].read_text(encoding="utf-8")
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', text):
        img = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100 and img.std() > 0


def test_pretraining_compute_always_stated(run_dir):
    text = run_dir[2][0].read_text(encoding="utf-8")
    table = text.split("Pretraining compute</h2>")[1].split("</table>")[0]
    row = re.search(r"<tr><td>" + re.escape(html.escape(EVIL)) + r"</td>(.*?)</tr>", table).group(1)
    assert "<td>none</td>" in row
    assert "3.20e+13" in table and "1,000,000" in table


def test_markdown_twin(run_dir):
    folder, kept, report = run_dir
    md = report[1].read_text(encoding="utf-8")
    assert "](figures/curves.png)" in md and "](figures/budgets.png)" in md
    assert EVIL not in md and "&lt;script&gt;" in md
    for p in PIPELINES:
        line = next(x for x in md.splitlines() if x.startswith(f"| {html.escape(p, quote=False)} | ") and "[" in x)
        for n in SIZES:
            assert f"{ref_mean(kept, p, n):.3f} ± " in line
    assert "not valid JSON" in md and "Labels to match" in md


def test_summary_prose_follows_the_numbers(tmp_path):
    make_run(tmp_path / "a", budgets=False, corrupt=False)
    make_run(tmp_path / "b", base={"word2vec+lstm": 0.80, "bert-tiny": 0.50, EVIL: 0.45}, budgets=False, corrupt=False)
    sa = summary_sentences(load_run(tmp_path / "a"))
    sb = summary_sentences(load_run(tmp_path / "b"))
    assert any(x.startswith("At n=64, bert-tiny leads") for x in sa)
    assert any(x.startswith("At n=64, word2vec+lstm leads") for x in sb)
    assert any(s.startswith("Over all sizes bert-tiny is best and word2vec+lstm second") for s in sa)
    assert any(s.startswith("Over all sizes word2vec+lstm is best and bert-tiny second") for s in sb)
    assert any("labels bert-tiny" in s and "matches what word2vec+lstm reaches with 256" in s for s in sa)
    assert any("under shift" in s for s in sa) and any("Pretraining compute" in s for s in sa)
    assert sa != sb


def test_comparison_report(tmp_path, run_dir):
    other = tmp_path / "other"
    kept_b = make_run(other, base={"word2vec+lstm": 0.60, "bert-tiny": 0.75, EVIL: 0.40}, seed=3, budgets=False)
    rep = render.write_comparison_report([run_dir[0], other], tmp_path / "cmp", pdf=False)
    text = rep[0].read_text(encoding="utf-8")
    assert rep[0] == tmp_path / "cmp" / "report.html" and rep[1].is_file()
    assert EVIL not in text and text.count("data:image/png;base64,") == 3
    cells = re.findall(r'<td data-run="([^"]*)" data-pipeline="([^"]*)" data-n="(\d+)" data-mean="([^"]*)">', text)
    got = {(r, html.unescape(p), int(n)): float(v) for r, p, n, v in cells}
    assert got[("other", "bert-tiny", 256)] == pytest.approx(ref_mean(kept_b, "bert-tiny", 256), abs=1e-12)
    assert got[("micro", "bert-tiny", 256)] == pytest.approx(ref_mean(run_dir[1], "bert-tiny", 256), abs=1e-12)
    assert "Run micro" in text and "Run other" in text
    assert any("not valid JSON" in w for w in rep[2])


def test_cli_report_command(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    report_command.register(parser.add_subparsers())
    with pytest.raises(WorkbenchError, match="workbench compare --out"):
        args = parser.parse_args(["report", str(tmp_path / "missing")])
        args.func(args)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match=r"empty.*results.jsonl.*workbench compare --out"):
        args = parser.parse_args(["report", str(tmp_path / "empty")])
        args.func(args)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.jsonl").write_text('{"pipeline": "a", "n"\n')
    with pytest.raises(WorkbenchError, match="no readable results"):
        args = parser.parse_args(["report", "--no-pdf", str(tmp_path / "broken")])
        args.func(args)
    make_run(tmp_path / "r1", budgets=False, corrupt=False)
    make_run(tmp_path / "r2", seed=4, budgets=False, corrupt=False)
    args = parser.parse_args(["report", "--no-pdf", str(tmp_path / "r1"), str(tmp_path / "r2")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "r1" / "compare-with-r2" / "report.html") in out
    assert (tmp_path / "r1" / "compare-with-r2" / "report.md").is_file()


# ---------------------------------------------------------------- protocol, resolved prose, weights pretrained
def hand_made_run(folder: Path, scores: dict, dev: str | None = "few", examples: int | None = None) -> Path:
    """A run folder from {pipeline: {n: [score per seed]}} (test split only; `examples`: the test set's size)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "task": "micro-sentiment",
                "task_kind": "classification",
                "corpus": "microworld",
                "primary_metric": "accuracy",
                **({"dev": dev} if dev else {}),
            }
        )
    )
    lines = [
        {
            "pipeline": p,
            "task": "micro-sentiment",
            "n": n,
            "seed": s,
            "kind": "curve",
            "metrics": {"test": {"accuracy": value}},
            **({"examples": {"test": examples}} if examples else {}),
        }
        for p, curve in scores.items()
        for n, values in curve.items()
        for s, value in enumerate(values)
    ]
    (folder / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


def _sections(text: str) -> dict:
    """h2 title -> the HTML up to the next h2."""
    parts = re.split(r"<h2>(.*?)</h2>", text)
    return {html.unescape(title): body for title, body in zip(parts[1::2], parts[2::2])}


NUMBER_SECTIONS = (
    "Summary",
    "Data-efficiency curves",
    "accuracy on the test split",
    "accuracy on the shifted split",
    "Labels to match",
    "Paired comparisons",
    "Accuracy by phenomenon",
    "Score vs pretraining budget",
)


@pytest.mark.parametrize("dev, named", [("full", True), ("few", False), (None, True)])
def test_oracle_dev_selection_named_wherever_numbers_are_shown(tmp_path, dev, named):
    """dev = "full" (and a run from before the setting, which selected on the whole dev split) is named in the
    title, the subtitle and every section that shows its numbers; a few-shot run never mentions it."""
    folder = tmp_path / "run"
    make_run(folder, dev=dev, corrupt=False)
    html_path, md_path, _ = render.write_report(folder, pdf=False)
    text, md = html_path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")
    if not named:
        assert ORACLE not in text and ORACLE not in md
        assert "few-shot dev selection" in text
        return
    title, subtitle = re.search(r"<h1>(.*?)</h1>\n<p class=\"meta\">(.*?)</p>", text).groups()
    assert ORACLE in title and ORACLE in subtitle
    sections = _sections(text)
    for name in NUMBER_SECTIONS:
        assert ORACLE in sections[name], name
    for table in re.findall(r"<table>.*?</table>", text):
        if "data-mean" in table:
            assert ORACLE in re.search(r"<caption>(.*?)</caption>", table).group(1)
    assert md.startswith(f"# micro-sentiment on microworld: data-efficiency report ({ORACLE})")


def test_comparison_report_names_the_oracle_run(tmp_path):
    make_run(tmp_path / "few", corrupt=False, budgets=False)
    make_run(tmp_path / "full", dev="full", seed=1, corrupt=False, budgets=False)
    text = render.write_comparison_report([tmp_path / "few", tmp_path / "full"], tmp_path / "cmp", pdf=False)[
        0
    ].read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td>([^<]*)</td><td>[^<]*</td><td data-run", text)
    assert rows and all((ORACLE in row) == row.startswith("full") for row in rows)
    assert f"<h2>Run full: micro-sentiment on microworld (accuracy) ({ORACLE})</h2>" in text
    assert "<h2>Run few: micro-sentiment on microworld (accuracy)</h2>" in text


STATEMENTS = (
    "leads",
    "matches what",
    "reverses",
    "needs about",
    "never reaches",
    "is best",
    "passes",
    "ahead of",
    "under shift",
    "leader at the largest size differs",
)


def test_no_lead_or_labels_to_match_for_curves_that_do_not_separate(tmp_path):
    """Three curves at chance (the case that read 'with about 86 labels tfidf matches what word2vec+lstm
    reaches with 256'): the summary says they do not separate and states no lead, order or labels to match."""
    chance = {
        "tfidf": {16: [0.49, 0.52, 0.50], 64: [0.51, 0.50, 0.53], 256: [0.52, 0.49, 0.55]},
        "word2vec+lstm": {16: [0.50, 0.48, 0.51], 64: [0.52, 0.49, 0.50], 256: [0.50, 0.53, 0.51]},
        "random+lstm": {16: [0.51, 0.50, 0.47], 64: [0.48, 0.52, 0.51], 256: [0.49, 0.51, 0.52]},
    }
    sentences = summary_sentences(load_run(hand_made_run(tmp_path / "chance", chance)))
    for sentence in sentences:
        assert not any(word in sentence for word in STATEMENTS), sentence
    for n in (16, 64, 256):
        assert any(s.startswith(f"At n={n} the curves of ") and "do not separate" in s for s in sentences)
    assert sum("do not separate at any measured n, so no labels-to-match" in s for s in sentences) == 2


def test_no_labels_to_match_from_a_size_where_the_curves_do_not_separate(tmp_path):
    """The cold try's case: prompted and fine-tuned CLM separate at n = 64 but not at 16 (one fine-tuned
    seed stopped early), so nothing is said about matching the prompted model's n = 16 score."""
    scores = {
        "clm:prompt": {16: [1.0, 1.0, 1.0], 64: [1.0, 1.0, 1.0]},
        "clm": {16: [0.997, 0.962, 0.787], 64: [0.995, 0.993, 0.994]},
    }
    sentences = summary_sentences(load_run(hand_made_run(tmp_path / "cold", scores)))
    assert any(s.startswith("At n=16 the curves of") and "do not separate" in s for s in sentences), sentences
    assert not any("needs about" in s or "never reaches" in s for s in sentences), sentences


def test_a_resolved_lead_says_how_it_was_resolved(tmp_path):
    """Intervals apart; or overlapping intervals but the same difference on every seed (paired test)."""
    scores = {
        "clm": {16: [0.95, 0.97, 0.96], 64: [0.97, 0.98, 0.97]},
        "word2vec+lstm": {16: [0.50, 0.52, 0.51], 64: [0.60, 0.63, 0.61]},
        "noisy": {16: [0.40, 0.52, 0.64], 64: [0.40, 0.52, 0.64]},
        "noisy-minus": {16: [0.38, 0.495, 0.625], 64: [0.37, 0.495, 0.61]},
    }
    run = load_run(hand_made_run(tmp_path / "resolved", scores))
    summary = run["summaries"]["test"]
    sep = stats.separation(summary, run["results"], "noisy", "noisy-minus", 16, "test", "accuracy")
    assert stats.ci_overlap(summary, "noisy", "noisy-minus", 16) and sep["resolved"] and not sep["apart"]
    assert sep["p"] == pytest.approx(st.ttest_rel([0.40, 0.52, 0.64], [0.38, 0.495, 0.625]).pvalue)
    assert "paired t-test p = " in sep["why"] and "< 0.05" in sep["why"]
    sentences = summary_sentences(run)
    assert any(s.startswith("At n=16, clm leads") and "95% intervals apart" in s for s in sentences)
    assert any(
        s.startswith("With at most 16 labels (its smallest size) clm already matches what word2vec+lstm")
        for s in sentences
    )


def test_intervals_stay_inside_the_bounds_with_perfect_scores(tmp_path):
    scores = {
        "clm:prompt": {16: [1.0, 1.0, 1.0], 64: [1.0, 1.0, 0.99]},
        "word2vec+lstm": {16: [0.0, 0.02, 0.01], 64: [1.0, 0.95, 0.99]},
    }
    for examples in (500, None):
        folder = hand_made_run(tmp_path / f"perfect-{examples}", scores, examples=examples)
        text = render.write_report(folder, pdf=False)[0].read_text(encoding="utf-8")
        cells = re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", text)
        assert len(cells) >= 4
        for low, high in cells:
            assert 0.0 <= float(low) <= float(high) <= 1.0, (low, high)
        assert stats.INTERVAL_METHOD in text


def test_weights_pretrained_in_table_legend_and_prose(run_dir):
    folder, _, report = run_dir
    text = report[0].read_text(encoding="utf-8")
    table = _sections(text)["Pretraining compute"]
    assert "<th>weights pretrained</th><th>weights from labels only</th>" in table
    assert "<td>44,100 of 280,134 (16%)</td><td>236,034 (84%)</td>" in table
    assert "<td>486,016 of 486,274 (99.9%)</td><td>258 (0.1%)</td>" in table
    run = load_run(folder)
    prose = " ".join(summary_sentences(run))
    assert "word2vec+lstm: 16% (44,100 of 280,134)" in prose and "bert-tiny: 99.9% (486,016 of 486,274)" in prose
    assert legend_text(run, "word2vec+lstm") == (
        "word2vec+lstm: 44,100 of 280,134 (16%) weights pretrained, 200,000 tokens, 2.00e+10 FLOPs"
    )
    assert legend_text(run, EVIL).endswith("0 of 280,134 (0%) weights pretrained, no pretraining text")
    run["prepared"]["tfidf"] = {
        "parameters": {"total": None, "pretrained": 0, "from_labels": None, "note": "not a neural model"}
    }
    assert legend_text(run, "tfidf") == "tfidf: nothing pretrained (not a neural model), no pretraining text"


@pytest.mark.skipif(
    "selection" not in {f.name for f in fields(PointResult)},
    reason="results lines record no `selection` yet (PointResult has no such field)",
)
def test_protocol_section_states_each_points_dev_and_grid(tmp_path):
    folder = tmp_path / "run"
    make_run(folder, corrupt=False, budgets=False)
    text = render.write_report(folder, pdf=False)[0].read_text(encoding="utf-8")
    protocol = _sections(text)["Protocol"]
    assert stats.INTERVAL_METHOD in protocol and "Few-shot dev selection (dev = few)" in protocol
    assert "<tr><td>bert-tiny</td><td>few: 16</td><td>few: 64</td><td>few: 256</td></tr>" in protocol
    assert "<td>3 per point: lr ∈ {0.00067, 0.002, 0.006}</td><td>#1: 3, #2: 3, #3: 3</td>" in protocol


def test_protocol_states_the_tuning_budget_and_why():
    line = lambda config: protocol_tuning_line({"config": config})  # noqa: E731
    assert "one configuration, its family's hand-set recipe (--grid auto on a CPU)" in line(
        {"grid": 1, "grid_choice": "auto"}
    )
    assert "(--grid auto" not in line({"grid": 1, "grid_choice": 1}) and "nothing was tuned" in line({"grid": 1})
    assert "the same 3 configurations" in line({"grid": 3, "grid_choice": "auto"})
    assert "records no grid" in line({})


def test_a_single_seed_shows_no_interval():
    """The cold try read '0.499 ± 0.000 [0.499, 0.499]' for a one-seed run: an interval it does not have."""
    assert cell_stats(stats.interval([0.499], 1000)) == "0.499 (one seed: no interval)"
    assert cell_stats(stats.interval([0.5, 0.6], 1000)).startswith("0.550 ± 0.071 [")


def test_compute_of_outside_models_is_not_known_rather_than_none():
    """Vectors from a file or a transformers checkpoint were pretrained elsewhere: the report must not call that none."""
    from workbench.report.prose import _compute_text

    assert _compute_text({"method": "none", "seconds": 0.0}) == "none"
    hf = {"method": "transformers checkpoint (bert)", "folder": "/models/bert", "seconds": 0.0}
    assert _compute_text(hf) == "not known, made elsewhere (transformers checkpoint (bert))"
    assert _compute_text({"method": "glove, from glove.6B.100d.txt", "file": "/x/glove.6B.100d.txt"}).startswith(
        "not known"
    )
    assert "FLOPs" in _compute_text({"method": "word2vec", "tokens": 1000, "flops": 1e9})


def test_eleven_pipelines_get_eleven_distinct_styles():
    """A real-text preset draws 9 pipelines: no colour, marker or line style may come round again."""
    from workbench.report.plots import style

    styles = [style(i) for i in range(11)]
    for key in ("marker", "linestyle", "color"):
        values = [repr(s[key]) for s in styles]
        assert len(set(values)) == 11, key


def test_compute_table_names_the_corpus_each_pipeline_read():
    from workbench.report.document import corpus_text

    assert corpus_text({"method": "word2vec", "tokens": 500, "corpus_tokens": 100}, "imdb") == "imdb (100 tokens)"
    assert corpus_text({"method": "none (random weights)"}, "imdb") == "none"
    assert corpus_text({"method": "glove, from glove.6B.100d.txt", "tokens": None}, "imdb").startswith("not known")


def test_the_compute_table_and_the_prose_tell_where_pretraining_happened_by_one_rule():
    from workbench.report.document import corpus_text
    from workbench.report.loading import pretraining_source
    from workbench.report.prose import _compute_text

    records = {
        "none": [{"method": "none"}, {"method": "none (random weights)", "tokens": 0, "flops": 0.0}, None],
        "elsewhere": [{"method": "transformers checkpoint (bert)", "folder": "/m"}, {"method": "glove, from x.txt"}],
        "here": [{"method": "word2vec", "tokens": 1000, "flops": 1e9, "corpus_tokens": 200}],
    }
    for source, pres in records.items():
        for pre in pres:
            assert pretraining_source(pre) == source
            said = corpus_text(pre or {}, "microworld"), _compute_text(pre)
            assert {"none": "none", "elsewhere": "not known", "here": "microworld"}[source] in said[0]
            assert {"none": "none", "elsewhere": "not known, made elsewhere", "here": "FLOPs"}[source] in said[1]
