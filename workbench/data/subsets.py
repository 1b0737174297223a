"""Nested, class-stratified labeled subsets: the x axis of every data-efficiency curve, and the
small dev subset each point selects on.

For one (task, seed) the train split is put in a single fixed order; subset n is its first n
examples. So the n=64 subset is inside the n=256 one, and every pipeline sees the same
examples for a given (task, n, seed). For classification the order is stratified at every
prefix: each class first appears within the first (number of classes) examples, then
examples are interleaved so that class proportions in any prefix match the full split.

Few-shot selection (Perez, Kiela & Cho 2021; Gao, Fisch & Chen 2021): a point with n labels
early-stops and picks its configuration on a dev subset of about n labels, drawn from the dev
split in the same nested, stratified way (`dev_subset`), never on the whole dev split.
"""

from __future__ import annotations

import random
from collections import defaultdict

from workbench.data.types import CLASSIFICATION, Task
from workbench.errors import WorkbenchError

MIN_DEV_PER_CLASS = 2  # a dev subset can tell a better model from a worse one only if it has both kinds


def subset_order(task: Task, seed: int, split: str = "train") -> list[int]:
    """The fixed order of the split's indices for this seed (train: the labeled subsets; dev: the dev subsets)."""
    examples = task.splits[split]
    rng = random.Random(f"subset:{task.name}:{seed}" if split == "train" else f"subset:{task.name}:{split}:{seed}")
    if task.kind != CLASSIFICATION:
        order = list(range(len(examples)))
        rng.shuffle(order)
        return order
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        by_class[ex.label].append(i)
    keyed = []
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        jitter = rng.random()
        for rank, index in enumerate(members):
            # rank 0 of every class goes first; then evenly spread by relative position in its class
            key = -1.0 + jitter * 1e-3 if rank == 0 else (rank + 0.5) / len(members) + jitter * 1e-9
            keyed.append((key, index))
    keyed.sort()
    return [index for _, index in keyed]


def subset(task: Task, n: int, seed: int) -> list[int]:
    """Indices into task.splits['train'] of the nested subset of size n for this seed."""
    size = len(task.splits["train"])
    if n > size:
        raise WorkbenchError(
            f"--n {n} is larger than the train split of {task.name} ({size} examples); choose n <= {size}"
        )
    if task.kind == CLASSIFICATION and n < len(task.labels):
        raise WorkbenchError(
            f"--n {n} is smaller than the number of classes of {task.name} ({len(task.labels)}); choose n >= {len(task.labels)}"
        )
    if n < 1:
        raise WorkbenchError(f"--n {n}: a labeled subset needs at least one example")
    return subset_order(task, seed)[:n]


def dev_size(task: Task, n: int) -> int:
    """The dev subset's size for a point of n labels: n, at least 2 per class, at most the whole dev split."""
    floor = MIN_DEV_PER_CLASS * len(task.labels) if task.kind == CLASSIFICATION else MIN_DEV_PER_CLASS
    return min(max(n, floor), len(task.splits["dev"]))


def dev_subset(task: Task, n: int, seed: int) -> list[int]:
    """Indices into task.splits['dev'] that a point of n labels (this seed) selects on: the first
    `dev_size(task, n)` of the dev split's fixed order, so nested across n and stratified.
    A classification prefix of 2 per class holds every class twice: the order puts each class's
    first member first, then interleaves by relative position."""
    order = subset_order(task, seed, "dev")
    size = dev_size(task, n)
    if task.kind != CLASSIFICATION:
        return order[:size]
    chosen, counts = order[:size], defaultdict(int)
    for i in chosen:
        counts[task.splits["dev"][i].label] += 1
    short = [label for label in task.labels if counts[label] < MIN_DEV_PER_CLASS]
    for label in short:  # a rare class can reach 2 members late in the order: take its next ones now
        extra = [i for i in order[size:] if task.splits["dev"][i].label == label]
        chosen += extra[: MIN_DEV_PER_CLASS - counts[label]]
    return chosen
