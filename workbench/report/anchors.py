"""Known published results to read the curves against: what full labeled data and far more pretraining
reached on the same tasks. Data only, plus how the report shows them (a list of sentences; marks on
the curve figure where they fall on its axes).

Scores are accuracy on the task's test set as a fraction, like the report's. SST-2's test split here
is the 1,821 sentences that GLUE's and Kim's test sets are made of; IMDB's is the 25,000 test reviews.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    task: str  # the workbench task it reads against
    name: str
    score: float  # test accuracy, as a fraction
    labels: int  # labeled examples used: the paper's whole train set
    labels_note: str
    pretraining: str  # what was pretrained, on which corpus, how many tokens
    citation: str

    def sentence(self) -> str:
        return (
            f"{self.name}: {self.score:.3f} accuracy with {self.labels_note} ({self.labels:,} labels); "
            f"pretraining: {self.pretraining}. {self.citation}"
        )


ANCHORS = (
    Anchor(
        "sst2",
        "BiLSTM + GloVe (GLUE baseline)",
        0.859,
        67_349,
        "the full SST-2 train set",
        "GloVe vectors trained on 840B tokens of Common Crawl; the BiLSTM learns from the labels only",
        "Wang et al. 2019, GLUE (ICLR), single-task baseline, GLUE test set.",
    ),
    Anchor(
        "sst2",
        "Kim CNN-static",
        0.868,
        67_349,
        "the full SST-2 train set (phrases and sentences)",
        "word2vec vectors trained on 100B tokens of Google News, kept fixed",
        "Kim 2014, Convolutional Neural Networks for Sentence Classification (EMNLP), Table 2.",
    ),
    Anchor(
        "sst2",
        "BERT-Tiny (2 layers, d=128)",
        0.832,
        67_349,
        "the full SST-2 train set",
        "the whole model (the size of this workbench's small backbone) on BookCorpus + English Wikipedia, 3.3B words",
        "Turc et al. 2019, Well-Read Students Learn Better; google-research/bert README, GLUE test set.",
    ),
    Anchor(
        "sst2",
        "BERT-base",
        0.935,
        67_349,
        "the full SST-2 train set",
        "the whole model (12 layers, d=768, 110M parameters) on BookCorpus + English Wikipedia, 3.3B words",
        "Devlin et al. 2019, BERT (NAACL), Table 1, GLUE test set.",
    ),
    Anchor(
        "imdb",
        "ULMFiT",
        1 - 0.046,
        25_000,
        "the full IMDb train set (error 4.6%)",
        "an AWD-LSTM language model on WikiText-103 (103M tokens), then fine-tuned as an LM on IMDb's own "
        "unlabeled and train reviews",
        "Howard & Ruder 2018, Universal Language Model Fine-tuning for Text Classification (ACL), Table 2.",
    ),
)


def anchors_for(task: str) -> list[Anchor]:
    return [anchor for anchor in ANCHORS if anchor.task == task]


def draw_anchors(ax, task: str, sizes: list) -> None:
    """Mark each anchor of `task` at (its labels, its score) when its labels fall within the plotted sizes
    (a log axis: up to 1.5x beyond the largest n still shows), as a labelled star."""
    if not sizes:
        return
    shown = sorted((a for a in anchors_for(task) if min(sizes) <= a.labels <= 1.5 * max(sizes)), key=lambda a: a.score)
    above = False
    for i, anchor in enumerate(shown):  # two close scores: the higher label above its star, the lower below
        above = i > 0 and anchor.score - shown[i - 1].score < 0.02 and not above
        ax.plot([anchor.labels], [anchor.score], marker="*", markersize=10, color="#b22222", linestyle="none", zorder=5)
        ax.annotate(
            anchor.name,
            (anchor.labels, anchor.score),
            textcoords="offset points",
            xytext=(-6, 0),
            ha="right",
            va="bottom" if above else "top",
            fontsize=7,
            color="#b22222",
        )
