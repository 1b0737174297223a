"""What every run records next to its results: config, versions, seed, hardware, git revision.

Files are written with `workbench.atomic` (temp file + rename), so an interrupted run never
leaves a half-written JSON file behind.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy
import sklearn
import torch

import workbench
from workbench.errors import WorkbenchError


def check_same_run(folder: Path, identity: dict, what: str) -> bool:
    """Whether `folder` already holds a run (its config.json exists). A run with another identity
    (the keys of `identity` differ) is an error: resuming into it would mix two experiments."""
    path = Path(folder) / "config.json"
    if not path.exists():
        return False
    existing = json.loads(path.read_text(encoding="utf-8"))
    if {key: existing.get(key) for key in identity} != identity:
        raise WorkbenchError(f"{folder} holds {what} with another config; choose another --out or delete the folder")
    return True


def git_revision() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def installed_version(package: str) -> str | None:
    """A package's version without importing it, None if absent: pretraining records gensim's version but does
    not use it, and runs on machines without it (a GPU lease carries only what it needs)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment(device: str) -> dict:
    env = {
        "workbench": workbench.__version__,
        "git_revision": git_revision(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "gensim": installed_version("gensim"),
        "scikit_learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def resolve_device(choice: str) -> str:
    """'auto' -> cuda when visible, else cpu. On the CPU, also fix torch's thread count.

    Small task models gain nothing from intra-op threads, and on a shared 2-core machine a
    second OpenMP thread that must wait for a busy core made an LSTM step 100x slower
    (measured: 1.5 s vs 0.017 s). So the CPU default is 1 thread; set WORKBENCH_THREADS to change it.
    """
    threads = os.environ.get("WORKBENCH_THREADS", "1")
    if not threads.isdigit() or int(threads) < 1:
        raise WorkbenchError(f"WORKBENCH_THREADS={threads!r}: set it to a positive whole number of CPU threads")
    torch.set_num_threads(int(threads))
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise WorkbenchError("--device cuda: no CUDA device is visible to torch; use --device cpu or auto")
    if choice not in ("cpu", "cuda"):
        raise WorkbenchError(f"--device {choice!r}: use auto, cpu or cuda")
    return choice
