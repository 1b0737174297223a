"""Presets are data shipped in the package: `compare --preset NAME` starts from them; --config and explicit
options override them; an unknown name is a one-line error listing the presets. Seeds can depend on n."""

import pytest
from conftest import run_main

from workbench.errors import WorkbenchError
from workbench.experiments.config import CompareConfig, build_config, load_preset, preset_names
from workbench.pipelines import STATIC_REPRESENTATIONS

REAL_TEXT = ("imdb-sst2", "imdb")


def test_real_text_presets_ship_and_parse():
    assert set(REAL_TEXT) <= set(preset_names())
    for name in REAL_TEXT:
        config = build_config(preset=name)
        assert config.preset == name and config.corpus == "imdb" and config.task == name.removeprefix("imdb-")
        static = {f"{r}+lstm" for r in STATIC_REPRESENTATIONS}
        assert static | {"clm", "mlm", "lstm-lm", "scratch-transformer", "tfidf"} <= set(config.pipelines)
        assert config.sizes[0] == 16 and config.sizes[-1] == "full"
        assert config.seeds_for(16) == config.seeds_for(256) == [0, 1, 2, 3, 4]
        assert config.seeds_for(1000) == [0, 1, 2]
        assert "head+tail" in load_preset("imdb")["description"]  # long reviews: the truncation is stated
        for pipeline in ("clm", "lstm-lm"):  # a CPU-sized backbone until a shipped one exists
            assert config.settings[pipeline]["steps"] > 0
        assert "mlm" not in config.settings  # its default on imdb ships (tests/test_shipped_checkpoint.py)


def test_options_and_config_override_a_preset(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text("sizes = [16, 64]\n[settings.clm]\nsteps = 7\n[seeds_up_to]\n64 = 4\n")
    config = build_config(path, preset="imdb-sst2", seeds="2", out=str(tmp_path / "run"))
    assert config.sizes == [16, 64] and config.seeds == [0, 1] and config.out == str(tmp_path / "run")
    assert config.settings["clm"] == {"steps": 7} and config.seeds_up_to == {256: 5, 64: 4}
    assert config.seeds_for(16) == [0, 1, 2, 3] and config.seeds_for(200) == [0, 1, 2, 3, 4]
    asked = build_config(preset="imdb-sst2", seeds="2")  # --seeds alone: those seeds, not the preset's extra ones
    assert asked.seeds_up_to == {} and asked.seeds_for(16) == asked.seeds_for(1000) == [0, 1]
    fewer = build_config(preset="imdb-sst2", pipelines="tfidf,clm")  # the preset's other settings drop out
    assert fewer.pipelines == ["tfidf", "clm"] and set(fewer.settings) == {"clm"}


def test_seeds_up_to_continues_or_cuts_the_seed_list():
    config = CompareConfig(seeds=[3, 7], seeds_up_to={16: 4, 256: 1})
    assert config.seeds_for(16) == [3, 7, 8, 9] and config.seeds_for(100) == [3] and config.seeds_for(300) == [3, 7]
    assert build_config(seeds_up_to="256:5,16:10").seeds_up_to == {256: 5, 16: 10}
    with pytest.raises(WorkbenchError, match="N:COUNT"):
        build_config(seeds_up_to="256")


def test_unknown_preset_is_one_line_listing_the_presets(tmp_path):
    result = run_main("compare", "--preset", "imdb-sst3", "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "imdb-sst3" in result.stderr and all(name in result.stderr for name in REAL_TEXT)


def test_presets_are_listed_in_help():
    result = run_main("compare", "--help")
    assert all(name in result.stdout for name in REAL_TEXT)


def test_a_config_file_may_not_name_a_preset(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text('preset = "imdb"\n')
    with pytest.raises(WorkbenchError, match="unknown setting.*preset"):
        build_config(path)
