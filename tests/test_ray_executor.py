"""`workbench compare --executor ray`: with no cluster it starts a local one (the README's line);
the same results as the local executor; a worker killed mid-grid is retried and no point is lost
or duplicated; a rerun resumes from the results file."""

import json

import pytest
from conftest import run_main

from workbench.experiments.config import build_config
from workbench.experiments.runner import run_compare

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]' (CI installs it)")

SETTINGS = {"random+lstm": {"train": {"max_steps": 12, "min_steps": 12}, "encoder": {"hidden": 16}}}
GRID = dict(
    task="micro-sentiment",
    corpus="microworld:100000",
    pipelines=["tfidf", "random+lstm"],
    sizes=[16, 32],
    seeds=[0, 1],
    fuse="2",
    settings=SETTINGS,
)


@pytest.fixture(scope="module")
def fault_marker(tmp_path_factory):
    """A local 2-CPU cluster whose first task kills its own worker (see executors._group_task)."""
    marker = tmp_path_factory.mktemp("fault") / "killed-once"
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"WORKBENCH_FAULT_ONCE": str(marker)}},
    )
    yield marker
    ray.shutdown()


def records(folder):
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]
    return {(r["pipeline"], r["n"], r["seed"]): r["metrics"] for r in lines}, len(lines)


@pytest.mark.slow
def test_without_a_cluster_compare_starts_a_local_one(tmp_path, monkeypatch):
    """README: `workbench compare --executor ray` with no --address and no running cluster starts one here."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()  # this test must run before the module's cluster fixture starts one
    try:
        result = run_main(
            "compare",
            "--executor",
            "ray",
            "--pipelines",
            "tfidf",
            "--sizes",
            "16",
            "--seeds",
            "1",
            "--corpus",
            "microworld:100000",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        )
        assert ray.is_initialized()  # compare started the cluster itself
    finally:
        ray.shutdown()
    assert result.returncode == 0, result.stderr
    got, count = records(tmp_path / "run")
    assert count == 1 and 0.0 <= got[("tfidf", 16, 0)]["test"]["accuracy"] <= 1.0
    assert (tmp_path / "run" / "report.html").is_file()


def test_unreachable_cluster_or_missing_ray_is_one_line(tmp_path, monkeypatch):
    args = [
        "compare",
        "--executor",
        "ray",
        "--sizes",
        "16",
        "--seeds",
        "1",
        "--pipelines",
        "tfidf",
        "--corpus",
        "microworld:100000",
        "--quiet",
    ]
    result = run_main(*args, "--address", "127.0.0.1:1", "--out", str(tmp_path / "a"))
    assert result.returncode == 2 and "--address 127.0.0.1:1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as on a machine without the extra
    result = run_main(*args, "--out", str(tmp_path / "b"))
    assert result.returncode == 2 and 'pip install ".[ray]"' in result.stderr


def test_ray_grid_equals_local_survives_a_killed_worker_and_resumes(fault_marker, tmp_path):
    local = tmp_path / "local"
    run_compare(build_config(**GRID, out=str(local)), progress=False, report=False)
    want, _ = records(local)

    config = build_config(**GRID, out=str(tmp_path / "ray"), executor="ray")
    run_compare(config, progress=False, report=False)
    assert fault_marker.exists()  # a worker did die mid-grid, and its task was retried
    got, count = records(tmp_path / "ray")
    assert count == 8 and got == want

    path = tmp_path / "ray" / "results.jsonl"
    path.write_text("\n".join(path.read_text().splitlines()[:5]) + "\n")  # as if the driver died after five points
    run_compare(config, progress=False, report=False)
    got, count = records(tmp_path / "ray")
    assert count == 8 and got == want
