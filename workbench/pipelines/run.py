"""One point of a data-efficiency curve: (pipeline, task, n, seed) -> metrics on dev, test, shifted.

`prepare` does what all points of a pipeline share (vocabulary, pretrained artifact, encoded
splits); `run_points` trains on the nested subsets and evaluates. The comparison calls these
two functions for every point; `workbench finetune` calls them for one. What differs between
families is behind the contract in `pipelines.base`.
"""

from __future__ import annotations

from workbench.data.types import Task
from workbench.data.vocab import Vocabulary, build_vocab
from workbench.pipelines.base import Prepared
from workbench.pipelines.registry import pipeline_for
from workbench.pipelines.tuning import DEFAULT_PROTOCOL, Protocol


def prepare(
    pipeline: str,
    task: Task,
    corpus_name: str = "microworld",
    vocab: Vocabulary | None = None,
    settings: dict | None = None,
    device: str = "cpu",
    progress: bool = False,
    assume_yes: bool = False,
) -> Prepared:
    """The named pipeline, its settings checked, prepared for `task` (the corpus vocabulary built if not given).
    `progress`: bars for its long steps; `assume_yes`: a long CPU pretraining starts without asking."""
    family = pipeline_for(pipeline, settings)
    if family.uses_vocab:
        vocab = vocab or build_vocab(corpus_name)
    return family.prepare(task, corpus_name, vocab, device, progress=progress, assume_yes=assume_yes)


def run_point(
    prepared: Prepared, n: int, seed: int, device: str = "cpu", protocol: Protocol = DEFAULT_PROTOCOL
) -> dict:
    """Train on the nested subset (n, seed), select on its dev, evaluate on test and shifted test."""
    return run_points(prepared, [(n, seed)], device, fused=False, protocol=protocol)[0]


def run_points(
    prepared: Prepared,
    points: list[tuple[int, int]],
    device: str = "cpu",
    fused: bool = True,
    protocol: Protocol = DEFAULT_PROTOCOL,
) -> list[dict]:
    """Several (n, seed) points of one pipeline, each selected as `protocol` says (few-shot dev,
    tuning grid: pipelines.tuning). fused: train every point's configurations as replicas of one
    fused model (core.fused, same results as one by one); else one after another with
    core.train.fit. Families with nothing to fuse (tf-idf, points without training) run each point alone."""
    results = [
        {"pipeline": prepared.pipeline.name, "task": prepared.task.name, "n": n, "seed": seed, "metrics": {}}
        for n, seed in points
    ]
    prepared.pipeline.run(prepared, results, device, fused, protocol)
    pretraining = prepared.info.get("pretraining", {"method": "none", "seconds": 0.0})
    for result in results:
        result["pretraining"] = pretraining
    return results
