"""Pretrain the micro-world objectives side by side on one GPU, for a fixed wall-clock budget.

    python bench/pretrain/gpu_session.py --out DIR [--seconds 300] [--device cuda]

A CPU gives the default backbone ~9k tokens/s: 12M tokens of CLM took 37 minutes, and the MLM at
24M tokens was still barely above a from-scratch Transformer. This script spends a short GPU
lease where it pays: it times a few hundred steps of each run below (all at once, as they will
run), picks for each the number of steps that fits `--seconds`, then runs the real
`workbench pretrain` commands concurrently (a model this small leaves the GPU mostly idle, so
they share it well) and packs each output folder (final model, log, provenance and the largest
log-spaced checkpoints) into DIR/NAME.tar. Each folder's provenance.json records the hardware,
and its config.json the exact steps, so `workbench pretrain --objective clm --steps N
--device cuda` reproduces a run. Ends with bench/pretrain/run.py on the same device.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from workbench.pretrain import read_final, read_log

RUNS = {  # name: extra `workbench pretrain` options
    "clm": ["--objective", "clm"],
    "mlm": ["--objective", "mlm"],
    "plm": ["--objective", "plm"],
    "clm-b128": ["--objective", "clm", "--batch-size", "128"],
    "mlm-b128": ["--objective", "mlm", "--batch-size", "128"],
    "plm-b128": ["--objective", "plm", "--batch-size", "128"],
}


def launch(name: str, steps: int, out: Path, device: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "workbench", "pretrain", *RUNS[name], "--corpus", "microworld", "--steps", str(steps),
           "--device", device, "--quiet", "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{out}.err", "w"))


def steps_per_second(folder: Path) -> float:
    """From the log's records at steps 128 and 256: after start-up and kernel compilation."""
    records = {r["step"]: r for r in read_log(folder)}
    return (256 - 128) / (records[256]["seconds"] - records[128]["seconds"])


def wait_all(procs: dict, deadline: float) -> dict:
    codes = {}
    for name, proc in procs.items():
        try:
            codes[name] = proc.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes[name] = "killed at the deadline"
    return codes


def pack(folder: Path, tar_path: Path, keep_checkpoints: int) -> None:
    checkpoints = sorted((folder / "checkpoints").glob("step_*.safetensors"))[-keep_checkpoints:]
    with tarfile.open(tar_path, "w") as tar:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.endswith(".pt"):
                tar.add(path, arcname=f"{folder.name}/{path.name}")
        for path in checkpoints:
            tar.add(path, arcname=f"{folder.name}/checkpoints/{path.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=300, help="wall-clock budget of the real runs")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--keep-checkpoints", type=int, default=4)
    parser.add_argument("--bench-steps", type=int, default=20, help="0: skip bench/pretrain/run.py")
    args = parser.parse_args()
    out, work = Path(args.out), Path("/tmp/gpu_session")
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    names = args.runs.split(",")
    log = open(out / "session.log", "a")

    def say(text: str) -> None:
        print(text, flush=True)
        log.write(text + "\n")
        log.flush()

    start = time.time()
    calibration = {name: launch(name, 300, work / f"calib-{name}", args.device) for name in names}
    say(f"calibration: {wait_all(calibration, time.time() + 240)} in {time.time() - start:.0f} s")
    rates = {name: steps_per_second(work / f"calib-{name}") for name in names}
    steps = {name: max(500, int(rate * args.seconds * 0.85) // 500 * 500) for name, rate in rates.items()}
    # CLM and MLM get the same steps, so that they compare at equal tokens and compute
    if "clm" in steps and "mlm" in steps:
        steps["clm"] = steps["mlm"] = min(steps["clm"], steps["mlm"])
    say(f"steps/s under concurrency: { {n: round(r, 1) for n, r in rates.items()} }; steps: {steps}")
    start = time.time()
    procs = {name: launch(name, steps[name], work / name, args.device) for name in names}
    codes = wait_all(procs, start + args.seconds * 1.15)
    say(f"pretraining: {codes} in {time.time() - start:.0f} s")
    for name in names:
        folder = work / name
        try:
            say(f"{name}: {json.dumps(read_final(folder), sort_keys=True)}")
        except FileNotFoundError:  # it did not finish: say why
            say(f"{name}: {(work / f'{name}.err').read_text()[-2000:]}")
        pack(folder, out / f"{name}.tar", args.keep_checkpoints)
    if not args.bench_steps:
        return
    bench = subprocess.run([sys.executable, "bench/pretrain/run.py", "--device", args.device, "--steps",
                            str(args.bench_steps), "--repeats", "3", "--batch-sizes", "32,512"],
                           capture_output=True, text=True, timeout=240)
    say(bench.stdout + bench.stderr[-2000:])


if __name__ == "__main__":
    main()
