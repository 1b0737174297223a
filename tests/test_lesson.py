"""The lesson of the course, measured on a reduced default under the fair protocol (each point
selects on a dev subset of its own size, over the same tuning grid for every trained pipeline;
n = 16 and 256, 3 seeds): with few labels the pretrained model beats static vectors + BiLSTM,
resolved as the report resolves a difference, on the test and the shifted split and on every kind of sentence, both when it
is fine-tuned with a fresh head (`clm`, which trains) and when it is prompted (`clm:prompt`); static
vectors beat random ones, most on the shifted split (tail adjectives the labels never show, whose
vectors come from the corpus); and the gap narrows as labels are added, because the static
pipeline climbs while the pretrained one stays where it started.

The shipped CLM reads negation because it saw 38M tokens (bench/NOTES.md): at 12M it scored .44
on negated sentences and the negation point of this test failed."""

import pytest

from workbench.data.microworld import PHENOMENA
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.experiments.store import PointResult
from workbench.pipelines.run import prepare, run_point
from workbench.report.stats import separation, summarize

SEEDS = (0, 1, 2)
POINTS = (
    ("clm", 16),
    ("clm:prompt", 16),
    ("word2vec+lstm", 16),
    ("clm", 256),
    ("word2vec+lstm", 256),
    ("random+lstm", 256),
)
PRETRAINED = ("clm", "clm:prompt")
STATIC = "word2vec+lstm"


@pytest.fixture(scope="module")
def scores():
    task = resolve_task("micro-sentiment")
    vocab = build_vocab("microworld")
    prepared, out = {}, {}
    for pipeline, n in POINTS:
        if pipeline not in prepared:
            prepared[pipeline] = prepare(pipeline, task, "microworld", vocab)
        out[pipeline, n] = [run_point(prepared[pipeline], n, seed) for seed in SEEDS]
    return out


def accuracies(runs, split="test", key="accuracy"):
    return [r["metrics"][split][key] for r in runs]


def mean(values):
    return sum(values) / len(values)


def test_the_fine_tuned_pipeline_trains_under_the_protocol(scores):
    """`clm` is the pretrained pipeline that learns from the labels: it takes updates, selected on a dev
    subset of its own size, over the same number of configurations as word2vec+lstm."""
    for runs in (scores["clm", 16], scores["clm", 256]):
        assert all(r["fit"]["steps"] > 0 for r in runs)
        assert all(r["selection"]["dev"] == "few" for r in runs)
        assert {len(r["selection"]["configs"]) for r in runs} == {
            len(scores["word2vec+lstm", 16][0]["selection"]["configs"])
        }
    assert all(r["selection"]["dev_size"] == 16 for r in scores["clm", 16])


@pytest.mark.parametrize("pipeline", PRETRAINED)
@pytest.mark.parametrize("split", ["test", "shifted"])
def test_pretrained_beats_static_at_n16(scores, pipeline, split):
    """The lead the report would state: resolved as the report resolves a difference (95% intervals
    apart, or the paired t-test over seeds at p < .05), and large. With 3 seeds one seed that stops
    early widens the interval a lot (`clm` at n = 16: .997, .962, .787 gives [.12, 1]); pairing the
    seeds, which draw the same 16 labels for both pipelines, is what resolves it then."""
    results = [PointResult.from_dict({**r, "kind": "curve"}) for p in (pipeline, STATIC) for r in scores[p, 16]]
    summary = summarize(results, split, "accuracy")
    verdict = separation(summary, results, pipeline, STATIC, 16, split, "accuracy")
    lead = summary[pipeline, 16]["mean"] - summary[STATIC, 16]["mean"]
    assert verdict["resolved"] and lead > 0.2, (lead, verdict, summary)


@pytest.mark.parametrize("phenomenon", PHENOMENA)
def test_pretrained_leads_on_every_kind_of_sentence(scores, phenomenon):
    key = f"accuracy[{phenomenon}]"
    static = mean(accuracies(scores["word2vec+lstm", 16], key=key))
    for pipeline in PRETRAINED:
        pretrained = mean(accuracies(scores[pipeline, 16], key=key))
        assert pretrained > static + 0.1, (pipeline, pretrained, static)


def test_static_beats_random_most_on_the_shifted_split(scores):
    gaps = {
        split: mean(accuracies(scores["word2vec+lstm", 256], split))
        - mean(accuracies(scores["random+lstm", 256], split))
        for split in ("test", "shifted")
    }
    assert gaps["test"] > 0.03 and gaps["shifted"] > gaps["test"], gaps


@pytest.mark.parametrize("split", ["test", "shifted"])
def test_gap_narrows_as_labels_grow(scores, split):
    """Both sides of the gap are measured: the static pipeline climbs from 16 to 256 labels, the
    fine-tuned pretrained one does not fall, and so the gap between them shrinks."""
    pretrained = {n: mean(accuracies(scores["clm", n], split)) for n in (16, 256)}
    static = {n: mean(accuracies(scores["word2vec+lstm", n], split)) for n in (16, 256)}
    assert static[256] > static[16] + 0.05, static
    assert pretrained[256] >= pretrained[16] - 0.02, pretrained
    assert pretrained[256] - static[256] < pretrained[16] - static[16] - 0.05, (pretrained, static)
