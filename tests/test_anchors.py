"""The published anchors: data in one module, drawn on the curve figure where they fall on its axes, and
listed in the report's text for the matching task."""

import json

from matplotlib.figure import Figure

from workbench.experiments.store import PointResult
from workbench.report.anchors import ANCHORS, anchors_for, draw_anchors
from workbench.report.render import write_report


def test_the_issue_anchors_are_there():
    scores = {(a.task, a.name.split(" (")[0]): round(a.score, 3) for a in ANCHORS}
    assert scores == {
        ("sst2", "BiLSTM + GloVe"): 0.859,
        ("sst2", "BERT-Tiny"): 0.832,
        ("sst2", "BERT-base"): 0.935,
        ("sst2", "Kim CNN-static"): 0.868,
        ("imdb", "ULMFiT"): 0.954,
    }
    for anchor in ANCHORS:
        assert anchor.labels > 0 and anchor.pretraining and anchor.citation
        assert str(anchor.labels) in anchor.sentence().replace(",", "")


def stars(ax) -> list:
    return [line for line in ax.get_lines() if line.get_marker() == "*"]


def test_marks_only_where_they_fall_on_the_axes():
    ax = Figure().subplots()
    draw_anchors(ax, "sst2", [16, 256, 67_349])
    assert sorted(line.get_ydata()[0] for line in stars(ax)) == sorted(a.score for a in anchors_for("sst2"))
    ax = Figure().subplots()
    draw_anchors(ax, "sst2", [16, 256, 1000])  # the full train set is off this axis: no marks
    draw_anchors(ax, "micro-sentiment", [16, 67_349])  # no anchors for this task
    assert stars(ax) == []


def test_report_lists_the_anchors_of_its_task(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps({"task": "imdb", "task_kind": "classification", "corpus": "imdb", "primary_metric": "accuracy"})
    )
    lines = [
        PointResult.from_dict(
            {
                "kind": "curve",
                "pipeline": "tfidf",
                "task": "imdb",
                "n": n,
                "seed": s,
                "metrics": {"test": {"accuracy": 0.6 + 0.01 * s}},
            }
        ).to_dict()
        for n in (16, 24_000)
        for s in (0, 1)
    ]
    (folder / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    text = write_report(folder, pdf=False).md_path.read_text()
    assert "ULMFiT" in text and "Howard" in text and "BERT-base" not in text
