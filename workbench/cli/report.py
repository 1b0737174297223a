"""`workbench report RUN [RUN ...]`: render a finished comparison run as HTML + Markdown (+ PDF)."""

from __future__ import annotations

from pathlib import Path

from workbench.cli.common import add_command
from workbench.errors import WorkbenchError
from workbench.report.render import write_comparison_report, write_report


def check_run_folder(folder) -> Path:
    """The folder of a finished comparison, or a WorkbenchError saying how to make one."""
    path = Path(folder)
    if not path.is_dir():
        raise WorkbenchError(f"{path}: no such run folder; run `workbench compare --out {path}` first")
    if not (path / "results.jsonl").is_file():
        raise WorkbenchError(f"{path}: no results.jsonl in this folder; run `workbench compare --out {path}` first")
    return path


def default_comparison_folder(runs) -> Path:
    """RUN1/compare-with-RUN2[-RUN3...]: where a side-by-side report goes without --out."""
    first = Path(runs[0])
    others = "-".join(Path(r).resolve().name for r in runs[1:])
    return first / f"compare-with-{others}"


def run(args) -> int:
    folders = [check_run_folder(f) for f in args.runs]
    if len(folders) == 1:
        if args.out:
            raise WorkbenchError(
                "--out: a single run's report is written into its own folder; "
                "give two or more runs for a side-by-side report in --out"
            )
        report = write_report(folders[0], pdf=not args.no_pdf)
    else:
        out = Path(args.out) if args.out else default_comparison_folder(folders)
        report = write_comparison_report(folders, out, pdf=not args.no_pdf)
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(f"html      {report.html_path}")
    print(f"markdown  {report.md_path}")
    print(f"figures   {report.html_path.parent / 'figures'}")
    if report.pdf_path:
        print(f"pdf       {report.pdf_path}")
    for note in report.notes:
        if not report.pdf_path:
            print(f"note: {note}")
    return 0


def register(sub) -> None:
    parser = add_command(
        sub,
        "report",
        "render a comparison run (or several side by side) as HTML + Markdown with figures",
        "workbench report runs/micro-sentiment",
        run,
        description="Render the results of `workbench compare` as a self-contained HTML page (figures embedded), "
        "a Markdown twin with figures/ (PNG + SVG), and a PDF when wkhtmltopdf or chromium is installed. "
        "One run: the report goes into the run folder. Two or more runs: a side-by-side report goes "
        "into --out (default RUN1/compare-with-RUN2). Corrupted result lines are skipped with a warning.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s) written by `workbench compare --out`")
    parser.add_argument("--out", default=None, help="output folder of a side-by-side report (two or more runs)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF even when an engine is installed")
