"""What a pretraining on the CPU will cost, said before it starts; above LONG_CPU_MINUTES, the ways around it
(a shipped or cached backbone, a GPU, fewer steps) and, where someone at a terminal can answer, the question
whether to go ahead. A command run by a script (stdin not a terminal) or with --yes goes ahead, the notice
printed."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from tqdm import tqdm

from workbench.artifacts import artifact_root
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pretrain import folder
from workbench.pretrain.objectives import TARGETS_PER_TOKEN, flops_per_step
from workbench.pretrain.options import PretrainConfig

# What one CPU core sustains pretraining the small models (d=128, 2 layers; 60k-word softmax), in FLOP/s: 25G
# for the CLM, 29G for the MLM, 34G for the LSTM LM, measured by bench/realtext/pretrain_speed.py (bench/NOTES.md).
CPU_CORE_FLOPS = {"transformer": 25e9, "lstm": 34e9}
LONG_CPU_MINUTES = 10  # a CPU pretraining expected to take longer says how to avoid it, and asks first
SHOWN_CACHED = 3  # cached backbones the notice lists


def step_flops(model_cfg: LMConfig, cfg: PretrainConfig) -> float:
    return flops_per_step(LanguageModel(model_cfg), cfg, TARGETS_PER_TOKEN[model_cfg.objective])


def cpu_minutes(model_cfg: LMConfig, cfg: PretrainConfig) -> float:
    """Expected minutes of the whole pretraining on the CPU: its FLOPs at the rate one core measured (more cores
    shorten it, less than in proportion: the measured default CLM on WikiText-2 ran at 1,257 tokens/s on 2)."""
    return cfg.steps * step_flops(model_cfg, cfg) / CPU_CORE_FLOPS[model_cfg.arch] / 60


def cached_backbones(model_cfg: LMConfig, corpus_name: str) -> list[tuple[Path, int]]:
    """Finished backbones in the artifact cache pretrained on `corpus_name` with the same objective and
    architecture (another config or vocabulary), as (folder, steps), most steps first."""
    found = []
    for candidate in sorted((artifact_root() / "backbone").glob("*/" + folder.MODEL)):
        try:
            config = folder.read_config(candidate.parent)
        except (OSError, json.JSONDecodeError):
            continue
        model = config.get("model") or {}
        if config.get("corpus") == corpus_name and (model.get("objective"), model.get("arch")) == (
            model_cfg.objective,
            model_cfg.arch,
        ):
            found.append((candidate.parent, int((config.get("pretrain") or {}).get("steps") or 0)))
    return sorted(found, key=lambda entry: -entry[1])


def cpu_cost_notice(model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, shipped: list[str]) -> str:
    """The notice printed before a CPU pretraining starts: one line, or for a long one the alternatives too.
    `shipped`: the shipped backbones' folder names, CORPUS-PIPELINE as workbench/shipped/ names them."""
    flops_step = step_flops(model_cfg, cfg)
    minutes = cpu_minutes(model_cfg, cfg)
    cost = f"about {minutes:,.0f} minutes" if minutes >= 1 else "under a minute"
    what = f"{model_cfg.arch} {model_cfg.objective} backbone for corpus {corpus_name}"
    tokens = cfg.steps * cfg.batch_size * cfg.seq_len
    line = (
        f"workbench: warning: no {what} is shipped or cached: pretraining one now on the CPU ({cfg.steps:,} steps, "
        f"{tokens:,} tokens, {cfg.steps * flops_step:.1e} FLOPs): {cost} on one core. It is cached for later runs."
    )
    if minutes <= LONG_CPU_MINUTES:
        return line
    rate = CPU_CORE_FLOPS[model_cfg.arch]
    short_steps = max(1, math.floor(LONG_CPU_MINUTES * 60 * rate / flops_step))
    cached = cached_backbones(model_cfg, corpus_name)[:SHOWN_CACHED]
    use = 'give it as the pipeline\'s backbone: --backbone DIR (finetune), backbone = "DIR" (compare --config)'
    ways = [
        "shipped with the workbench (nothing to pretrain): "
        + (", ".join(f"{name} (--corpus {name.partition('-')[0]})" for name in shipped) or "none in this install"),
        "already pretrained in the cache ($WORKBENCH_CACHE) on this corpus: "
        + (", ".join(f"{path} ({steps:,} steps)" for path, steps in cached) + f"; {use}" if cached else "none"),
        f"on a GPU it takes minutes: `workbench pretrain --objective {model_cfg.objective} --arch {model_cfg.arch} "
        f"--corpus {corpus_name} --steps {cfg.steps} --device cuda --out DIR` there, copy DIR here and {use}; or run this command "
        "there (--device auto picks the GPU)",
        f"fewer steps, a weaker model: steps = {short_steps:,} in the pipeline's settings (compare --config) takes "
        f"about {LONG_CPU_MINUTES} minutes",
    ]
    return line + "\nInstead:\n" + "\n".join(f"  - {way}" for way in ways)


def announce_cpu_pretraining(
    model_cfg: LMConfig, cfg: PretrainConfig, corpus_name: str, shipped: list[str], ask: bool
) -> None:
    """Print the notice; for a long pretraining with `ask` and a terminal on stdin, ask whether to go ahead
    (anything but yes raises WorkbenchError: the CLI's one-line message and exit 2, nothing pretrained)."""
    tqdm.write(cpu_cost_notice(model_cfg, cfg, corpus_name, shipped), file=sys.stdout)
    if not ask or cpu_minutes(model_cfg, cfg) <= LONG_CPU_MINUTES or not (sys.stdin and sys.stdin.isatty()):
        return
    try:
        answer = input(f"Pretrain it on the CPU now, about {cpu_minutes(model_cfg, cfg):,.0f} minutes? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise WorkbenchError(
            f"not pretraining the {model_cfg.objective} backbone on the CPU (answered {answer.strip() or 'no'!r}); "
            "use one of the alternatives above, or rerun with --yes to pretrain without asking"
        )
