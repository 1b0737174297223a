"""The course notebooks execute top to bottom (quick mode) and are stored clean.

Each notebook runs in a fresh kernel inside a temporary copy of notebooks/, with
WORKBENCH_NOTEBOOK_QUICK=1 (small configs) and a temporary WORKBENCH_CACHE.
"""

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ABSOLUTE = re.compile(r"(/work/|/home/|/Users/|/root/|[A-Za-z]:\\\\Users)")


def test_the_course_exists():
    assert len(NOTEBOOKS) >= 6, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has stored outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        source = "".join(cell["source"])
        assert not ABSOLUTE.search(source), f"{path.name} cell {i} holds an absolute path"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first = "".join(first_code["source"])
    assert "torch.set_num_threads(1)" in first and "WORKBENCH_NOTEBOOK_QUICK" in first and "WORKBENCH_CACHE" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager

    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    monkeypatch.setenv("WORKBENCH_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    # the kernel must be this interpreter (the venv), whatever python3 kernel is installed elsewhere
    spec_dir = tmp_path / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path) + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == sys.executable

    nb = nbformat.read(work / path.name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} shows no figure"
