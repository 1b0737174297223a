"""What the real-text lab tells a user before paying for it: `embed train` without --out trains into the cache
`compare` reads (and finds it there the second time), with time and similarity scores printed; a pretraining
on the CPU is announced with its expected cost."""

from conftest import run_main

from workbench.pretrain.cpu_cost import announce_cpu_pretraining
from workbench.pretrain.options import PretrainOptions


def test_embed_train_into_the_compare_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))  # an empty cache: another test may have trained these
    first = run_main("embed", "train", "--method", "word2vec", "--corpus", "microworld:20000", "--epochs", "1")
    assert first.returncode == 0, first.stderr
    assert "trained in" in first.stdout and "wordsim353: Spearman" in first.stdout and "simlex999" in first.stdout
    again = run_main("embed", "train", "--method", "word2vec", "--corpus", "microworld:20000", "--epochs", "1")
    assert "found in the cache" in again.stdout
    assert first.stdout.splitlines()[-1] == again.stdout.splitlines()[-1]  # the same cached folder


def test_cpu_pretraining_is_announced_with_its_cost(capsys):
    model_cfg, cfg = PretrainOptions(objective="clm", corpus="imdb", steps=350).configs()
    model_cfg.vocab_size = 60_000
    announce_cpu_pretraining(model_cfg, cfg, "imdb", [], ask=False)
    said = capsys.readouterr().out
    assert said.startswith("workbench: warning:") and "350 steps" in said and "minutes on one core" in said
