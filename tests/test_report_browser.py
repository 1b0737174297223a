"""The rendered report in a real browser: headless Chromium screenshots it, every figure loads, nothing is wider
than a laptop's screen, and the PDF's first page shows the curves. Skips (with the reason) where Debian's
`chromium` (and, for the PDF, `pdftoppm` from poppler-utils) is not installed: .ci/run installs both where it
runs as root with apt-get."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess

import matplotlib.image as mpimg
import numpy as np
import pytest
import test_report  # tests/ is on sys.path (no package), as for conftest helpers

from workbench.data.microworld.sentences import PHENOMENA
from workbench.report import render
from workbench.report.writers import CHROMIUM_FLAGS

CHROMIUM = shutil.which("chromium")
PDFTOPPM = shutil.which("pdftoppm")
LAPTOP = (1366, 768)  # the most common laptop screen, in CSS pixels
TASK_FILE = "reviews.tsv"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (apt-get install chromium): no headless browser to render the report with",
)

# Run in the page once it has loaded: what the browser decoded and laid out, written into the DOM for --dump-dom.
PROBE = """<script>
addEventListener("load", () => {
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > root.clientWidth);
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    images: [...document.images].map(img => ({complete: img.complete, width: img.naturalWidth})),
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    wider: wide.map(e => e.tagName + ": " + e.textContent.slice(0, 60)),
  });
  document.body.append(probe);
});
</script>"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A synthetic run on a user's task file (its spec an absolute path, as `compare` records it) with every
    phenomenon the micro-world's sentiment task scores: the widest table a real run prints."""
    folder = tmp_path_factory.mktemp("browser") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_report, "PHENOMENA", list(PHENOMENA))
        test_report.make_run(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["task"] = f"tsv:{(folder.parent / 'data' / TASK_FILE).resolve()}"
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def page(run_folder):
    return render.write_report(run_folder, pdf=False)[0]


def chromium(*args, profile) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_pngs_decode(page):
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page.read_text(encoding="utf-8"))
    assert len(images) == 2
    for data in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(data, validate=True)), format="png")
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300


def test_title_names_the_task_by_its_file_not_its_path(page, run_folder):
    text = page.read_text(encoding="utf-8")
    title = html.unescape(re.search(r"<h1>(.*?)</h1>", text).group(1))
    assert title == f"{TASK_FILE} on microworld: data-efficiency report"
    assert html.unescape(re.search(r"<title>(.*?)</title>", text).group(1)) == title
    assert str(run_folder.parent) not in title
    md = page.with_suffix(".md").read_text(encoding="utf-8")
    assert md.startswith(f"# {TASK_FILE} on microworld: data-efficiency report\n")


@needs_chromium
def test_chromium_renders_the_page(page, tmp_path):
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,3000", page.resolve().as_uri(), profile=tmp_path / "p")
    assert shot.is_file() and shot.stat().st_size > 20_000
    img = mpimg.imread(shot)
    assert img.shape[:2] == (3000, 1200)
    assert float(np.std(img[..., :3])) > 0.05  # text, tables and figures, not a blank page
    # the DOM after parsing: the two figures are <img> elements with data: sources and no script ran
    dom = chromium("--dump-dom", page.resolve().as_uri(), profile=tmp_path / "p").stdout
    assert dom.count('src="data:image/png;base64,') == 2
    assert "<script>" not in dom


@needs_chromium
def test_every_figure_loads_and_nothing_is_wider_than_a_laptop_screen(page, tmp_path):
    """At 1366 px the page scrolls only down: the phenomenon table's eight columns once pushed it to 2,003 px."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium(
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
        "--virtual-time-budget=10000",  # let the images decode before the DOM is dumped
        "--dump-dom",
        probed.as_uri(),
        profile=tmp_path / "p",
    ).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run: {dom[-500:]!r}"
    probe = json.loads(html.unescape(found.group(1)))
    assert len(probe["images"]) == 2
    assert all(img["complete"] and img["width"] > 300 for img in probe["images"]), probe["images"]
    assert probe["clientWidth"] > LAPTOP[0] - 40  # the window was the laptop's (less a scroll bar)
    assert probe["scrollWidth"] <= probe["clientWidth"], probe["wider"][:5]
    assert not probe["wider"]


def colored(img: np.ndarray) -> np.ndarray:
    """Pixels with a hue: the curves, their markers and their shaded bands. Text, rules and table shading are grey."""
    rgb = img[..., :3]
    return (rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.1


@needs_chromium
@pytest.mark.skipif(
    PDFTOPPM is None, reason="pdftoppm not installed (apt-get install poppler-utils): no PDF rasterizer"
)
def test_pdf_first_page_shows_the_curves(run_folder, tmp_path):
    report = render.write_report(run_folder, pdf=True)
    assert report.pdf_path is not None, report.notes
    subprocess.run(
        [PDFTOPPM, "-f", "1", "-l", "1", "-r", "60", "-png", "-singlefile", str(report.pdf_path), str(tmp_path / "p1")],
        check=True,
        timeout=120,
    )
    page = mpimg.imread(tmp_path / "p1.png")
    figure = mpimg.imread(run_folder / "figures" / "curves.png")
    rows, cols = np.nonzero(colored(page))
    assert len(rows), "nothing in colour on the PDF's first page: the curves are not on it"
    width, height = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
    shown_height = width * figure.shape[0] / figure.shape[1]  # the figure's height at the width it is shown
    # as wide as the text, as tall as the figure (its titles and axis labels are grey), and as much colour as the
    # PNG holds at that size (measured: 422 x 132 px at 60 dpi, 10,880 coloured pixels for 9,990 expected)
    assert width > 0.6 * page.shape[1] and height > 0.5 * shown_height, (width, height)
    assert len(rows) > 0.5 * colored(figure).mean() * width * shown_height
