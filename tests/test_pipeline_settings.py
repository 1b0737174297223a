"""Pipeline settings are typed and checked per family: a misspelled table or key, a value of the
wrong type, or a setting the pipeline does not read is a one-line error naming it, raised when the
comparison's config is built and in `workbench finetune`, before anything is prepared."""

import pytest
from conftest import run_main

from workbench.core.train import TrainConfig
from workbench.errors import WorkbenchError
from workbench.experiments.config import build_config
from workbench.models.lstm import LSTMConfig
from workbench.models.transformer import TransformerConfig
from workbench.pipelines.registry import pipeline_for


def config_with(pipeline: str, settings: dict):
    return build_config(None, pipelines=pipeline, settings={pipeline: settings})


@pytest.mark.parametrize(
    "pipeline, settings, named, listed",
    [
        ("word2vec+lstm", {"encodr": {"hidden": 16}}, "'encodr'", "encoder, pool, train, vectors"),
        ("word2vec+lstm", {"encoder": {"hiden": 16}}, "'hiden'", "hidden, layers, dropout, bidirectional"),
        ("random+transformer", {"encoder": {"hidden": 16}}, "'hidden'", "d_model"),  # an LSTM key on a Transformer
        ("glove+lstm", {"vectors": {"dims": 50}}, "'dims'", "dim, window, epochs, sg, negative"),
        ("random+lstm", {"train": {"max_step": 5}}, "'max_step'", "max_steps"),
        ("clm", {"encoder": {"d_model": 32}}, "'encoder'", "backbone, checkpoint, corpus, pool, steps, train"),
        ("clm:prompt", {"pool": "mean"}, "'pool'", "train"),  # the LM head reads the slot: there is nothing to pool
        ("clm:prompt", {"shots": 2}, "'shots'", "train"),  # shots are for :icl
        ("scratch-transformer", {"backbone": "somewhere"}, "'backbone'", "pool, train"),
        ("tfidf", {"train": {"max_steps": 5}}, "'train'", "no settings"),
    ],
)
def test_unknown_table_or_key_is_named_with_the_known_ones(pipeline, settings, named, listed):
    with pytest.raises(WorkbenchError) as error:
        config_with(pipeline, settings)
    message = str(error.value)
    assert "\n" not in message and pipeline in message and named in message and listed in message


@pytest.mark.parametrize(
    "pipeline, settings, match",
    [
        ("random+lstm", {"train": {"max_steps": "many"}}, "max_steps = 'many': expected a whole number"),
        ("random+lstm", {"encoder": {"bidirectional": 1}}, "expected true or false"),
        ("random+lstm", {"train": 5}, "expected a table"),
        ("random+lstm", {"pool": "median"}, "choose one of max, mean, first, last"),
        ("clm:icl", {"shots": 0}, "positive number"),
        ("random+transformer", {"encoder": {"d_model": 30, "n_heads": 4}}, "not divisible"),
        ("random+lstm", "hidden=16", "expected a table of settings"),
    ],
)
def test_wrong_values_are_one_line_errors(pipeline, settings, match):
    with pytest.raises(WorkbenchError, match=match):
        config_with(pipeline, settings)


def test_settings_become_typed_configs_over_the_family_defaults():
    static = pipeline_for(
        "word2vec+transformer", {"train": {"max_steps": 9, "lr": 1}, "encoder": {"d_model": 32, "n_heads": 2}}
    )
    assert static.train_config() == TrainConfig(lr=1, weight_decay=0.01, max_steps=9)
    assert static.encoder_config == TransformerConfig(d_model=32, n_heads=2) and static.pool == "mean"
    assert pipeline_for("random+lstm").encoder_config == LSTMConfig()
    assert pipeline_for("clm:probe").train_config() == TrainConfig(lr=3e-3)
    assert pipeline_for("clm:icl", {"shots": 2}).shots == 2 and pipeline_for("clm:icl").shots == 4
    assert pipeline_for("scratch-transformer").train_config() == TrainConfig(lr=2e-3, weight_decay=0.01)


def test_a_config_file_with_a_misspelled_table_fails_in_one_line(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text('pipelines = ["random+lstm"]\n[settings."random+lstm".trian]\nmax_steps = 5\n')
    result = run_main("compare", "--config", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2 and "'trian'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_finetune_refuses_an_option_the_pipeline_does_not_read(tmp_path):
    result = run_main("finetune", "--pipeline", "clm:prompt", "--shots", "2", "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "'shots'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
