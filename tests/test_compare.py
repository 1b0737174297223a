"""`workbench compare`: resumes after kill -9 without losing or duplicating a point, recovers a
corrupted line, refuses bad input with one line."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli, run_main

from workbench.errors import WorkbenchError
from workbench.experiments.config import build_config
from workbench.experiments.store import PointResult, ResultStore

TINY = """
task = "micro-sentiment"
corpus = "microworld:100000"
pipelines = ["tfidf", "random+lstm"]
sizes = [16, 32, 64]
seeds = 2
[settings."random+lstm".train]
max_steps = 20
min_steps = 20
[settings."random+lstm".encoder]
hidden = 16
"""


def lines(folder):
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]


def keys(records):
    return [(r["pipeline"], r["n"], r["seed"]) for r in records]


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "workbench", "compare", "--config", str(config), "--out", str(out), "--quiet"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        if (out / "results.jsonl").exists() and len(lines(out)) >= 3:
            break
        if process.poll() is not None:
            pytest.fail(f"compare ended before it could be killed: {process.stderr.read().decode()[-500:]}")
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = lines(out)
    assert 3 <= len(before) < 12
    result = run_cli("compare", "--config", str(config), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    after = lines(out)
    assert after[: len(before)] == before  # finished points are kept as they were
    assert sorted(keys(after)) == sorted(
        (p, n, s) for p in ("tfidf", "random+lstm") for n in (16, 32, 64) for s in (0, 1)
    )
    assert len(set(keys(after))) == len(after) == 12
    assert (out / "report.html").exists() and (out / "report.md").exists()


def test_corrupted_line_is_reported_and_only_that_point_recomputed(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY.split("[settings")[0].replace('["tfidf", "random+lstm"]', '["tfidf"]'))
    out = tmp_path / "run"
    assert run_main("compare", "--config", str(config), "--out", str(out), "--quiet").returncode == 0
    original = (out / "results.jsonl").read_text().splitlines()
    damaged = original[:2] + [original[2][: len(original[2]) // 2]] + original[3:]
    (out / "results.jsonl").write_text("\n".join(damaged) + "\n")
    result = run_main("compare", "--config", str(config), "--out", str(out), "--quiet")
    assert result.returncode == 0
    assert "results.jsonl:3: not valid JSON" in result.stdout + result.stderr
    records, warnings = ResultStore(out).read()
    assert len(records) == 6 and len(warnings) == 1
    assert sorted(keys(r.to_dict() for r in records)) == sorted(keys(json.loads(line) for line in original))


def test_store_never_glues_onto_a_partial_line(tmp_path):
    store = ResultStore(tmp_path)
    store.append(PointResult("a", 1, 0, {}, task="t"))
    with open(store.path, "a") as fh:
        fh.write('{"pipeline": "b", "ta')  # a crash mid-write
    store.append(PointResult("c", 1, 0, {}, task="t"))
    records, warnings = store.read()
    assert [r.pipeline for r in records] == ["a", "c"] and len(warnings) == 1


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--pipelines", "word2vec+lstm,bert"], "unknown pipeline 'bert'"),
        (["--pipelines", "tfidf", "--sizes", "16,100000"], "larger than the train split"),
        (["--pipelines", "tfidf", "--sizes", "16,abc"], "--sizes"),
        (["--pipelines", "tfidf", "--seeds", "1,1"], "listed twice"),
        (["--pipelines", "tfidf", "--seeds", "-1"], "--seeds '-1': a seed is a whole number >= 0"),
        (["--pipelines", "tfidf", "--seeds", "0,-2"], "a seed is a whole number >= 0"),
        (["--pipelines", "tfidf,random+lstm", "--budgets"], "--budgets needs a pretrained pipeline"),
        (["--pipelines", "tfidf", "--task", "micro-tagging"], "classification tasks only"),
        (
            ["--pipelines", "tfidf", "--grid", "4"],
            "--grid '4': give auto or a number of configurations per point, 1 to 3",
        ),
        (["--pipelines", "tfidf", "--grid", "all"], "--grid"),
        (["--pipelines", "tfidf", "--dev", "oracle"], "--dev 'oracle'"),
    ],
)
def test_bad_input_one_line(tmp_path, args, fragment):
    result = run_main("compare", "--out", str(tmp_path / "run"), "--quiet", *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_toml_errors_and_precedence(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('pipelines = ["tfidf"]\nseeds = 5\nsizez = [1]\n')
    with pytest.raises(WorkbenchError, match="unknown setting.*sizez"):
        build_config(path)
    path.write_text('pipelines = ["tfidf"]\nseeds = 5\nsizes = [16, "full"]\n')
    config = build_config(path, seeds="2")
    assert config.seeds == [0, 1] and config.sizes == [16, "full"] and config.pipelines == ["tfidf"]
    path.write_text("pipelines = [\n")
    with pytest.raises(WorkbenchError, match="not valid TOML"):
        build_config(path)


def test_folder_with_other_task_is_refused(tmp_path):
    out = tmp_path / "run"
    assert (
        run_main(
            "compare", "--pipelines", "tfidf", "--sizes", "16", "--seeds", "1", "--out", str(out), "--quiet"
        ).returncode
        == 0
    )
    result = run_main(
        "compare",
        "--pipelines",
        "tfidf",
        "--sizes",
        "16",
        "--seeds",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--corpus",
        "microworld:100000",
    )
    assert result.returncode == 2 and "holds a comparison with another config" in result.stderr


def test_budgets_fine_tune_on_each_kept_checkpoint(tmp_path):
    """--budgets: score at fixed n against pretraining FLOPs, one point per kept checkpoint and seed."""
    from workbench import pretrain as pt
    from workbench.data.tasks import resolve_corpus
    from workbench.data.vocab import build_vocab
    from workbench.experiments.runner import run_compare
    from workbench.models.lm import LMConfig
    from workbench.models.transformer import TransformerConfig

    corpus_name = "microworld:100000"
    backbone = tmp_path / "clm"
    pt.pretrain(
        LMConfig(objective="clm", transformer=TransformerConfig(d_model=32, n_layers=1, n_heads=2, d_ff=64)),
        pt.PretrainConfig(steps=64, batch_size=8, seq_len=32, eval_every=32, eval_blocks=4, warmup=4),
        resolve_corpus(corpus_name),
        corpus_name,
        build_vocab(corpus_name),
        backbone,
        progress=False,
    )
    small = {"train": {"max_steps": 10, "min_steps": 10}}
    config = build_config(
        None,
        pipelines="clm,random+lstm",
        sizes="16",
        seeds="2",
        corpus=corpus_name,
        out=str(tmp_path / "run"),
        budgets=True,
        budget_n=16,
    )
    config.settings = {"clm": {**small, "backbone": str(backbone)}, "random+lstm": {**small, "encoder": {"hidden": 16}}}
    folder = run_compare(config, progress=False, pdf=False)
    records, _ = ResultStore(folder).read()
    budget = [r for r in records if r.kind == "budget"]
    assert sorted((r.checkpoint, r.seed) for r in budget) == sorted(
        (f"checkpoints/step_{s:07d}.safetensors", seed) for s in (32, 64) for seed in (0, 1)
    )
    assert all(r.pipeline == "clm" and r.n == 16 and r.budget_flops > 0 for r in budget)
    assert len([r for r in records if r.kind == "curve"]) == 4
    assert (folder / "figures" / "budgets.png").exists()
    prepared = json.loads((folder / "prepared.json").read_text())
    assert prepared["clm"]["pretraining"]["flops"] > 0 and prepared["random+lstm"]["pretraining"]["method"] == "none"


def test_worker_processes_give_the_same_points_as_one_process(tmp_path):
    """--workers 2 spreads the groups over two spawned processes; every point seeds itself, so the
    results equal a one-process run's, and each point is written once."""
    grid = dict(
        task="micro-sentiment",
        corpus="microworld:100000",
        pipelines=["tfidf", "random+lstm"],
        sizes=[16, 32],
        seeds=[0, 1],
        fuse="off",
        settings={"random+lstm": {"train": {"max_steps": 12, "min_steps": 12}, "encoder": {"hidden": 16}}},
    )
    from workbench.experiments.runner import run_compare

    results = {}
    for workers in ("1", "2"):
        folder = run_compare(
            build_config(**grid, workers=workers, out=str(tmp_path / workers)), progress=False, report=False
        )
        records = lines(folder)
        assert len(records) == 8 and len(set(keys(records))) == 8
        results[workers] = {(r["pipeline"], r["n"], r["seed"]): r["metrics"] for r in records}
    assert results["1"] == results["2"]
    with pytest.raises(WorkbenchError, match="--workers"):
        build_config(workers="0")
