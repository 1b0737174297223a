"""The course notebooks execute top to bottom (quick mode), are stored clean, and check their claims.

Each notebook runs in a fresh kernel inside a temporary copy of notebooks/, with
WORKBENCH_NOTEBOOK_QUICK=1 (small configs) and a temporary WORKBENCH_CACHE, through the same
helper as the full-mode runner (notebooks/run_full.py, which CI runs as its own step): here the
check cells print their claims but assert nothing, since quick numbers sit at chance.
"""

import ast
import json
import re
from pathlib import Path

import pytest
from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("nbclient")
run_full = load_script("notebooks/run_full.py")
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


def _check_cells(nb) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if run_full.is_check_cell(c)]


def _asserts_outside_full(source: str) -> list[int]:
    """Line numbers of the asserts in a cell that are not inside an `if FULL:` block."""
    tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))
    guarded = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and isinstance(branch.test, ast.Name) and branch.test.id == "FULL"
        for stmt in branch.body
        for node in ast.walk(stmt)
    }
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and id(node) not in guarded]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_checks_its_claims_in_full_mode_only(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert 'QUICK = os.environ.get("WORKBENCH_NOTEBOOK_QUICK") == "1"' in first and "FULL = not QUICK" in first
    checks = _check_cells(nb)
    assert checks, f"{path.name} has no check cell (a code cell starting with '{run_full.CHECK_PREFIX} <claim>')"
    for source in checks:
        claim = source.lstrip().splitlines()[0][len(run_full.CHECK_PREFIX) :].strip()
        assert claim, f"{path.name}: a check cell states no claim on its first line"
        assert "if FULL:" in source, f"{path.name}, check {claim!r}: it asserts nothing in full mode"
        outside = _asserts_outside_full(source)
        assert not outside, f"{path.name}, check {claim!r}: assert outside `if FULL:` on line(s) {outside}"


def test_check_cells_are_recognised():
    """The static test above reads check cells the way the runner counts them."""
    source = '# Check: two is more than one\nprint(2)\nif FULL:\n    assert 2 > 1, "2 <= 1"\n'
    cell = {"cell_type": "code", "source": source.splitlines(keepends=True)}
    assert run_full.is_check_cell(cell) and not run_full.is_check_cell({**cell, "cell_type": "markdown"})
    assert _asserts_outside_full(source) == []
    assert _asserts_outside_full(source + "assert QUICK\nif QUICK:\n    assert 1\n") == [5, 7]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    pytest.importorskip("ipykernel")
    nb, error = run_full.execute(path, tmp_path, quick=True)
    assert error is None, str(error)
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} shows no figure"
    assert run_full.passed_checks(nb) == len(_check_cells(nb))


def test_a_failing_check_fails_in_full_mode_only(tmp_path):
    """The runner's contract: a check cell's assert fires in full mode (a failed notebook), not in quick mode."""
    pytest.importorskip("ipykernel")
    nbformat = pytest.importorskip("nbformat")
    folder = tmp_path / "course"
    folder.mkdir()
    first = 'import os\nQUICK = os.environ.get("WORKBENCH_NOTEBOOK_QUICK") == "1"\nFULL = not QUICK'
    check = '# Check: one is more than two\nprint(1, 2)\nif FULL:\n    assert 1 > 2, "1 <= 2"'
    cells = [nbformat.v4.new_code_cell(first), nbformat.v4.new_code_cell(check)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "bad.ipynb")
    nb, error = run_full.execute(folder / "bad.ipynb", tmp_path / "quick", quick=True)
    assert error is None and run_full.passed_checks(nb) == 1
    nb, error = run_full.execute(folder / "bad.ipynb", tmp_path / "full", quick=False)
    assert error is not None and "1 <= 2" in str(error) and run_full.passed_checks(nb) == 0
