"""The checkpoints shipped in the package: the embedded default's CLM and the real-text backbone. Each was made by
`workbench pretrain` (the command recorded), its hash is checked, and it is what the default pipelines load."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from workbench.data.registry import sha256_of
from workbench.data.vocab import Vocabulary, build_vocab
from workbench.pipelines import parse_pipeline
from workbench.pipelines.pretrained import SHIPPED, lm_config, load_backbone, shipped_folder
from workbench.pretrain.folder import kept_checkpoints, load_model
from workbench.pretrain.presets import SHIP_LIMIT_BYTES, preset_options

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


REAL_TEXT = SHIPPED / "imdb-mlm"


def test_the_real_text_backbone_ships_with_its_hash_and_provenance():
    """Issue #15: one real-text backbone of at most 30 MB, float16, made by our own command (recorded), hash
    checked; no checkpoint beside it (the compute-axis checkpoints stay in the run folder)."""
    provenance = json.loads((REAL_TEXT / "provenance.json").read_text())
    assert sha256_of(REAL_TEXT / "model.safetensors") == provenance["sha256"]
    assert provenance["objective"] == "mlm" and provenance["corpus"] == "imdb" and provenance["dtype"] == "float16"
    assert provenance["tokens"] > 10_000_000 and provenance["flops"] > 0 and provenance["environment"]["torch"]
    assert "workbench pretrain --preset imdb-mlm-cpu --half" in provenance["command"]
    assert not (REAL_TEXT / "checkpoints").exists()
    assert sum(p.stat().st_size for p in REAL_TEXT.rglob("*") if p.is_file()) <= SHIP_LIMIT_BYTES
    assert {t.dtype for t in load_file(str(REAL_TEXT / "model.safetensors")).values()} <= {torch.float16, torch.int64}


def test_the_real_text_backbone_is_the_default_mlm_on_imdb_and_the_control_has_its_shape():
    """The imdb presets' mlm loads it without pretraining: its recorded config is what `lm_config` says the
    default mlm on imdb is (the preset imdb-mlm-cpu); scratch-transformer there is the same architecture."""
    vocab = Vocabulary.load(REAL_TEXT / "vocab.json")  # IMDB's 60,000-word vocabulary, as build_vocab("imdb") makes it
    assert len(vocab) == 60_000 and shipped_folder("mlm", "imdb", vocab, {}) == REAL_TEXT
    assert shipped_folder("mlm", "imdb", vocab, {"steps": 2000}) is None  # other steps: not this model
    assert lm_config("mlm", {"corpus": "imdb"}) == preset_options("imdb-mlm-cpu").configs()
    assert lm_config("scratch-transformer", {"corpus": "imdb"})[0] == lm_config("mlm", {"corpus": "imdb"})[0]
    model, info = load_backbone(parse_pipeline("mlm"), "imdb", vocab, {})
    assert Path(info["folder"]) == REAL_TEXT and all(p.dtype == torch.float32 for p in model.parameters())
    assert model.cfg.transformer.d_model == 192 and model.cfg.transformer.n_layers == 6 and model.cfg.tie_embeddings
