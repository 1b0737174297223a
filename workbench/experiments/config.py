"""The comparison's configuration: defaults, a preset, a TOML file, then command-line options, in that order.

A TOML file uses the same names as the options:

    task = "micro-sentiment"
    corpus = "microworld"
    pipelines = ["word2vec+lstm", "clm:prompt", "random+lstm", "scratch-transformer"]
    sizes = [16, 64, 256, 1024, "full"]
    seeds = 3
    dev = "few"      # or "full": select on the whole dev split (oracle selection)
    grid = "auto"    # configurations each trained point tries (pipelines.tuning: auto = 3 on a GPU, 1 on a CPU)
    [seeds_up_to]        # more seeds where the labels are few: 5 seeds at every n <= 256
    256 = 5
    [settings."word2vec+lstm".train]
    max_steps = 400

Each pipeline's settings are checked against what its family reads (pipelines.settings): a
misspelled table or key is an error naming it.

A preset (`--preset imdb-sst2`) is such a file shipped in the package (workbench/presets/NAME.toml)
with a `description`; a --config file and explicit options override it, tables key by key.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.pipelines.registry import pipeline_for
from workbench.pipelines.tuning import Protocol, grid_for, parse_grid

DEFAULT_PIPELINES = ["word2vec+lstm", "clm:prompt", "clm", "random+lstm", "scratch-transformer"]
DEFAULT_SIZES: list = [16, 64, 256, 1024]
PRESETS = "workbench.presets"


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
    grid: int | str = (
        "auto"  # configurations each trained point tries (the first of its row of TUNING_GRID); auto: by device
    )
    fuse: str = "auto"  # "auto", "off" or a number K: up to K replicas (points x configurations) as one fused model
    workers: str = "auto"  # local executor: "auto" (a process per CPU core; one on a GPU) or a number
    settings: dict = field(default_factory=dict)  # per pipeline: {"train": {...}, "encoder": {...}, ...}
    task_options: dict = field(default_factory=dict)  # text_col, label_col, tag_col, word_col, labels
    seeds_up_to: dict = field(default_factory=dict)  # {N: count}: `count` seeds at every n <= N (the smallest N wins)
    preset: str | None = None  # the preset these settings started from (recorded in config.json)

    def to_dict(self) -> dict:
        return asdict(self)

    def identity(self) -> dict:
        """What makes two runs' points comparable: a rerun into the same folder must agree on these."""
        return {
            "task": self.task,
            "corpus": self.corpus,
            "settings": self.settings,
            "task_options": self.task_options,
            "dev": self.dev,
            "grid": self.grid,
        }

    def protocol(self) -> Protocol:
        """How its points select; `grid` must be resolved first (`for_device`)."""
        return Protocol(self.dev, self.grid)

    def for_device(self, device: str) -> CompareConfig:
        """This config with `grid = "auto"` resolved for the device the points train on."""
        return replace(self, grid=grid_for(self.grid, device))

    def seeds_for(self, n: int) -> list[int]:
        """The seeds of size n: `seeds`, continued with the next numbers (or cut) to the count `seeds_up_to` gives."""
        counts = [count for limit, count in sorted(self.seeds_up_to.items()) if n <= limit]
        want = counts[0] if counts else len(self.seeds)
        following = range(max(self.seeds) + 1, max(self.seeds) + 1 + max(0, want - len(self.seeds)))
        return (list(self.seeds) + list(following))[:want]


def parse_sizes(text: str) -> list:
    sizes = []
    for part in str(text).split(","):
        part = part.strip()
        if part == "full":
            sizes.append("full")
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise WorkbenchError(
                f"--sizes: {part!r} is not a positive whole number or 'full' (e.g. --sizes 16,64,256,full)"
            )
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
    if min(seeds) < 0:
        raise WorkbenchError(f"--seeds {text!r}: a seed is a whole number >= 0; give a count (3) or a list (0,1,2)")
    if len(set(seeds)) != len(seeds):
        raise WorkbenchError(f"--seeds {text!r}: a seed is listed twice")
    return seeds


def parse_pipelines(value) -> list[str]:
    """A list, or a comma-separated string as --pipelines gives it."""
    return list(value) if isinstance(value, list) else [p.strip() for p in str(value).split(",") if p.strip()]


def parse_seeds_up_to(value) -> dict[int, int]:
    """`256:5,16:10` (or a TOML table {"256": 5}) -> {256: 5, 16: 10}: that many seeds at every n <= N."""
    pairs = value.items() if isinstance(value, dict) else (part.partition(":")[::2] for part in str(value).split(","))
    parsed = {}
    for limit, count in pairs:
        limit, count = str(limit).strip(), str(count).strip()
        if not (limit.isdigit() and count.isdigit() and int(limit) > 0 and int(count) > 0):
            raise WorkbenchError(
                f"seeds_up_to {limit}:{count}: give N:COUNT with positive whole numbers "
                f"(e.g. 256:5 = 5 seeds at every n <= 256)"
            )
        parsed[int(limit)] = int(count)
    return parsed


def parse_fuse(value) -> str:
    text = str(value).strip().lower()
    if text in ("auto", "off") or (text.isdigit() and int(text) >= 1):
        return text
    raise WorkbenchError(f"--fuse {value!r}: use auto, off, or a number of replicas such as 16")


def parse_workers(value) -> str:
    text = str(value).strip().lower()
    if text == "auto" or (text.isdigit() and int(text) >= 1):
        return text
    raise WorkbenchError(f"--workers {value!r}: use auto or a number of processes such as 2")


def _parse_toml(text: str, where, extra_keys: tuple[str, ...] = ()) -> dict:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkbenchError(f"{where}: not valid TOML ({exc})") from None
    known = set(CompareConfig.__dataclass_fields__) - {"preset"} | set(extra_keys)
    unknown = sorted(set(data) - known)
    if unknown:
        raise WorkbenchError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return data


def load_toml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"--config {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WorkbenchError(f"{path}: not valid TOML ({exc})") from None
    return _parse_toml(text, path)


def preset_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".toml") for entry in resources.files(PRESETS).iterdir() if entry.name.endswith(".toml")
    )


def load_preset(name: str) -> dict:
    """A shipped preset's settings and its `description`."""
    if name not in preset_names():
        raise WorkbenchError(f"--preset {name!r}: no such preset; choose one of {', '.join(preset_names())}")
    text = resources.files(PRESETS).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    data = _parse_toml(text, f"preset {name}", extra_keys=("description",))
    return {**data, "preset": name}


def _merged(base: dict, over: dict) -> dict:
    """`over` wins; tables (settings and their per-pipeline tables, seeds_up_to) merge key by key."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = (
            _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def build_config(toml_path=None, preset: str | None = None, **overrides) -> CompareConfig:
    """Defaults <- preset <- TOML file <- options given on the command line (None means not given)."""
    preset_values = load_preset(preset) if preset else {}
    preset_values.pop("description", None)
    given = _merged(load_toml(toml_path) if toml_path else {}, {k: v for k, v in overrides.items() if v is not None})
    if "pipelines" in given:  # the preset's settings for pipelines dropped from it do not apply
        chosen = parse_pipelines(given["pipelines"])
        preset_values["settings"] = {
            name: table for name, table in preset_values.get("settings", {}).items() if name in chosen
        }
    if "seeds" in given and "seeds_up_to" not in given:  # the seeds asked for, not the preset's extra ones
        preset_values.pop("seeds_up_to", None)
    values = _merged(preset_values, given)
    if "sizes" in values and not isinstance(values["sizes"], list):
        values["sizes"] = parse_sizes(values["sizes"])
    elif "sizes" in values:
        values["sizes"] = parse_sizes(",".join(str(s) for s in values["sizes"]))
    if "seeds" in values:
        values["seeds"] = parse_seeds(
            ",".join(map(str, values["seeds"])) if isinstance(values["seeds"], list) else values["seeds"]
        )
    if "seeds_up_to" in values:
        values["seeds_up_to"] = parse_seeds_up_to(values["seeds_up_to"])
    if "pipelines" in values:
        values["pipelines"] = parse_pipelines(values["pipelines"])
    if values.get("executor", "local") not in ("local", "ray"):
        raise WorkbenchError(f"--executor {values['executor']!r}: use local or ray")
    if "fuse" in values:
        values["fuse"] = parse_fuse(values["fuse"])
    if "workers" in values:
        values["workers"] = parse_workers(values["workers"])
    if values.get("workers", "auto") != "auto" and values.get("executor") == "ray":
        raise WorkbenchError(
            "--workers is for the local executor; with --executor ray, Ray places the tasks (use --cpus-per-task)"
        )
    if "grid" in values:
        values["grid"] = parse_grid(values["grid"])
    config = CompareConfig(**values)
    config.for_device("cpu").protocol()  # checks dev
    pipelines = [pipeline_for(name, config.settings.get(name)) for name in config.pipelines]  # checks the settings
    if len(set(config.pipelines)) != len(config.pipelines):
        raise WorkbenchError("--pipelines: a pipeline is listed twice")
    unknown = sorted(set(config.settings) - set(config.pipelines))
    if unknown:
        raise WorkbenchError(
            f"settings for {', '.join(unknown)}, which is not among the pipelines; fix the config file"
        )
    if config.budgets and not any(pipeline.budgets for pipeline in pipelines):
        raise WorkbenchError("--budgets needs a pretrained pipeline (mlm, clm, plm or lstm-lm) among --pipelines")
    if config.budget_n < 1:
        raise WorkbenchError("--budget-n must be a positive number of labels")
    return config
