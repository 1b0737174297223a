"""Execute the course notebooks in full mode, so that every check cell's claim is tested.

    python notebooks/run_full.py                      # every notebooks/*.ipynb, full mode
    python notebooks/run_full.py 05_data_efficiency   # some of them (names or paths)
    python notebooks/run_full.py --quick              # quick mode (what tests/test_notebooks.py runs)
    python notebooks/run_full.py --out runs/notebooks  # also keep each executed notebook, outputs and all

Each notebook runs in a fresh kernel of this interpreter, inside a temporary copy of notebooks/
with a temporary WORKBENCH_CACHE, exactly as tests/test_notebooks.py runs it (that test imports
`execute` from here). A *check cell* is a code cell whose first line is `# Check: <claim>`: it
prints the claim and its numbers and, in full mode only, asserts it. Prints per notebook its wall
time and how many check cells passed; exits 1 when a cell failed (its error is printed), 2 on a bad
argument.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from workbench.atomic import write_text

NOTEBOOKS = Path(__file__).resolve().parent
CHECK_PREFIX = "# Check:"
CELL_TIMEOUT_S = 600


def is_check_cell(cell) -> bool:
    """A code cell whose first line states the claim it checks."""
    return cell["cell_type"] == "code" and "".join(cell["source"]).lstrip().startswith(CHECK_PREFIX)


def _kernel_manager(scratch: Path) -> AsyncKernelManager:
    """A kernel of this interpreter (the venv), whatever python3 kernel is installed elsewhere."""
    spec_dir = scratch / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(scratch / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def execute(path: Path, scratch: Path, quick: bool):
    """Run one notebook top to bottom in `scratch` (an empty folder), in a copy of its folder.

    Returns (the notebook with the outputs so far, the CellExecutionError of the first failing
    cell or None): execution stops at that cell.
    """
    work = scratch / "notebooks"
    shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    env = dict(os.environ, WORKBENCH_CACHE=str(scratch / "cache"), WORKBENCH_NOTEBOOK_QUICK="1" if quick else "0")
    nb = nbformat.read(work / path.name, as_version=4)
    km = _kernel_manager(scratch)
    client = nbclient.NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(work)}})
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        return nb, exc
    return nb, None


def passed_checks(nb) -> int:
    """Check cells that ran to the end without an error."""
    return sum(
        is_check_cell(c)
        and c.get("execution_count") is not None
        and not any(o.output_type == "error" for o in c.outputs)
        for c in nb.cells
    )


def _resolve(names: list[str]) -> list[Path]:
    everything = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not names:
        return everything
    chosen = []
    for name in names:
        stem = Path(name).stem
        match = [p for p in everything if p.stem == stem]
        if not match:
            raise ValueError(
                f"run_full: no notebook {name!r} in notebooks/ (have: {', '.join(p.stem for p in everything)})"
            )
        chosen += match
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="names or paths of notebooks (default: all)")
    parser.add_argument("--quick", action="store_true", help="quick mode: small configs, check cells do not assert")
    parser.add_argument("--out", type=Path, help="a folder to write each executed notebook to (to read its outputs)")
    args = parser.parse_args(argv)
    try:
        paths = _resolve(args.notebooks)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    failed = []
    for path in paths:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="workbench-notebook-") as scratch:
            nb, error = execute(path, Path(scratch), quick=args.quick)
        if args.out:
            write_text(args.out / path.name, nbformat.writes(nb))
        checks = sum(is_check_cell(c) for c in nb.cells)
        outcome = f"{passed_checks(nb)} of {checks} check cells passed"
        if error is not None:
            failed.append(path.name)
            outcome += f", FAILED:\n{error}"
        print(f"{path.name:38s} {mode} mode {time.perf_counter() - started:6.1f} s  {outcome}", flush=True)
    if failed:
        print(f"run_full: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
