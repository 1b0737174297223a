"""The command line as a user meets it: help with examples, data commands, one-line errors with exit 2."""

import pytest
from conftest import real_data_dir, requires_real_data, run_cli, run_main


def test_help_everywhere_has_an_example(capsys):
    """Every command's help says what it does, with an example (checked in-process: 16 subprocesses are slow)."""
    from workbench.cli import main

    assert run_cli("--help").returncode == 0
    commands = [[], ["data"], ["embed"]]
    commands += [["data", sub] for sub in ("list", "info", "fetch")]
    commands += [["embed", sub] for sub in ("train", "eval", "neighbors", "plot")]
    commands += [[name] for name in ("finetune", "pretrain", "compare", "report", "generate", "fill", "perplexity")]
    for args in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([*args, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert "example" in text and "workbench " in text, args


def test_data_list_and_info_micro_sentiment():
    listing = run_main("data", "list")
    assert listing.returncode == 0
    for name in (
        "micro-sentiment",
        "micro-tagging",
        "micro-qa",
        "microworld",
        "wikitext2",
        "sst2",
        "ud-upos",
        "conll2000-chunk",
    ):
        assert name in listing.stdout
    info = run_main("data", "info", "micro-sentiment")
    assert info.returncode == 0, info.stderr
    assert "train" in info.stdout and "3,000 examples" in info.stdout and "shifted" in info.stdout
    assert "negative" in info.stdout and "positive" in info.stdout


@requires_real_data
def test_data_info_sst2_real_sizes():
    info = run_main("data", "info", "sst2", env={"WORKBENCH_DATA": str(real_data_dir())})
    assert info.returncode == 0, info.stderr
    assert "67,349 examples" in info.stdout and "872 examples" in info.stdout and "1,821 examples" in info.stdout
    assert "license" in info.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["data", "info", "no-such-dataset"], "unknown task 'no-such-dataset'"),
        (["data", "fetch", "no-such-dataset"], "unknown dataset 'no-such-dataset'"),
        (["data", "info", "tsv:/definitely/missing.tsv"], "no such file"),
        (["finetune", "--pipeline", "bert+lstm", "--task", "micro-sentiment"], "unknown pipeline 'bert+lstm'"),
        (
            ["finetune", "--pipeline", "tfidf", "--task", "micro-sentiment", "--n", "100000"],
            "larger than the train split",
        ),
        (["finetune", "--pipeline", "tfidf", "--task", "micro-sentiment", "--n", "1"], "number of classes"),
        (["finetune", "--pipeline", "tfidf", "--task", "micro-tagging", "--n", "50"], "classification tasks only"),
    ],
)
def test_bad_input_one_line_exit_2(args, fragment):
    result = run_main(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_unwritable_cache_fetch(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_main("data", "fetch", "sst2", env={"WORKBENCH_DATA": str(blocker / "cache")})
    assert result.returncode == 2 and "cannot be written" in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_traceback():
    result = run_main("--debug", "data", "info", "no-such-dataset")
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_latin1_file_error_names_line(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_bytes(b"text\tlabel\ngood\tpos\ncaf\xe9\tneg\n")
    result = run_main("data", "info", f"tsv:{path}")
    assert result.returncode == 2 and "reviews.tsv:3" in result.stderr and "UTF-8" in result.stderr


def test_one_row_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "one.tsv"
    path.write_text("text\tlabel\ngood film\tpos\n")
    result = run_main("data", "info", f"tsv:{path}")
    assert result.returncode == 2 and "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "too few rows to split 80/10/10" in result.stderr
