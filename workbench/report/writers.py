"""The report's blocks written out: a self-contained HTML page (inline CSS, figures embedded as
base64 PNG: one file to mail or archive), its Markdown twin (figures as relative links into
figures/), and a PDF printed from the HTML when wkhtmltopdf or a headless Chromium is installed.
Text is escaped here, where it is written.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.atomic import write_text


class Report(tuple):
    """(html_path, md_path, warnings), plus .pdf_path (None when no PDF was written) and .notes
    (what was skipped and why, e.g. no PDF engine installed). Unpacks as a 3-tuple."""

    def __new__(cls, html_path, md_path, warnings, pdf_path=None, notes=()):
        self = super().__new__(cls, (html_path, md_path, list(warnings)))
        self.html_path, self.md_path, self.warnings = html_path, md_path, self[2]
        self.pdf_path, self.notes = pdf_path, list(notes)
        return self


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #444;padding-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}
th,td{border:1px solid #bbb;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eee;overflow-wrap:anywhere}tr:nth-child(even) td{background:#fafafa}caption{caption-side:bottom;font-size:.85em;color:#555;
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
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
        f'<h1>{html.escape(title)}</h1>\n<p class="meta">{html.escape(subtitle)}</p>\n'
        f"{_html_blocks(blocks)}\n</body></html>\n"
    )


def _pdf_engine() -> list[str] | None:
    wk = shutil.which("wkhtmltopdf")
    if wk:
        return [wk]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return [exe]
    return None


# A headless Chromium that neither phones home nor needs a display: the PDF writer's and the browser test's.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


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
                cmd = engine + [
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}",
                    html_path.resolve().as_uri(),
                ]
            subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"PDF engine {engine[0]} failed ({e}): report.pdf skipped"
    if pdf.is_file() and pdf.stat().st_size > 0:
        return pdf, f"report.pdf written with {Path(engine[0]).name}"
    return None, f"PDF engine {engine[0]} wrote no PDF: report.pdf skipped"


def write_documents(out_folder: Path, stem: str, title: str, subtitle: str, blocks, warnings, pdf: bool) -> Report:
    """STEM.html and STEM.md in OUT_FOLDER (and STEM.pdf when asked for and an engine is installed)."""
    html_path, md_path = out_folder / f"{stem}.html", out_folder / f"{stem}.md"
    html_text = _html_page(title, subtitle, blocks)
    md_text = f"# {_md_text(title)}\n\n{_md_text(subtitle)}\n\n" + _md_blocks(blocks, out_folder)
    for path, text in ((html_path, html_text), (md_path, md_text)):
        write_text(path, text)
    notes, pdf_path = [], None
    if pdf:
        pdf_path, note = write_pdf(html_path)
        notes.append(note)
    else:
        notes.append("PDF not requested")
    return Report(html_path, md_path, warnings, pdf_path, notes)
