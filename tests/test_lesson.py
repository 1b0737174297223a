"""The lesson of the course, measured on a reduced default: with few labels, the pretrained
model (the shipped CLM, prompted) beats static vectors + BiLSTM with non-overlapping 95% CIs,
on the test and the shifted split, and on plain and contrastive sentences.

Not on negated ones: at 12M tokens the shipped CLM has not learned negation (zero-shot
accuracy on negated test sentences .44, below chance: it reads the adjective and ignores the
"not"; bench/NOTES.md). That is the compute crossover the report's budget axis is for, and
this test will say so the day a longer pretraining makes it pass on negation too."""
import pytest

from workbench.data.tasks import resolve_task
from workbench.pipelines.run import build_vocab, prepare, run_point
from workbench.report.stats import interval

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def scores():
    task = resolve_task("micro-sentiment")
    vocab = build_vocab("microworld")
    out = {}
    for pipeline, n in (("clm:prompt", 16), ("word2vec+lstm", 16)):
        prepared = prepare(pipeline, task, "microworld", vocab)
        out[pipeline] = [run_point(prepared, n, seed)["metrics"] for seed in SEEDS]
    return out


def accuracies(runs, split, key="accuracy"):
    return [r[split][key] for r in runs]


@pytest.mark.parametrize("split", ["test", "shifted"])
def test_pretrained_beats_static_at_n16(scores, split):
    pretrained = interval(accuracies(scores["clm:prompt"], split))
    static = interval(accuracies(scores["word2vec+lstm"], split))
    assert pretrained["ci_low"] > static["ci_high"], (pretrained, static)


@pytest.mark.parametrize("phenomenon", ["plain", "contrast"])
def test_pretrained_leads_on_composition(scores, phenomenon):
    key = f"accuracy[{phenomenon}]"
    pretrained = sum(accuracies(scores["clm:prompt"], "test", key)) / len(SEEDS)
    static = sum(accuracies(scores["word2vec+lstm"], "test", key)) / len(SEEDS)
    assert pretrained > static + 0.05, (pretrained, static)
