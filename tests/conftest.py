import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path | None:
    """The folder WORKBENCH_DATA names, when it holds the real datasets (CI points it at ../shared/data)."""
    env = os.environ.get("WORKBENCH_DATA")
    return Path(env) if env and (Path(env) / "sst2").is_dir() else None


requires_real_data = pytest.mark.skipif(
    real_data_dir() is None, reason="real datasets absent: set WORKBENCH_DATA to a folder laid out like ../shared/data"
)


def run_cli(*args, env=None, cwd=None):
    """Run `python -m workbench ARGS` in a subprocess: what a user at a shell sees."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=600,
    )


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)  # see workbench.runs.resolve_device: small models, shared cores
    os.environ.setdefault("WORKBENCH_WORKERS", "1")  # pytest-xdist already runs a process per core


@pytest.fixture(autouse=True, scope="session")
def _artifact_cache(tmp_path_factory):
    """Prepared vectors/backbones go to a per-session folder, never the user's cache."""
    previous = os.environ.get("WORKBENCH_CACHE")
    os.environ["WORKBENCH_CACHE"] = str(tmp_path_factory.mktemp("artifacts"))
    yield
    if previous is None:
        os.environ.pop("WORKBENCH_CACHE", None)
    else:
        os.environ["WORKBENCH_CACHE"] = previous


def run_main(*args, env=None):
    """`workbench ARGS` in this process (same code path as the shell, without a new interpreter
    importing torch each time): returns an object with returncode, stdout and stderr."""
    import contextlib
    import io
    import types

    from workbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def load_script(relative: str):
    """A script of the repository that is not a package module (bench/..., notebooks/run_full.py), as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
