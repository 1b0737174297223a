"""Turn finished comparison runs into a report: report.html, report.md (and report.pdf) with figures/.

The steps live in their own modules: `loading` reads a run folder, `protocol` reads how its points
were selected and what each model pretrained, `prose` writes the generated sentences, `document`
builds the blocks (sections, tables, figures), `writers` writes HTML, Markdown and PDF.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.experiments.store import RESULTS_FILE
from workbench.report import protocol, stats
from workbench.report.document import comparison_blocks, run_blocks
from workbench.report.loading import load_run
from workbench.report.writers import Report, write_documents


def _require_results(run):
    if not run["results"]:
        raise WorkbenchError(
            f"{run['folder'] / RESULTS_FILE}: no readable results; run `workbench compare --out {run['folder']}` first"
        )


def write_report(folder, pdf: bool = True) -> Report:
    """report.html, report.md (and report.pdf when an engine is installed) + figures/ in the run folder.

    Returns Report(html_path, md_path, warnings) with .pdf_path and .notes.
    """
    folder = Path(folder)
    run = load_run(folder)
    _require_results(run)
    blocks = run_blocks(run, folder / "figures")
    title = protocol.qualified(f"{run['task']} on {run['corpus']}: data-efficiency report", run)
    subtitle = (
        f"run {run['name']} · primary metric {run['metric']} · "
        f"{len(stats.pipelines_of(run['summaries']['test']))} pipelines · {len(run['results'])} results · "
        + (protocol.ORACLE if protocol.oracle(run) else "few-shot dev selection")
    )
    return write_documents(folder, "report", title, subtitle, blocks, run["warnings"], pdf)


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
    blocks = comparison_blocks(runs, out_folder / "figures")
    title = "Comparison: " + " vs ".join(r["name"] for r in runs)
    subtitle = " · ".join(protocol.qualified(f"{r['name']}: {r['task']} on {r['corpus']}", r) for r in runs)
    return write_documents(out_folder, "report", title, subtitle, blocks, warnings, pdf)
