"""The fair protocol: each point selects on a dev subset of about its own size, over the same
number of configurations for every trained pipeline (pipelines.tuning)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from conftest import run_main

from workbench.core.fused import without_dropout
from workbench.core.train import evaluate, fit
from workbench.data.subsets import MIN_DEV_PER_CLASS, dev_size, dev_subset, subset
from workbench.data.tasks import resolve_task
from workbench.data.types import CLASSIFICATION, Example, Task
from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.experiments.config import build_config
from workbench.experiments.runner import run_compare
from workbench.pipelines.run import prepare, run_point, run_points
from workbench.pipelines.tuning import GRID_AUTO, GRID_SIZE, TUNING_GRID, Protocol, grid_for, parse_grid

CORPUS = "microworld:100000"
TINY_TRAIN = {"max_steps": 12, "min_steps": 12}
TINY = {
    "random+lstm": {"train": TINY_TRAIN, "encoder": {"hidden": 16, "dropout": 0.0}},
    "random+transformer": {"train": TINY_TRAIN, "encoder": {"d_model": 16, "n_heads": 2, "d_ff": 32, "n_layers": 1}},
    "scratch-transformer": {"train": TINY_TRAIN},
}


@pytest.fixture(scope="module")
def sentiment():
    return resolve_task("micro-sentiment")


def test_dev_subsets_are_nested_stratified_and_of_the_point_size(sentiment):
    dev = sentiment.splits["dev"]
    for seed in (0, 1):
        previous: set = set()
        for n in (2, 4, 16, 64, 256):
            chosen = dev_subset(sentiment, n, seed)
            assert len(chosen) == len(set(chosen)) == dev_size(sentiment, n) == max(n, 4)
            assert previous <= set(chosen), "the dev subset of a smaller n must lie inside the larger one"
            counts = Counter(dev[i].label for i in chosen)
            assert min(counts[label] for label in sentiment.labels) >= MIN_DEV_PER_CLASS
            if n >= 16:  # stratified: each class's share within one example of its share of the dev split
                share = Counter(ex.label for ex in dev)
                for label in sentiment.labels:
                    assert abs(counts[label] - n * share[label] / len(dev)) <= 1.0
            previous = set(chosen)
    assert len(dev_subset(sentiment, 10_000, 0)) == len(dev), "at most the whole dev split"
    assert dev_subset(sentiment, 16, 0) != dev_subset(sentiment, 16, 1), "each seed draws its own dev subset"


def test_dev_subset_is_not_the_train_subset_order(sentiment):
    assert dev_subset(sentiment, 64, 0) != subset(sentiment, 64, 0)[:64]


def test_a_rare_class_still_gets_two_dev_examples():
    dev = [Example(("w",), label="a") for _ in range(97)] + [Example(("w",), label="b") for _ in range(3)]
    task = Task(name="rare", kind=CLASSIFICATION, labels=["a", "b"], splits={"train": dev, "dev": dev, "test": dev})
    for n in (2, 4, 8):
        counts = Counter(dev[i].label for i in dev_subset(task, n, 0))
        assert counts["b"] >= 2 and counts["a"] >= 2
    assert set(dev_subset(task, 4, 0)) <= set(dev_subset(task, 8, 0))


def test_every_family_recipe_offers_the_same_number_of_configurations():
    assert {len(recipe.grid) for recipe in TUNING_GRID.values()} == {GRID_SIZE}
    assert set(TUNING_GRID) == {"lstm", "transformer", "scratch", "finetune", "probe", "prompt", "hf", "tfidf"}
    with pytest.raises(WorkbenchError, match="--grid"):
        Protocol(grid=GRID_SIZE + 1)
    with pytest.raises(WorkbenchError, match="--dev"):
        build_config(dev="oracle")


def test_grid_auto_is_the_whole_grid_on_a_gpu_and_the_recipe_alone_on_a_cpu():
    assert build_config().grid == "auto"
    assert build_config().for_device("cuda").grid == GRID_SIZE and build_config().for_device("cpu").grid == 1
    assert build_config(grid="2").for_device("cuda").grid == 2, "a number asked for is kept on every device"
    assert parse_grid(" AUTO ") == "auto" and parse_grid(3) == 3 and grid_for("auto", "cpu") == 1
    for bad in ("0", "4", "all", "-1"):
        with pytest.raises(WorkbenchError, match=f"--grid '{bad}': give auto or a number"):
            parse_grid(bad)


@pytest.fixture(scope="module")
def tiny_compare(tmp_path_factory):
    """Every trained family kind, few-shot selection, grid 2: (folder, results lines)."""
    config = build_config(
        task="micro-sentiment",
        corpus=CORPUS,
        pipelines=list(TINY) + ["tfidf"],
        sizes="8,24",
        seeds="2",
        grid="2",
        out=str(tmp_path_factory.mktemp("protocol") / "run"),
    )
    config.settings = TINY
    folder = run_compare(config, progress=False, report=False)
    return folder, [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def test_every_trained_pipeline_tries_the_same_configurations_on_its_own_dev(tiny_compare, sentiment):
    folder, lines = tiny_compare
    assert len(lines) == 4 * 2 * 2
    assert json.loads((folder / "config.json").read_text())["dev"] == "few"
    for line in lines:
        selection = line["selection"]
        assert len(selection["configs"]) == 2, line["pipeline"]
        assert selection["dev"] == "few" and selection["dev_size"] == dev_size(sentiment, line["n"])
        assert line["examples"] == {"test": 1000, "shifted": 1000, "dev": selection["dev_size"]}
        scores = [config["dev_score"] for config in selection["configs"]]
        assert selection["chosen"] == scores.index(max(scores)), "the best on dev, ties to the first"
        primary = line["metrics"]["dev"]["accuracy"]
        assert primary == pytest.approx(scores[selection["chosen"]]), "dev metrics: the chosen one on its dev subset"
    lstm = next(line for line in lines if line["pipeline"] == "random+lstm")
    assert [c["lr"] for c in lstm["selection"]["configs"]] == pytest.approx([2e-3, 2e-3 / 3])
    assert lstm["fit"]["train_config"]["lr"] == lstm["selection"]["configs"][lstm["selection"]["chosen"]]["lr"]


def test_dev_full_is_recorded_in_config_and_results(tmp_path, sentiment):
    out = tmp_path / "run"
    result = run_main(
        "compare",
        "--pipelines",
        "tfidf",
        "--sizes",
        "16",
        "--seeds",
        "1",
        "--dev",
        "full",
        "--corpus",
        CORPUS,
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["dev"] == "full"
    grid = GRID_AUTO["cuda" if torch.cuda.is_available() else "cpu"]
    assert config["grid_choice"] == "auto" and config["grid"] == grid, "the default grid, resolved and recorded"
    line = json.loads((out / "results.jsonl").read_text())
    assert line["selection"]["dev"] == "full" and line["selection"]["dev_size"] == len(sentiment.splits["dev"])
    assert len(line["selection"]["configs"]) == grid
    again = run_main(
        "compare",
        "--pipelines",
        "tfidf",
        "--sizes",
        "16",
        "--seeds",
        "1",
        "--corpus",
        CORPUS,
        "--out",
        str(out),
        "--quiet",
    )
    assert again.returncode == 2 and "another config" in again.stderr, "few and full selection never share a folder"


@pytest.fixture(scope="module")
def vocab():
    return build_vocab(CORPUS)


def test_grid_1_full_dev_is_the_recipe_alone(vocab, sentiment):
    """--grid 1 --dev full trains and selects exactly as the hand-set recipe did before tuning:
    the point's seeded init, fit on its subset with early stopping on the whole dev split."""
    prepared = prepare("random+lstm", sentiment, CORPUS, vocab, TINY["random+lstm"])
    got = run_point(prepared, 24, 1, protocol=Protocol("full", 1))
    torch.manual_seed(1)
    model = prepared.pipeline.point_model(prepared)
    train = [prepared.encoded["train"][i] for i in subset(sentiment, 24, 1)]
    want = fit(
        model, train, prepared.encoded["dev"], sentiment.splits["dev"], sentiment, prepared.pipeline.train_config(), 1
    )
    assert got["fit"]["steps"] == want.steps and got["fit"]["best_dev"] == want.best_dev
    for split in ("test", "shifted", "dev"):
        assert got["metrics"][split] == evaluate(model, prepared.encoded[split], sentiment.splits[split], sentiment)


def test_fused_points_and_configurations_equal_one_by_one(vocab, sentiment):
    prepared = prepare("random+lstm", sentiment, CORPUS, vocab, TINY["random+lstm"])
    build = prepared.pipeline.build_model
    prepared.pipeline.build_model = lambda prep: without_dropout(build(prep))  # masks depend on the grouping
    points = [(8, 0), (24, 1)]
    fused = run_points(prepared, points, fused=True)
    alone = run_points(prepared, points, fused=False)
    for a, b in zip(fused, alone):
        assert a["fit"]["fused_replicas"] == len(points) * GRID_SIZE and b["fit"]["fused_replicas"] == 1
        assert a["selection"]["chosen"] == b["selection"]["chosen"]
        assert [c["dev_score"] for c in a["selection"]["configs"]] == pytest.approx(
            [c["dev_score"] for c in b["selection"]["configs"]]
        )
        for split in ("test", "shifted", "dev"):
            assert a["metrics"][split]["accuracy"] == pytest.approx(b["metrics"][split]["accuracy"], abs=2e-3)


def test_points_without_training_use_no_dev():
    task = resolve_task("micro-sentiment")
    prepared = prepare("clm:prompt", task, "microworld", build_vocab("microworld"))
    result = run_point(prepared, 0, 0)
    assert result["selection"] == {"dev": "none", "dev_size": 0}
    assert "dev" not in result["metrics"] and set(result["examples"]) == {"test", "shifted"}


def test_interval_is_a_logit_t_interval_inside_the_bounds():
    import numpy as np
    from scipy import special
    from scipy import stats as st

    from workbench.report.stats import interval

    rng = np.random.default_rng(3)
    for k, n_examples in ((3, 1000), (5, 500), (2, 16)):
        x = rng.uniform(0.5, 1.0, size=k)
        e = interval(x, n_examples)
        z = special.logit((x * n_examples + 0.5) / (n_examples + 1))
        lo, hi = st.t.interval(0.95, k - 1, loc=z.mean(), scale=st.sem(z))
        back = [np.clip((special.expit(b) * (n_examples + 1) - 0.5) / n_examples, 0, 1) for b in (lo, hi)]
        assert (e["ci_low"], e["ci_high"]) == pytest.approx(tuple(back), abs=1e-12)
        assert e["mean"] == pytest.approx(x.mean())
    # the case that broke the old interval: [0.951, 1.002] on the shifted split
    for values in ([1.0, 1.0, 0.99], [1.0, 0.95, 0.99], [0.0, 0.02, 0.01], [1.0, 1.0, 1.0]):
        for n_examples in (1000, None):
            e = interval(values, n_examples)
            assert 0.0 <= e["ci_low"] <= e["mean"] <= e["ci_high"] <= 1.0


def test_position_table_starts_on_the_token_embeddings_scale():
    import torch

    from workbench.models.lm import LanguageModel, LMConfig
    from workbench.models.transformer import POSITION_INIT_STD, TransformerConfig

    torch.manual_seed(0)
    lm = LanguageModel(LMConfig(objective="mlm", vocab_size=500, transformer=TransformerConfig(max_len=256)))
    assert lm.encoder.positions.weight.std().item() == pytest.approx(POSITION_INIT_STD, rel=0.05)
    assert lm.embed.weight.std().item() == pytest.approx(POSITION_INIT_STD, rel=0.05)


@pytest.mark.slow
def test_the_scratch_transformer_control_learns(sentiment):
    """The from-scratch Transformer must be able to learn micro-sentiment (issue #16): at n=1024 with the
    shared update budget it sat at chance (.50) while its position table was initialised at N(0, 1)."""
    from workbench.data.vocab import build_vocab
    from workbench.pipelines.run import prepare, run_point

    prepared = prepare(
        "scratch-transformer", sentiment, "microworld", build_vocab("microworld"), {"train": {"lr": 1e-3}}
    )
    result = run_point(prepared, 1024, 0)
    assert result["metrics"]["test"]["accuracy"] > 0.6  # chance is .5 +- .03 on 1,000 sentences
