"""What `workbench compare` runs with no arguments is what README.md (and `compare --help`) says it runs:
the statements are parsed, so a change to either the defaults or the text fails here."""

import re

from conftest import ROOT, run_main

from workbench.experiments.config import CompareConfig
from workbench.pipelines import parse_pipeline

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_default_statement() -> str:
    """The paragraph that begins "`workbench compare` with no arguments"."""
    match = re.search(r"`workbench compare` with no arguments(.*?)\n\n", README, re.S)
    assert match, "README.md no longer says what `workbench compare` with no arguments runs"
    return " ".join(match.group(1).split())


def test_compare_defaults_are_what_the_readme_states():
    text = readme_default_statement()
    trained = re.search(r"fine-tunes (.*?) on the same nested labeled subsets", text)
    sizes = re.search(r"\(n = ([\d, ]+);", text)
    seeds, runs = re.search(r"(\d+) seeds", text), re.search(r"(\d+) runs", text)
    report = re.search(r"writes `([^`]+)/report\.html`", text)
    assert trained and sizes and seeds and runs and report, text
    config = CompareConfig()
    assert config.pipelines == re.findall(r"`([^`]+)`", trained.group(1))
    assert config.sizes == [int(n) for n in sizes.group(1).split(",")]
    assert config.seeds == list(range(int(seeds.group(1))))
    assert len(config.pipelines) * len(config.sizes) * len(config.seeds) == int(runs.group(1))
    assert config.out == report.group(1)
    assert "micro-world corpus" in text and config.corpus == "microworld"
    # "prepares both pipelines ... (word2vec vectors; a pretrained causal Transformer)"
    assert "word2vec vectors; a pretrained causal Transformer" in text
    pretrained = {parse_pipeline(p).representation for p in config.pipelines} - {"scratch-transformer", "random"}
    assert pretrained == {"word2vec", "clm"}


def test_compare_defaults_are_what_its_help_states():
    help_text = " ".join(run_main("compare", "--help").stdout.split())
    config = CompareConfig()
    example = re.search(r"workbench compare # the embedded default \(([^,]+), ([^)]+)\)", help_text)
    assert example and example.group(1).replace("-", "") == config.corpus and example.group(2) == config.task
    assert f"--task TASK task name or spec (default {config.task})" in help_text
    assert f"--corpus CORPUS unlabeled corpus (default {config.corpus})" in help_text
    assert f"--out OUT run folder (default {config.out})" in help_text
