"""The rendered report in a real browser: headless Chromium screenshots it, and every embedded
image decodes. Skips (with the reason) where Debian's `chromium` is not installed."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import pytest
from test_report import make_run  # tests/ is on sys.path (no package), as for conftest helpers

from workbench.report import render
from workbench.report.writers import CHROMIUM_FLAGS

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser") / "run"
    make_run(folder)
    return render.write_report(folder, pdf=False)[0]


def test_embedded_pngs_decode(page):
    import matplotlib.image as mpimg

    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page.read_text(encoding="utf-8"))
    assert len(images) == 2
    for data in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(data, validate=True)), format="png")
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (apt-get install chromium): no headless browser to render the report with",
)
def test_chromium_renders_the_page(page, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    shot = tmp_path / "shot.png"
    base = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        base + [f"--screenshot={shot}", "--window-size=1200,3000", page.resolve().as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000
    img = mpimg.imread(shot)
    assert img.shape[:2] == (3000, 1200)
    assert float(np.std(img[..., :3])) > 0.05  # text, tables and figures, not a blank page
    # the DOM after parsing: the two figures are <img> elements with data: sources and no script ran
    dom = subprocess.run(
        base + ["--dump-dom", page.resolve().as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert dom.count('src="data:image/png;base64,') == 2
    assert "<script>" not in dom
