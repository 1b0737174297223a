"""bench/pretrain/gpu_session.py, the one command a GPU lease runs for issue #15, end to end on the CPU at toy
sizes (--smoke): workers calibrate and train side by side, the report picks the best CLM, and what comes back
(runs.tar, float16 weights in parts under 16 MiB) unpacks into a folder that load_model reads."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import torch

from workbench.pretrain import load_model

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_session_smoke_runs_and_brings_back_loadable_weights(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "bench/pretrain/gpu_session.py",
            "--smoke",
            "--runs",
            "imdb-clm,imdb-lstm",
            "--bring",
            "imdb-lstm",
            "--out",
            str(out),
            "--work",
            str(work),
            "--seconds",
            "2",
            "--calibrate",
            "0.5",
            "--solo-seconds",
            "0.3",
            "--skip-gpu-check",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["best_clm"] == "imdb-clm" and set(results["runs"]) == {"imdb-clm", "imdb-lstm"}
    assert all(run["tokens"] > 0 and run["mfu"] > 0 for run in results["runs"].values())
    assert set(results["solo"]) == {"imdb-clm", "imdb-lstm"}
    with tarfile.open(out / "runs.tar") as tar:
        assert {"imdb-clm/log.jsonl", "imdb-lstm/provenance.json", "imdb-clm/vocab.json"} <= set(tar.getnames())
    for name in ("imdb-clm", "imdb-lstm"):
        parts = sorted(out.glob(f"{name}.tar.part*"))
        assert parts and all(p.stat().st_size <= 16 * 2**20 for p in parts)
        (tmp_path / f"{name}.tar").write_bytes(b"".join(p.read_bytes() for p in parts))
        with tarfile.open(tmp_path / f"{name}.tar") as tar:
            tar.extractall(tmp_path / "back", filter="data")
        model, _, _ = load_model(tmp_path / "back" / name)
        assert all(p.dtype == torch.float32 for p in model.parameters())
        provenance = json.loads((tmp_path / "back" / name / "provenance.json").read_text())
        assert provenance["dtype"] == "float16"
        assert provenance["command"].startswith(f"workbench pretrain --preset {name} --steps ")
    assert len(list(out.iterdir())) <= 8  # what the device tool brings back
