"""The real-text presets (issue #15): they ship in 30 MB, the CLI takes them, --half and --time-budget work, and
the micro-world default and its shipped checkpoint are untouched by any of it."""

import json

import pytest
import torch
from conftest import load_script, run_main
from safetensors.torch import load_file

from workbench import pretrain as pt
from workbench.cli import build_parser
from workbench.cli.pretrain import options_from_args
from workbench.core.batching import collate
from workbench.core.fused import ReplicaStack, stack_batches, without_dropout
from workbench.core.graphs import FusedStep, cuda_graphs, pad_to_bucket
from workbench.data import registry
from workbench.data.subsets import subset
from workbench.data.tasks import resolve_corpus, resolve_task
from workbench.data.types import Corpus
from workbench.data.vocab import Vocabulary, build_vocab
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel
from workbench.pipelines.pretrained import lm_config, shipped_folder
from workbench.pipelines.run import prepare
from workbench.pretrain.budget import calibrated_config, steps_for_budget
from workbench.pretrain.loop import HELD_OUT_DOCUMENTS, streams
from workbench.pretrain.presets import PRESETS, SHIP_LIMIT_BYTES

CORPUS = "microworld:30000"


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_ships_in_30_mb_at_the_imdb_vocabulary(name):
    model_cfg, cfg = pt.preset_options(name).configs()
    model_cfg.vocab_size = registry.get_spec("imdb").extra["vocab_size"]
    model = LanguageModel(model_cfg)
    assert 2 * model.n_params(non_embedding=False) < SHIP_LIMIT_BYTES  # float16, tied weights once
    assert cfg.seq_len >= 256 and model_cfg.transformer.max_len >= cfg.seq_len


def test_the_micro_world_default_and_its_shipped_checkpoint_still_match():
    assert pt.PretrainOptions().configs() == lm_config("clm")
    assert shipped_folder("clm", "microworld", build_vocab("microworld"), {}) is not None


def test_cli_preset_with_overrides_and_bad_names():
    parser = build_parser()
    options = options_from_args(parser.parse_args(["pretrain", "--preset", "imdb-clm", "--d-model", "96"]))
    assert options == pt.PRESETS["imdb-clm"].options.__class__(
        **{**vars(pt.PRESETS["imdb-clm"].options), "d_model": 96}
    )
    assert options_from_args(parser.parse_args(["pretrain"])) == pt.PretrainOptions()
    with pytest.raises(WorkbenchError, match="--preset 'imdb-gpt': no such preset"):
        options_from_args(parser.parse_args(["pretrain", "--preset", "imdb-gpt"]))
    assert "imdb-lstm" in parser._subparsers._group_actions[0].choices["pretrain"].format_help()


def test_tied_lstm_needs_its_width_equal_to_the_embedding():
    with pytest.raises(WorkbenchError, match="--lstm-hidden equal to --d-model"):
        pt.PretrainOptions(arch="lstm", tie_embeddings=True).configs()
    model_cfg, _ = pt.preset_options("imdb-lstm").configs()
    assert model_cfg.lstm_hidden == model_cfg.transformer.d_model and model_cfg.lstm_layers == 3


def test_half_saving_is_read_back_and_recorded(tmp_path):
    out = tmp_path / "run"
    result = run_main(
        "pretrain",
        "--corpus",
        CORPUS,
        "--steps",
        "6",
        "--d-model",
        "16",
        "--heads",
        "2",
        "--d-ff",
        "32",
        "--layers",
        "1",
        "--batch-size",
        "4",
        "--seq-len",
        "16",
        "--half",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    tensors = load_file(str(out / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in tensors.values())
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["dtype"] == "float16" and provenance["sha256"] == registry.sha256_of(out / "model.safetensors")
    model, _, _ = pt.load_model(out)
    for name, value in model.state_dict().items():
        if name in tensors:
            assert value.dtype == torch.float32 and torch.equal(value, tensors[name].float())


def test_a_time_budget_becomes_steps_in_the_config():
    assert steps_for_budget(10.0, 100.0) == 950 and steps_for_budget(0.01, 1.0) == 50
    model_cfg, cfg = pt.PretrainOptions(d_model=16, heads=2, d_ff=32, layers=1, batch_size=4, seq_len=16).configs()
    budgeted, rate = calibrated_config(model_cfg, cfg, resolve_corpus(CORPUS), build_vocab(CORPUS), "cpu", 2.0, 0.5)
    assert rate > 0 and budgeted.steps % 50 == 0 and budgeted.steps >= 50 and budgeted.batch_size == cfg.batch_size


def test_a_corpus_without_validation_is_validated_on_documents_it_never_trains_on():
    documents = [[f"w{i}", f"w{i + 1}"] for i in range(HELD_OUT_DOCUMENTS + 10)]
    vocab = Vocabulary.build(documents, min_count=1)
    train, valid = streams(Corpus("toy", documents, [], "toy"), vocab)
    assert len(train) == 10 * 4 and len(valid) == HELD_OUT_DOCUMENTS * 4  # [cls] w w [sep] per document


def test_padding_to_a_graph_bucket_changes_no_loss_and_a_cpu_step_is_eager():
    task = resolve_task("micro-sentiment")
    prepared = prepare("scratch-transformer", task, CORPUS, build_vocab(CORPUS), {})
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(without_dropout(prepared.pipeline.build_model(prepared)))
    stack = ReplicaStack(models, "cpu")
    parts = [collate([prepared.encoded["train"][i] for i in subset(task, n, 0)]) for n in (5, 11)]
    tensors = stack_batches(parts)
    padded = pad_to_bucket(tensors)
    assert padded["ids"].shape[1] % 8 == 0 and padded["ids"].shape[2] % 16 == 0
    assert padded["ids"].shape != tensors["ids"].shape
    torch.testing.assert_close(stack.losses(padded), stack.losses(tensors))
    with cuda_graphs():
        assert not FusedStep(stack, None, "cpu", "fp32").graphed


def test_ship_copies_a_finished_run_with_its_command_and_refuses_more_than_30_mb(tmp_path, monkeypatch):
    """bench/pretrain/ship.py, as it made workbench/shipped/: the run's files, chosen checkpoints in float16 with
    their hashes, the remake command in provenance.json; over the limit it writes nothing."""
    ship = load_script("bench/pretrain/ship.py")
    run = tmp_path / "run"
    tiny = ["--d-model", "16", "--heads", "2", "--d-ff", "32", "--layers", "1", "--batch-size", "4", "--seq-len", "16"]
    result = run_main("pretrain", "--corpus", CORPUS, "--steps", "8", *tiny, "--quiet", "--out", str(run))
    assert result.returncode == 0, result.stderr
    step = pt.kept_checkpoints(run)[0]["step"]
    record = ship.ship(run, [step], tmp_path / "shipped", "workbench pretrain ... && python bench/pretrain/ship.py")
    assert record["command"].endswith("ship.py") and record["sha256"] == registry.sha256_of(run / "model.safetensors")
    ((name, digest),) = record["checkpoints"].items()
    assert registry.sha256_of(tmp_path / "shipped" / name) == digest
    assert {t.dtype for t in load_file(str(tmp_path / "shipped" / name)).values()} <= {torch.float16, torch.int64}
    assert pt.load_model(tmp_path / "shipped")[0].cfg == pt.load_model(run)[0].cfg
    monkeypatch.setattr(ship, "SHIP_LIMIT_BYTES", 1000)
    with pytest.raises(SystemExit, match="over the 1,000 a shipped"):
        ship.ship(run, [], tmp_path / "too-big", None)
    assert not (tmp_path / "too-big").exists()


def test_the_gpu_session_trains_the_gpu_candidates_and_not_the_cpu_made_backbone():
    session = load_script("bench/pretrain/gpu_session.py")
    assert sorted(session.RUN_SETS["imdb"]) == sorted(
        ["imdb-clm", "imdb-clm-deep", "imdb-clm-untied", "imdb-mlm", "imdb-plm", "imdb-lstm"]
    )
    assert "imdb-mlm-cpu" in PRESETS and not PRESETS["imdb-mlm-cpu"].gpu
