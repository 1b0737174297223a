"""The checkpoint shipped for the embedded default: made by `workbench pretrain`, hash recorded, and it is
what the default pipelines load (so the default comparison needs no pretraining)."""

import json
from pathlib import Path

from workbench.data.registry import sha256_of
from workbench.data.vocab import build_vocab
from workbench.pipelines import parse_pipeline
from workbench.pipelines.pretrained import SHIPPED, shipped_folder

FOLDER = SHIPPED / "microworld-clm"


def test_shipped_files_and_recorded_hash():
    provenance = json.loads((FOLDER / "provenance.json").read_text())
    assert sha256_of(FOLDER / "model.safetensors") == provenance["sha256"]
    assert provenance["objective"] == "clm" and provenance["corpus"] == "microworld" and provenance["seed"] == 0
    assert provenance["tokens"] > 0 and provenance["flops"] > 0 and provenance["environment"]["torch"]
    total = sum(p.stat().st_size for p in FOLDER.iterdir())
    assert total <= 5 * 1024 * 1024
    assert "workbench pretrain --objective clm" in (SHIPPED / "README.md").read_text()


def test_default_pipeline_loads_the_shipped_model():
    vocab = build_vocab("microworld")
    assert shipped_folder("clm", "microworld", vocab, {}) == FOLDER
    assert shipped_folder("clm", "microworld:200000", build_vocab("microworld:200000"), {}) is None
    from workbench.pipelines.pretrained import load_backbone

    model, info = load_backbone(parse_pipeline("clm:prompt"), "microworld", vocab, {})
    assert (
        Path(info["folder"]) == FOLDER
        and info["tokens"] == json.loads((FOLDER / "provenance.json").read_text())["tokens"]
    )
