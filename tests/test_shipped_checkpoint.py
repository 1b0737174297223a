"""The checkpoint shipped for the embedded default: made by `workbench pretrain`, hash recorded, and it is
what the default pipelines load (so the default comparison needs no pretraining)."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from workbench.data.registry import sha256_of
from workbench.data.vocab import build_vocab
from workbench.pipelines import parse_pipeline
from workbench.pipelines.pretrained import SHIPPED, load_backbone, shipped_folder
from workbench.pretrain.folder import kept_checkpoints, load_model

FOLDER = SHIPPED / "microworld-clm"


def test_shipped_files_and_recorded_hash():
    provenance = json.loads((FOLDER / "provenance.json").read_text())
    assert sha256_of(FOLDER / "model.safetensors") == provenance["sha256"]
    assert provenance["objective"] == "clm" and provenance["corpus"] == "microworld" and provenance["seed"] == 0
    assert provenance["tokens"] > 0 and provenance["flops"] > 0 and provenance["environment"]["torch"]
    total = sum(p.stat().st_size for p in FOLDER.rglob("*") if p.is_file())
    assert total <= 6 * 1024 * 1024, "a few MB in all, the log-spaced checkpoints included"
    assert "workbench pretrain --objective clm" in (SHIPPED / "README.md").read_text()


def test_default_pipeline_loads_the_shipped_model():
    vocab = build_vocab("microworld")
    assert shipped_folder("clm", "microworld", vocab, {}) == FOLDER
    assert shipped_folder("clm", "microworld:200000", build_vocab("microworld:200000"), {}) is None
    model, info = load_backbone(parse_pipeline("clm:prompt"), "microworld", vocab, {})
    assert (
        Path(info["folder"]) == FOLDER
        and info["tokens"] == json.loads((FOLDER / "provenance.json").read_text())["tokens"]
    )


def test_shipped_log_spaced_checkpoints_for_the_compute_axis():
    """`compare --budgets` on a fresh clone: a few float16 checkpoints of the same run, each hashed in
    provenance.json, each with the tokens and FLOPs it had spent, loading back as float32."""
    provenance = json.loads((FOLDER / "provenance.json").read_text())
    hashes = provenance["checkpoints"]
    assert len(hashes) >= 3 and provenance["checkpoint_dtype"] == "float16"
    assert {name: sha256_of(FOLDER / name) for name in hashes} == hashes
    kept = kept_checkpoints(FOLDER)
    assert [record["checkpoint"] for record in kept] == sorted(hashes, key=lambda name: int(name.split("_")[1][:7]))
    flops = [record["flops"] for record in kept]
    assert flops == sorted(flops) and flops[-1] < provenance["flops"], "log-spaced steps before the final model"
    vocab = build_vocab("microworld")
    for record in kept:
        assert {t.dtype for t in load_file(str(FOLDER / record["checkpoint"])).values()} <= {torch.float16, torch.int64}
        model, _, _ = load_model(FOLDER, vocab, checkpoint=record["checkpoint"])
        assert all(p.dtype == torch.float32 for p in model.parameters())


def test_shipped_model_exports_to_transformers_as_gpt2():
    """The shipped CLM has GPT-2's head, so `workbench export clm --to hf` can write it (tests/test_export.py
    checks the logits on random weights)."""
    from workbench.export import check_exportable

    model, _, _ = load_model(FOLDER)
    assert check_exportable(model.cfg) == "gpt2" and model.head.bias is None
