"""Pretrain several backbones side by side on one GPU for a fixed time, in ONE call of a GPU lease.

    PYTHONPATH=. python bench/pretrain/gpu_session.py --preset imdb --out $OUT     # issue #15's GPU part (~8 min)
    PYTHONPATH=. python bench/pretrain/gpu_session.py --preset microworld --out DIR  # the micro-world objectives
    PYTHONPATH=. python bench/pretrain/gpu_session.py --fetch imdb-plm,imdb-lstm --out $OUT  # more weights
    PYTHONPATH=. python bench/pretrain/gpu_session.py --preset imdb --smoke --out DIR  # all of it on a CPU, tiny

What one call does (bench/NOTES.md, "Prepared for the next GPU session", has the exact command):
1. tokenizes the corpus once (IMDB: two processes, one per file) while it measures the bf16 matmul rate and each
   model's tokens/s and MFU alone on the GPU (random tokens, the run's own training step);
2. starts one worker process per run: each loads the corpus, waits for the others, times its own step for a
   few seconds with all of them sharing the GPU, and trains for the steps that fill `--seconds`
   (`workbench.pretrain.budget`), so every model gets the same GPU time;
3. reports each run's validation loss, tokens, FLOPs, tokens/s and MFU, and picks the best CLM by validation
   loss (the candidates share objective and vocabulary, so their losses compare);
4. packs under --out what the device tool can bring back (8 files, 16 MiB each, 64 MiB in all): runs.tar
   (every run's config, vocabulary, log, final record, provenance), and the weights of the best CLM and of
   `--bring` in float16 (`save_half`), each a tar cut into parts under 16 MiB (`cat NAME.tar.part* > NAME.tar`);
5. reruns bench/gpu_check.py's fused-core timing at K = 32, eager and with CUDA graphs, if time remains.

Workers run the library, not the `workbench` CLI: the CLI imports gensim, which the GPU image lacks and which
does not fit beside the IMDB files in the 64 MiB a call carries. Each folder's provenance records the
`workbench pretrain --preset NAME --steps N` command that remakes it.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from bench.pretrain.run import matmul_rate
from workbench.data import registry
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import build_vocab
from workbench.models.lm import LanguageModel
from workbench.pretrain import PRESETS, PretrainOptions, read_final, save_half
from workbench.pretrain.budget import calibrated_config, measured_rate
from workbench.pretrain.folder import update_provenance
from workbench.pretrain.loop import pretrain
from workbench.pretrain.objectives import TARGETS_PER_TOKEN, flops_per_step

RUN_SETS = {
    "imdb": {name: preset.options for name, preset in PRESETS.items() if preset.gpu},
    "microworld": {
        "clm": PretrainOptions(objective="clm"),
        "mlm": PretrainOptions(objective="mlm"),
        "plm": PretrainOptions(objective="plm"),
        "clm-b128": PretrainOptions(objective="clm", batch_size=128),
        "mlm-b128": PretrainOptions(objective="mlm", batch_size=128),
        "plm-b128": PretrainOptions(objective="plm", batch_size=128),
    },
}
DEFAULT_BRING = {"imdb": ["imdb-mlm"], "microworld": []}  # weights besides the best CLM's
SMOKE = {"steps": None, "batch_size": 4, "seq_len": 32, "d_model": 16, "layers": 1, "heads": 2, "d_ff": 32}
SMOKE_CORPUS = "microworld:20000"
PART_BYTES = 15 * 2**20  # under the device tool's 16 MiB per file
SMALL_FILES = ("config.json", "final.json", "log.jsonl", "provenance.json", "calibration.json")


def run_options(run_set: str, name: str, smoke: bool) -> PretrainOptions:
    options = RUN_SETS[run_set][name]
    if not smoke:
        return options
    options = replace(options, corpus=SMOKE_CORPUS, **SMOKE)
    return replace(options, lstm_hidden=options.d_model) if options.tie_embeddings else options


def remake_command(name: str, run_set: str, steps: int) -> str:
    options = RUN_SETS[run_set][name]
    chosen = (
        f"--preset {name}"
        if run_set == "imdb"
        else f"--objective {options.objective} --batch-size {options.batch_size} --corpus {options.corpus}"
    )
    return f"workbench pretrain {chosen} --steps {steps} --device cuda --half"


# ---------------------------------------------------------------- a worker: one run, in its own process
def worker(args) -> None:
    """Load the corpus, wait for every other worker, calibrate the steps to the budget under shared load, train."""
    options = run_options(args.preset, args.worker, args.smoke)
    work = Path(args.work)
    try:
        model_cfg, cfg = options.configs()
        corpus, vocab = resolve_corpus(options.corpus), build_vocab(options.corpus)
    finally:  # ready, or failed: either way the others need not wait for this one
        (work / f"{args.worker}.ready").touch()
    deadline = time.time() + 600
    while len(list(work.glob("*.ready"))) < args.expect and time.time() < deadline:
        time.sleep(0.2)
    cfg, rate = calibrated_config(model_cfg, cfg, corpus, vocab, args.device, args.seconds, args.calibrate)
    out = work / args.worker
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps({"steps_per_s_shared": rate, "steps": cfg.steps}))
    pretrain(model_cfg, cfg, corpus, options.corpus, vocab, out, args.device, progress=False)
    update_provenance(out, command=remake_command(args.worker, args.preset, cfg.steps))


# ---------------------------------------------------------------- the session
class Session:
    def __init__(self, out: Path, work: Path):
        self.out, self.work = out, work
        out.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        self.log = open(out / "session.log", "a", encoding="utf-8")
        self.started = time.time()
        self.results: dict = {}

    def say(self, text: str) -> None:
        line = f"[{time.time() - self.started:6.1f}s] {text}"
        print(line, flush=True)
        self.log.write(line + "\n")
        self.log.flush()

    def save_results(self) -> None:
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1, default=str))


def warm_corpus(corpus: str) -> list[subprocess.Popen]:
    """IMDB's two corpus files tokenized at once, by two processes, into the artifact cache that workers read."""
    if corpus != "imdb":
        return []
    code = "import sys; from workbench.data.imdb import tokenized; tokenized(sys.argv[1])"
    return [subprocess.Popen([sys.executable, "-c", code, split]) for split in ("unsup", "train")]


def vocab_size_hint(corpus: str) -> int:
    """The corpus's vocabulary size for the solo throughput figures (measured before the vocabulary is built)."""
    try:
        return registry.get_spec(corpus).extra.get("vocab_size", 30_000)
    except Exception:  # a corpus spec such as microworld:20000 is no registry name
        return 30_000


def solo_throughput(options: PretrainOptions, vocab_size: int, device: str, seconds: float, peak: float) -> dict:
    """Tokens/s, FLOP/s and MFU of one run alone on the device, on random tokens."""
    model_cfg, cfg = options.configs()
    model_cfg.vocab_size = vocab_size
    stream = torch.randint(5, vocab_size, (1 << 20,))
    rate = measured_rate(model_cfg, cfg, stream, 2, device, seconds)
    flops = flops_per_step(LanguageModel(model_cfg), cfg, TARGETS_PER_TOKEN[model_cfg.objective])
    return {
        "tokens_per_s": rate * cfg.batch_size * cfg.seq_len,
        "flops_per_s": rate * flops,
        "mfu": rate * flops / peak,
    }


def wait_all(procs: dict, deadline: float) -> dict:
    codes = {}
    for name, proc in procs.items():
        try:
            codes[name] = proc.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes[name] = "killed at the deadline"
    return codes


def pack_small(work: Path, names: list[str], tar_path: Path) -> None:
    """Every run's small files (and one vocabulary: the runs share it) in one tar."""
    with tarfile.open(tar_path, "w") as tar:
        for name in names:
            for file in SMALL_FILES + (("vocab.json",) if name == names[0] else ()):
                if (work / name / file).is_file():
                    tar.add(work / name / file, arcname=f"{name}/{file}")
            if (work / f"{name}.err").is_file():
                tar.add(work / f"{name}.err", arcname=f"{name}/stderr.txt")


def pack_weights(work: Path, name: str, out: Path) -> list[str]:
    """The run's float16 model with its config, vocabulary and provenance, as tar parts under 16 MiB each."""
    folder = work / name
    if not (folder / "model.safetensors").is_file():
        return []
    provenance = json.loads((folder / "provenance.json").read_text())
    if provenance.get("dtype") != "float16":
        save_half(folder)
    tar_path = work / f"{name}.tar"
    with tarfile.open(tar_path, "w") as tar:
        for file in ("model.safetensors", "vocab.json") + SMALL_FILES:
            if (folder / file).is_file():
                tar.add(folder / file, arcname=f"{name}/{file}")
    data, parts = tar_path.read_bytes(), []
    for i in range(math.ceil(len(data) / PART_BYTES)):
        part = out / f"{name}.tar.part{i}"
        part.write_bytes(data[i * PART_BYTES : (i + 1) * PART_BYTES])
        parts.append(part.name)
    return parts


def report(session: Session, names: list[str], peak: float) -> str | None:
    """Per run: validation loss, tokens, FLOPs, GPU-shared tokens/s and MFU; the best CLM's name."""
    session.say(f"{'run':18} {'steps':>7} {'tokens':>12} {'FLOPs':>9} {'val loss':>8} {'tok/s':>10} {'MFU':>6}")
    total_flops_per_s, best = 0.0, None
    for name in names:
        try:
            final = read_final(session.work / name)
        except FileNotFoundError:
            err = session.work / f"{name}.err"
            session.say(f"{name}: not finished. {err.read_text()[-1500:] if err.exists() else ''}")
            continue
        config = json.loads((session.work / name / "config.json").read_text())
        flops_per_s = final["flops"] / final["seconds"]
        total_flops_per_s += flops_per_s
        session.results["runs"][name] = {
            **final,
            "n_params": config["n_params"],
            "flops_per_s": flops_per_s,
            "tokens_per_s": final["tokens"] / final["seconds"],
            "mfu": flops_per_s / peak,
        }
        session.say(
            f"{name:18} {final['step']:7} {final['tokens']:12,} {final['flops']:9.2e} {final['val_loss']:8.3f} "
            f"{final['tokens'] / final['seconds']:10,.0f} {flops_per_s / peak:6.1%}"
        )
        model = config["model"]
        if (
            model["objective"] == "clm"
            and model["arch"] == "transformer"
            and (best is None or final["val_loss"] < session.results["runs"][best]["val_loss"])
        ):
            best = name
    session.results["aggregate_mfu"] = total_flops_per_s / peak
    session.say(
        f"all runs together: {total_flops_per_s / 1e12:.1f} TFLOP/s = {total_flops_per_s / peak:.1%} of the "
        f"measured matmul rate; best CLM by validation loss: {best}"
    )
    return best


def gpu_check(session: Session, args, seconds_left: float) -> None:
    command = [
        sys.executable,
        "bench/gpu_check.py",
        "--fused-only",
        "--ks",
        "32",
        "--steps",
        "15",
        "--json",
        str(session.out / "gpu_check.json"),
        "--max-seconds",
        str(max(30, int(seconds_left) - 20)),
    ]
    if args.device == "cpu":
        command.append("--dry-run-cpu")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=max(30, seconds_left))
        session.say("gpu_check:\n" + done.stdout[-4000:] + done.stderr[-1500:])
    except subprocess.TimeoutExpired:
        session.say("gpu_check: stopped at the session's time limit")


def run_session(args) -> None:
    session = Session(Path(args.out), Path(args.work))
    names = args.runs.split(",") if args.runs else list(RUN_SETS[args.preset])
    options = {name: run_options(args.preset, name, args.smoke) for name in names}
    corpus = options[names[0]].corpus
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu (smoke)"
    session.results = {
        "device": gpu,
        "torch": torch.__version__,
        "preset": args.preset,
        "seconds": args.seconds,
        "runs": {},
        "solo": {},
    }
    session.say(f"{gpu}, torch {torch.__version__}; runs {names} on {corpus}, {args.seconds:.0f} s each, side by side")
    tokenizers = warm_corpus(corpus)
    peak = matmul_rate(args.device, dtype, size=8192 if args.device == "cuda" else 512)
    session.results["matmul_rate"] = peak
    session.say(f"measured {str(dtype)[6:]} matmul rate: {peak / 1e12:.1f} TFLOP/s")
    for name in names:  # each model alone on the device: its own MFU, while the corpus is tokenized
        solo = solo_throughput(options[name], vocab_size_hint(corpus), args.device, args.solo_seconds, peak)
        session.results["solo"][name] = solo
        session.say(
            f"alone: {name:18} {solo['tokens_per_s']:12,.0f} tokens/s {solo['flops_per_s'] / 1e12:7.1f} "
            f"TFLOP/s  MFU {solo['mfu']:.1%}"
        )
    session.save_results()
    if args.device == "cuda":
        torch.cuda.empty_cache()  # the workers need the memory the solo runs held
    if any(p.wait() for p in tokenizers):
        session.say("tokenizing the corpus failed: see the output above")
    session.say("corpus tokenized; starting the workers")
    for stale in session.work.glob("*.ready"):
        stale.unlink()
    started = time.time()
    procs = {}
    for name in names:
        command = [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--preset",
            args.preset,
            "--work",
            str(session.work),
            "--out",
            str(session.out),
            "--seconds",
            str(args.seconds),
            "--calibrate",
            str(args.calibrate),
            "--device",
            args.device,
            "--expect",
            str(len(names)),
        ] + (["--smoke"] if args.smoke else [])
        procs[name] = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=open(session.work / f"{name}.err", "w")
        )
    codes = wait_all(procs, started + args.load_seconds + args.calibrate + 1.3 * args.seconds)
    session.say(f"pretraining: {codes} in {time.time() - started:.0f} s")
    best = report(session, names, peak)
    pack_small(session.work, names, session.out / "runs.tar")
    session.results["best_clm"] = best
    for name in ([best] if best else []) + [n for n in args.bring.split(",") if n in names and n != best]:
        session.say(f"weights of {name}: {pack_weights(session.work, name, session.out)}")
    session.save_results()
    seconds_left = args.total_seconds - (time.time() - session.started)
    if args.skip_gpu_check or seconds_left < 45:
        session.say(f"gpu_check skipped ({seconds_left:.0f} s left)")
    else:
        gpu_check(session, args, seconds_left)
    session.say("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=RUN_SETS, default="imdb", help="which set of runs")
    parser.add_argument("--runs", default=None, help="comma-separated names from the set (default: all)")
    parser.add_argument("--out", required=True, help="what comes back ($OUT on the device machine)")
    parser.add_argument("--work", default="/tmp/gpu_session", help="the run folders (stay on the machine)")
    parser.add_argument("--seconds", type=float, default=270, help="GPU time of every run, side by side")
    parser.add_argument("--calibrate", type=float, default=15, help="seconds each worker times its step for")
    parser.add_argument("--solo-seconds", type=float, default=3, help="seconds of each model alone (MFU)")
    parser.add_argument("--load-seconds", type=float, default=90, help="allowance for a worker's corpus loading")
    parser.add_argument("--total-seconds", type=float, default=540, help="gpu_check only runs inside this")
    parser.add_argument("--bring", default=None, help="runs whose weights come back besides the best CLM")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--skip-gpu-check", action="store_true")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny models on the CPU, a few seconds each: the whole script checked before a lease",
    )
    parser.add_argument("--fetch", default=None, help="only pack these runs' weights from --work into --out")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.device = "cpu"
    torch.set_num_threads(1 if args.smoke else 2)  # six workers and two tokenizers share the host's 16 cores
    if args.bring is None:
        args.bring = ",".join(DEFAULT_BRING[args.preset])
    if args.worker:
        worker(args)
    elif args.fetch:
        for name in args.fetch.split(","):
            print(name, pack_weights(Path(args.work), name, Path(args.out)))
    else:
        run_session(args)


if __name__ == "__main__":
    main()
