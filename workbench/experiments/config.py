"""The comparison's configuration: defaults, a TOML file, then command-line options, in that order.

A TOML file uses the same names as the options:

    task = "micro-sentiment"
    corpus = "microworld"
    pipelines = ["word2vec+lstm", "clm:prompt", "random+lstm", "scratch-transformer"]
    sizes = [16, 64, 256, 1024, "full"]
    seeds = 3
    dev = "few"      # or "full": select on the whole dev split (oracle selection)
    grid = 3         # configurations each trained point tries (pipelines.tuning.TUNING_GRID)
    [settings."word2vec+lstm".train]
    max_steps = 400

Each pipeline's settings are checked against what its family reads (pipelines.settings): a
misspelled table or key is an error naming it.
"""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.pipelines.registry import pipeline_for
from workbench.pipelines.tuning import GRID_SIZE, Protocol

DEFAULT_PIPELINES = ["word2vec+lstm", "clm:prompt", "clm", "random+lstm", "scratch-transformer"]
DEFAULT_SIZES: list = [16, 64, 256, 1024]


@dataclass
class CompareConfig:
    task: str = "micro-sentiment"
    corpus: str = "microworld"
    pipelines: list = field(default_factory=lambda: list(DEFAULT_PIPELINES))
    sizes: list = field(default_factory=lambda: list(DEFAULT_SIZES))
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    out: str = "runs/default"
    device: str = "auto"
    budgets: bool = False
    budget_n: int = 64
    executor: str = "local"  # "local" or "ray" (experiments.executors)
    address: str | None = None  # Ray cluster: "auto", HOST:PORT, or None = start a local one
    cpus_per_task: int = 1  # Ray: CPUs each fused group declares (on a GPU it declares one GPU)
    dev: str = "few"  # "few": each point selects on a dev subset of its size; "full": on the whole dev split (oracle)
    grid: int = GRID_SIZE  # configurations each trained point tries: the first `grid` of its row of TUNING_GRID
    fuse: str = "auto"  # "auto", "off" or a number K: up to K replicas (points x configurations) as one fused model
    workers: str = "auto"  # local executor: "auto" (a process per CPU core; one on a GPU) or a number
    settings: dict = field(default_factory=dict)  # per pipeline: {"train": {...}, "encoder": {...}, ...}
    task_options: dict = field(default_factory=dict)  # text_col, label_col, tag_col, word_col, labels

    def to_dict(self) -> dict:
        return asdict(self)

    def identity(self) -> dict:
        """What makes two runs' points comparable: a rerun into the same folder must agree on these."""
        return {"task": self.task, "corpus": self.corpus, "settings": self.settings, "task_options": self.task_options,
                "dev": self.dev, "grid": self.grid}

    def protocol(self) -> Protocol:
        return Protocol(self.dev, self.grid)


def parse_sizes(text: str) -> list:
    sizes = []
    for part in str(text).split(","):
        part = part.strip()
        if part == "full":
            sizes.append("full")
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise WorkbenchError(f"--sizes: {part!r} is not a positive whole number or 'full' (e.g. --sizes 16,64,256,full)")
    return sizes


def parse_seeds(value) -> list[int]:
    """`3` means seeds 0, 1, 2; `0,5,7` names them."""
    text = str(value)
    if text.isdigit():
        if int(text) < 1:
            raise WorkbenchError("--seeds: need at least one seed")
        return list(range(int(text)))
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise WorkbenchError(f"--seeds {text!r}: give a count (3) or a list (0,1,2)") from None
    if len(set(seeds)) != len(seeds):
        raise WorkbenchError(f"--seeds {text!r}: a seed is listed twice")
    return seeds


def parse_fuse(value) -> str:
    text = str(value).strip().lower()
    if text in ("auto", "off") or (text.isdigit() and int(text) >= 1):
        return text
    raise WorkbenchError(f"--fuse {value!r}: use auto, off, or a number of replicas such as 16")


def parse_grid(value) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise WorkbenchError(f"--grid {value!r}: give a number of configurations per point, 1 to {GRID_SIZE}")
    return int(text)


def parse_workers(value) -> str:
    text = str(value).strip().lower()
    if text == "auto" or (text.isdigit() and int(text) >= 1):
        return text
    raise WorkbenchError(f"--workers {value!r}: use auto or a number of processes such as 2")


def load_toml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"--config {path}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkbenchError(f"{path}: not valid TOML ({exc})") from None
    known = set(CompareConfig.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise WorkbenchError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return data


def build_config(toml_path=None, **overrides) -> CompareConfig:
    """Defaults <- TOML file <- options given on the command line (None means not given)."""
    values = load_toml(toml_path) if toml_path else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "sizes" in values and not isinstance(values["sizes"], list):
        values["sizes"] = parse_sizes(values["sizes"])
    elif "sizes" in values:
        values["sizes"] = parse_sizes(",".join(str(s) for s in values["sizes"]))
    if "seeds" in values:
        values["seeds"] = parse_seeds(",".join(map(str, values["seeds"])) if isinstance(values["seeds"], list)
                                      else values["seeds"])
    if "pipelines" in values and isinstance(values["pipelines"], str):
        values["pipelines"] = [p.strip() for p in values["pipelines"].split(",") if p.strip()]
    if values.get("executor", "local") not in ("local", "ray"):
        raise WorkbenchError(f"--executor {values['executor']!r}: use local or ray")
    if "fuse" in values:
        values["fuse"] = parse_fuse(values["fuse"])
    if "workers" in values:
        values["workers"] = parse_workers(values["workers"])
    if values.get("workers", "auto") != "auto" and values.get("executor") == "ray":
        raise WorkbenchError("--workers is for the local executor; with --executor ray, Ray places the tasks "
                             "(use --cpus-per-task)")
    if "grid" in values:
        values["grid"] = parse_grid(values["grid"])
    config = CompareConfig(**values)
    config.protocol()  # checks dev and grid
    pipelines = [pipeline_for(name, config.settings.get(name)) for name in config.pipelines]  # checks the settings
    if len(set(config.pipelines)) != len(config.pipelines):
        raise WorkbenchError("--pipelines: a pipeline is listed twice")
    unknown = sorted(set(config.settings) - set(config.pipelines))
    if unknown:
        raise WorkbenchError(f"settings for {', '.join(unknown)}, which is not among the pipelines; fix the config file")
    if config.budgets and not any(pipeline.budgets for pipeline in pipelines):
        raise WorkbenchError("--budgets needs a pretrained pipeline (mlm, clm, plm or lstm-lm) among --pipelines")
    if config.budget_n < 1:
        raise WorkbenchError("--budget-n must be a positive number of labels")
    return config
