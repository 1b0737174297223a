"""Named pretraining runs (`workbench pretrain --preset NAME`): the real-text backbones of issue #15.

Sized by arithmetic first, then chosen among by measurement on a GPU (bench/pretrain/gpu_session.py trains the
candidates side by side for the same time and compares validation loss; bench/NOTES.md records the outcome).

The arithmetic. A backbone ships in the repository at most 30 MB in half precision: 15M parameters. Every
pipeline on corpus `imdb` shares its 60,000-word vocabulary (the static pipelines stay word-level, and a
backbone must read the tokens the pipelines give it), so the embedding alone is 60k x d parameters:

    d = 512, untied   61.4M embedding + output              123 MB   far over
    d = 512, tied     30.7M                                  61 MB   over before a single layer
    d = 256, tied     15.4M                                  31 MB   over
    d = 192, tied     11.5M + 6 layers x 12 d^2 = 2.7M      28.6 MB  fits: `imdb-clm`, `imdb-mlm`, `imdb-plm`
    d = 160, tied      9.6M + 12 layers x 12 d^2 = 3.7M     26.8 MB  fits: `imdb-clm-deep` (depth for width)
    d = 112, untied   13.4M + 6 layers x 12 d^2 = 0.9M      28.9 MB  fits: `imdb-clm-untied` (tying, at equal bytes)
    LSTM d = 208, tied, 3 layers of 208: 12.5M + 1.0M       27.2 MB  fits: `imdb-lstm` (ULMFiT's design, narrower)

A subword vocabulary (16k pieces: 3.1M parameters at d = 192) would leave room for d = 384 x 6 layers; it needs
the whole-model pipelines to tokenize task text into pieces (and tagging to align pieces with words), which is
a change to the pipelines, not to pretraining: the presets then change only their corpus vocabulary.

Sequences of 256 tokens (the task truncates a review to 64 + 192 tokens), 128 of them a step (32k tokens: a
batch that keeps an H200 busy at this width), lr 1e-3 with the loop's warmup and cosine decay, dropout 0.1.
Steps are the GPU session's to set from a time budget (`--time-budget`); the number here is what a run without
a budget does, recorded in each folder's config, so `--preset NAME --steps N` remakes a run exactly.

Without a GPU (issue #15, part 4): `imdb-mlm-cpu` is the largest of these that this project's 2-core CPU
pretrains in a session: imdb-mlm's model at batch 16, 3,650 steps (what `--time-budget 4800` fitted with two
threads: 15M tokens, three quarters of one pass over the corpus). The masked LM, because it predicts 15% of
tokens through the 60,000-word softmax where a CLM predicts all: 2,000 tokens/s on one core against 500.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbench.errors import WorkbenchError
from workbench.pretrain.options import PretrainOptions

SHIP_LIMIT_BYTES = 30_000_000  # what workbench/shipped/ may hold per backbone, in half precision (issue #15)
_REAL_TEXT = PretrainOptions(
    corpus="imdb",
    steps=20_000,
    batch_size=128,
    seq_len=256,
    d_model=192,
    layers=6,
    heads=3,
    d_ff=768,
    tie_embeddings=True,
    lr=1e-3,
)


@dataclass(frozen=True)
class Preset:
    options: PretrainOptions
    summary: str
    gpu: bool = True  # one of the candidates that bench/pretrain/gpu_session.py trains side by side


PRESETS = {
    "imdb-clm": Preset(
        replace(_REAL_TEXT, objective="clm"), "GPT-style causal LM, d 192, 6 layers, tied output (28.6 MB in fp16)"
    ),
    "imdb-clm-deep": Preset(
        replace(_REAL_TEXT, objective="clm", d_model=160, layers=12, heads=5, d_ff=640),
        "the CLM deeper and narrower: d 160, 12 layers, tied (26.8 MB)",
    ),
    "imdb-clm-untied": Preset(
        replace(_REAL_TEXT, objective="clm", d_model=112, heads=2, d_ff=448, tie_embeddings=False),
        "the CLM with its own output layer at the same bytes: d 112, 6 layers (28.9 MB)",
    ),
    "imdb-mlm": Preset(replace(_REAL_TEXT, objective="mlm"), "BERT-style masked LM, the size of imdb-clm"),
    "imdb-mlm-cpu": Preset(
        replace(_REAL_TEXT, objective="mlm", batch_size=16, steps=3650),
        "imdb-mlm's model made on a CPU: 3,650 steps of 16 x 256 tokens (15M tokens, 93 min of 2 cores); ships",
        gpu=False,
    ),
    "imdb-plm": Preset(replace(_REAL_TEXT, objective="plm"), "XLNet-style permutation LM, the size of imdb-clm"),
    "imdb-lstm": Preset(
        replace(_REAL_TEXT, arch="lstm", objective="clm", d_model=208, heads=4, lstm_hidden=208, lstm_layers=3),
        "ULMFiT-style LSTM LM: 3 layers of 208, tied (27.2 MB)",
    ),
}


# The default backbone of a pipeline on a corpus, where it is a preset rather than what `workbench pretrain` trains
# bare: the backbone that ships for it (workbench/shipped/CORPUS-PIPELINE). The scratch control takes the mlm's
# architecture, so that it isolates what pretraining adds. Until a GPU makes `imdb-mlm`, the CPU-made one ships.
CORPUS_DEFAULTS = {"imdb": {"mlm": "imdb-mlm-cpu", "scratch-transformer": "imdb-mlm-cpu"}}


def preset_options(name: str) -> PretrainOptions:
    if name not in PRESETS:
        raise WorkbenchError(f"--preset {name!r}: no such preset; use one of {', '.join(PRESETS)}")
    return PRESETS[name].options


def presets_help() -> str:
    """The presets as `workbench pretrain --help` lists them."""
    return "\n".join(f"  {name:<16} {preset.summary}" for name, preset in PRESETS.items())
