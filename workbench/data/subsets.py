"""Nested, class-stratified labeled subsets: the x axis of every data-efficiency curve.

For one (task, seed) the train split is put in a single fixed order; subset n is its first n
examples. So the n=64 subset is inside the n=256 one, and every pipeline sees the same
examples for a given (task, n, seed). For classification the order is stratified at every
prefix: each class first appears within the first (number of classes) examples, then
examples are interleaved so that class proportions in any prefix match the full split.
"""
from __future__ import annotations

import random
from collections import defaultdict

from workbench.data.types import CLASSIFICATION, Task
from workbench.errors import WorkbenchError


def subset_order(task: Task, seed: int) -> list[int]:
    """The fixed order of train indices for this seed."""
    train = task.splits["train"]
    rng = random.Random(f"subset:{task.name}:{seed}")
    if task.kind != CLASSIFICATION:
        order = list(range(len(train)))
        rng.shuffle(order)
        return order
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(train):
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
        raise WorkbenchError(f"--n {n} is larger than the train split of {task.name} ({size} examples); choose n <= {size}")
    if task.kind == CLASSIFICATION and n < len(task.labels):
        raise WorkbenchError(
            f"--n {n} is smaller than the number of classes of {task.name} ({len(task.labels)}); choose n >= {len(task.labels)}"
        )
    if n < 1:
        raise WorkbenchError(f"--n {n}: a labeled subset needs at least one example")
    return subset_order(task, seed)[:n]
