"""The selection protocol and the tuning budget: which dev a point selects on, and the one table
of every trained family's recipe with the configurations a point tries (issue #16).

Few-shot selection (Perez, Kiela & Cho 2021): a point with n labels early-stops, restores its
best state and picks its configuration on a dev subset of about n labels (`data.subsets.dev_subset`),
never on the whole dev split; `dev = "full"` restores selection on the whole dev split (an oracle
no few-shot learner has). Points that train nothing (zero-shot, in-context) use no dev.

The same budget for every trained pipeline: each family's row of TUNING_GRID lists the same
number of configurations; a point trains the first `grid` of them (the same seeded init and data
order for each), scores each on its dev, keeps the best (ties: the earlier one) and evaluates
only that one on test and shifted test. The first configuration is the family's hand-set recipe,
so `grid = 1` trains exactly what the recipe alone did. Early stopping on the dev already picks
the number of updates within the recipe's budget (`max_epochs`, `min_steps`, TrainConfig's
`max_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbench.core.train import TrainConfig
from workbench.data.subsets import dev_subset
from workbench.data.types import Task
from workbench.errors import WorkbenchError

DEV_CHOICES = ("few", "full")


@dataclass(frozen=True)
class Recipe:
    """A family's training recipe (TrainConfig fields; the `train` settings apply on top) and the
    configurations a point tries, each a change to it. In a neural grid `lr_times` multiplies the
    configured rate (so a rate set in the `train` settings is tuned around too); tfidf's grid
    sets the logistic regression's inverse regularization `C`."""

    train: dict
    grid: tuple[dict, ...]


RATES = ({"lr_times": 1.0}, {"lr_times": 1 / 3}, {"lr_times": 3.0})  # the hand-set rate, a third of it, three times it
UPDATES = {"max_epochs": 10, "min_steps": 120}  # every family: 10 epochs, at least 120 updates (at most 1000)

# Hand-set rates: the static encoders and the scratch Transformer learn everything from the labels
# (a Transformer from random weights sits on a plateau before it learns: on micro-sentiment,
# n = 1024, lr 5e-4 stayed at chance and 2e-3 reached .64 after 960 updates); a pretrained
# backbone's features only need adjusting, a probe trains only its head, a prompted model only
# nudges its LM head. 300 minimum updates instead of 120 left the scratch Transformer at chance
# for n <= 256 all the same (.51/.50/.53, bench/NOTES.md) and cost 2.5 times as much.
TUNING_GRID = {
    "lstm": Recipe({"lr": 2e-3, **UPDATES}, RATES),
    "transformer": Recipe({"lr": 2e-3, "weight_decay": 0.01, **UPDATES}, RATES),
    "scratch": Recipe({"lr": 2e-3, "weight_decay": 0.01, **UPDATES}, RATES),
    "finetune": Recipe({"lr": 3e-4, "weight_decay": 0.01, **UPDATES}, RATES),
    "probe": Recipe({"lr": 3e-3, **UPDATES}, RATES),
    "prompt": Recipe({"lr": 1e-4, "weight_decay": 0.01, **UPDATES}, RATES),
    # hf:PATH, a transformers checkpoint (BERT-base and the like): BERT's usual fine-tuning rate
    # (Devlin et al. 2019 tried 2e-5 to 5e-5), with the same three configurations as every family
    "hf": Recipe({"lr": 3e-5, "weight_decay": 0.01, **UPDATES}, RATES),
    "tfidf": Recipe({}, ({"C": 1.0}, {"C": 0.1}, {"C": 10.0})),
}
GRID_SIZE = len(RATES)  # the number every row holds

# `--grid auto` (the default): the whole grid where its configurations ride as fused replicas of
# one model (a GPU), the hand-set recipe alone on a CPU, where each configuration is a whole
# training run: the default comparison takes 115 s on a 2-core CPU with one configuration per
# point and 301 s with three (bench/NOTES.md), and its target is 120 s. Either way every trained
# pipeline tries the same number of configurations.
GRID_AUTO = {"cuda": GRID_SIZE, "cpu": 1}


def parse_grid(value) -> int | str:
    """`auto` or a number of configurations, 1 to GRID_SIZE (as --grid and a TOML's `grid` give it)."""
    text = str(value).strip().lower()
    if text == "auto":
        return text
    if not text.isdigit() or not 1 <= int(text) <= GRID_SIZE:
        raise WorkbenchError(f"--grid {value!r}: give auto or a number of configurations per point, 1 to {GRID_SIZE}")
    return int(text)


def grid_for(choice: int | str, device: str) -> int:
    """The number of configurations a point tries: `choice`, with auto resolved for the device."""
    return GRID_AUTO[device] if choice == "auto" else choice


@dataclass(frozen=True)
class Protocol:
    """How every point of a comparison selects: on its few-shot dev subset ("few") or the whole
    dev split ("full"), over the first `grid` configurations of its family's recipe."""

    dev: str = "few"
    grid: int = GRID_SIZE

    def __post_init__(self):
        if self.dev not in DEV_CHOICES:
            raise WorkbenchError(f"--dev {self.dev!r}: use few (a dev subset of the point's size) or full")
        if not 1 <= self.grid <= GRID_SIZE:
            raise WorkbenchError(f"--grid {self.grid}: choose 1 to {GRID_SIZE} configurations per point")

    def dev_indices(self, task: Task, n: int, seed: int) -> list[int]:
        """Indices into task.splits['dev'] that the point (n, seed) selects on."""
        return dev_subset(task, n, seed) if self.dev == "few" else list(range(len(task.splits["dev"])))

    def tried(self, recipe: Recipe) -> tuple[dict, ...]:
        return recipe.grid[: self.grid]


DEFAULT_PROTOCOL = Protocol()


def train_configs(protocol: Protocol, recipe: Recipe, base: TrainConfig) -> list[tuple[dict, TrainConfig]]:
    """(what the configuration sets, its TrainConfig) for each configuration a point tries."""
    out = []
    for entry in protocol.tried(recipe):
        changes = {key: value for key, value in entry.items() if key != "lr_times"}
        if "lr_times" in entry:
            changes["lr"] = base.lr * entry["lr_times"]
        out.append((changes, replace(base, **changes)))
    return out


def chosen_index(scores: list[float]) -> int:
    """The best dev score's configuration; ties keep the earlier one (the hand-set recipe first)."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def selection_record(protocol: Protocol, dev_size: int, configs: list[dict], scores: list[float], chosen: int) -> dict:
    """A results line's `selection` (documented in experiments.store.PointResult)."""
    return {
        "dev": protocol.dev,
        "dev_size": dev_size,
        "chosen": chosen,
        "configs": [{**config, "dev_score": score} for config, score in zip(configs, scores)],
    }


NO_SELECTION = {"dev": "none", "dev_size": 0}  # a point that trains nothing selects nothing
