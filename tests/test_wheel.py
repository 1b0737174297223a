"""The workbench as users install it: a wheel built from the source, installed into a fresh virtual
environment outside the repository, runs the default comparison from the shipped checkpoint (issue #18):
it carries its runtime files and finds them through importlib.resources, not through the repository."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(command: list, **options) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def build_wheel(tmp: Path) -> Path:
    """`pip wheel --no-deps` of a copy of the source (an in-tree build could pick up stale files in build/);
    without build isolation, so it needs no index: setuptools comes from requirements.txt."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):  # what a build reads (an sdist carries the same)
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "workbench", source / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", source])
    (wheel,) = (tmp / "dist").glob("workbench-*.whl")
    return wheel


def fresh_venv(tmp: Path, wheel: Path) -> tuple[Path, dict]:
    """A venv whose only workbench is the wheel's; torch and the other dependencies come from this
    environment's site-packages through a .pth line (its .pth files, the editable install's among them,
    are not run from there), so nothing is downloaded."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(WORKBENCH_CACHE=str(tmp / "cache"), MPLBACKEND="Agg")
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel], env=env)
    return venv, env


@pytest.mark.slow
def test_a_wheel_install_runs_the_default_comparison_without_pretraining(tmp_path):
    wheel = build_wheel(tmp_path)
    venv, env = fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"  # outside the repository: no checkout on the path
    elsewhere.mkdir()
    where = run([venv / "bin" / "python", "-c", "import workbench; print(workbench.__file__)"], cwd=elsewhere, env=env)
    installed = Path(where.stdout.strip()).parent
    assert installed.is_relative_to(venv), f"the repository's copy ran, not the wheel's: {installed}"
    assert (installed / "shipped" / "microworld-clm" / "model.safetensors").is_file()

    out = elsewhere / "run"
    command = [venv / "bin" / "workbench", "compare", "--sizes", "16", "--seeds", "1", "--out", out]
    run(command, cwd=elsewhere, env=env, timeout=240)
    prepared = json.loads((out / "prepared.json").read_text())
    folders = {name: info["pretraining"].get("folder") for name, info in prepared.items() if name.startswith("clm")}
    assert folders and all(Path(f).parent == installed / "shipped" for f in folders.values()), folders
    assert not (tmp_path / "cache" / "backbone").exists(), "a backbone was pretrained"
    assert (out / "report.html").is_file()
