"""`hf:PATH`: a local transformers checkpoint fine-tuned under the workbench's heads, loop and selection,
reading the task through its own tokenizer. Nothing is downloaded: each family's tiny random model and
a tokenizer trained here on the micro-world's words are saved to a temporary folder first."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("transformers", reason="hf:PATH needs the transformers extra: pip install '.[hf]'")

import torch
import transformers
from conftest import ROOT, run_main
from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer

from workbench.core.batching import IGNORE, collate
from workbench.core.train import predict
from workbench.data.tasks import resolve_task
from workbench.data.types import TAGGING, Example, Task
from workbench.errors import WorkbenchError
from workbench.pipelines import parse_pipeline
from workbench.pipelines.hf import encode_words
from workbench.pipelines.registry import pipeline_for
from workbench.pipelines.run import prepare, run_point
from workbench.pipelines.tuning import Protocol

FAMILIES = ("bert", "distilbert", "roberta", "gpt2")
SMALL = {"hidden": 32, "layers": 2, "heads": 2, "ffn": 64, "positions": 64}


def _text() -> list[str]:
    """Sentences of both micro-world tasks the tests use, to train the tiny tokenizers on."""
    return [
        " ".join(ex.tokens)
        for name in ("micro-sentiment", "micro-tagging")
        for ex in resolve_task(name).splits["train"][:400]
    ]


def _config(family: str, vocab_size: int):
    s = SMALL
    if family in ("bert", "roberta"):  # RoBERTa: <s> 0, <pad> 1, </s> 2, and positions start after the pad id
        return (transformers.BertConfig if family == "bert" else transformers.RobertaConfig)(
            vocab_size=vocab_size,
            hidden_size=s["hidden"],
            num_hidden_layers=s["layers"],
            num_attention_heads=s["heads"],
            intermediate_size=s["ffn"],
            max_position_embeddings=s["positions"] + (2 if family == "roberta" else 0),
        )
    if family == "distilbert":
        return transformers.DistilBertConfig(
            vocab_size=vocab_size,
            dim=s["hidden"],
            n_layers=s["layers"],
            n_heads=s["heads"],
            hidden_dim=s["ffn"],
            max_position_embeddings=s["positions"],
        )
    return transformers.GPT2Config(
        vocab_size=vocab_size,
        n_embd=s["hidden"],
        n_layer=s["layers"],
        n_head=s["heads"],
        n_positions=s["positions"],
        bos_token_id=0,
        eos_token_id=0,
    )


def save_checkpoint(folder, family: str, text: list[str]) -> None:
    """A tiny random `family` model and its tokenizer's files, laid out as a downloaded checkpoint is
    (config.json, model.safetensors, vocab.txt or vocab.json + merges.txt): AutoTokenizer finds the
    tokenizer class from config.json's model_type. Small vocabularies, so most words split into pieces."""
    folder.mkdir(parents=True)
    if family in ("bert", "distilbert"):
        tokenizer = BertWordPieceTokenizer(lowercase=True)
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tokenizer.train_from_iterator(text, vocab_size=150, special_tokens=specials, show_progress=False)
    else:
        tokenizer = ByteLevelBPETokenizer()
        specials = ["<|endoftext|>"] if family == "gpt2" else ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tokenizer.train_from_iterator(text, vocab_size=320, special_tokens=specials, show_progress=False)
    tokenizer.save_model(str(folder))
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(_config(family, tokenizer.get_vocab_size()))
    model.save_pretrained(folder)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    text = _text()
    for family in FAMILIES:
        save_checkpoint(root / family, family, text)
    return {family: root / family for family in FAMILIES}


def _prepared(checkpoints, family, task="micro-sentiment"):
    return prepare(f"hf:{checkpoints[family]}", resolve_task(task))


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_prepares_with_its_own_tokenizer_and_runs_a_point(checkpoints, family):
    prepared = _prepared(checkpoints, family)
    task = prepared.task
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        checkpoints[family], **({"add_prefix_space": True} if family in ("gpt2", "roberta") else {})
    )
    example = task.splits["train"][0]
    assert prepared.encoded["train"][0].ids == tokenizer(list(example.tokens), is_split_into_words=True)["input_ids"]
    assert prepared.rows is None and prepared.pool == ("last" if family == "gpt2" else "first")
    pre = prepared.info["pretraining"]
    assert pre["method"] == f"transformers checkpoint ({family})" and pre["folder"] == str(checkpoints[family])
    checkpoint = transformers.AutoModel.from_pretrained(checkpoints[family])
    expected = sum(p.numel() for name, p in checkpoint.named_parameters() if not name.startswith("pooler."))
    counts = prepared.pipeline.parameter_counts(prepared)
    assert pre["parameters"] == counts["pretrained"] == expected
    assert counts["from_labels"] == 32 * 2 + 2  # the classification head only
    assert "own tokenizer" in prepared.info["coverage"] and set(prepared.info["oov"]) == set(task.splits)
    assert prepared.pipeline.group_size(prepared, "8", "cuda") == 1
    result = run_point(prepared, 32, 0, protocol=Protocol(grid=1))
    assert 0.0 <= result["metrics"]["test"]["accuracy"] <= 1.0
    assert result["examples"]["test"] == len(task.splits["test"])
    assert result["fit"]["steps"] >= 120 and result["fit"]["fused_replicas"] == 1
    assert result["fit"]["train_config"]["lr"] == 3e-5 and len(result["selection"]["configs"]) == 1
    assert result["pretraining"]["method"] == pre["method"]


@pytest.mark.parametrize("family", FAMILIES)
def test_the_encoder_gives_the_checkpoints_states_padded_or_not(checkpoints, family):
    prepared = _prepared(checkpoints, family)
    model = prepared.pipeline.build_model(prepared).eval()
    items = sorted(prepared.encoded["test"][:12], key=lambda item: len(item.ids))
    assert len(items[0].ids) < len(items[-1].ids)  # the batch pads its shorter rows
    batch = collate(items)
    reference = transformers.AutoModel.from_pretrained(checkpoints[family]).eval()
    ids = batch.ids.masked_fill(~batch.pad_mask, prepared.pad_id)
    with torch.no_grad():
        states = model.encoder(model.embed(batch.ids), batch.pad_mask)
        expected = reference(input_ids=ids, attention_mask=batch.pad_mask.long()).last_hidden_state
        assert torch.isfinite(states).all()
        torch.testing.assert_close(states, expected, atol=1e-5, rtol=1e-4)
        for row, item in enumerate(items):  # each row alone, unpadded: the same states at its real tokens
            alone = model.encoder(torch.tensor([item.ids]), torch.ones(1, len(item.ids), dtype=torch.bool))
            torch.testing.assert_close(states[row, : len(item.ids)], alone[0], atol=1e-5, rtol=1e-4)
    groups = model.parameter_groups(1e-3, 0.8)  # layer-wise decay: each layer, the embeddings, the rest
    assert len(groups) == SMALL["layers"] + 2
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())


def test_compare_through_the_cli_writes_results_and_a_report(checkpoints, tmp_path):
    name = f"hf:{checkpoints['bert']}"
    out = tmp_path / "run"
    result = run_main(
        "compare",
        "--task",
        "micro-sentiment",
        "--pipelines",
        f"{name},tfidf",
        "--sizes",
        "16",
        "--seeds",
        "1",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    assert sorted(r["pipeline"] for r in records) == sorted([name, "tfidf"])
    mine = next(r for r in records if r["pipeline"] == name)
    assert 0.0 <= mine["metrics"]["test"]["accuracy"] <= 1.0
    prepared = json.loads((out / "prepared.json").read_text())[name]
    assert prepared["pretraining"]["method"] == "transformers checkpoint (bert)"
    assert prepared["parameters"]["pretrained"] == prepared["pretraining"]["parameters"]
    report = (out / "report.md").read_text()
    assert name in report and "transformers checkpoint (bert)" in report


def test_tagging_tags_each_word_at_its_first_piece(checkpoints):
    prepared = _prepared(checkpoints, "bert", "micro-tagging")
    task = prepared.task
    assert prepared.info["coverage"].count("pieces per word") == 1
    for item, ex in zip(prepared.encoded["test"], task.splits["test"]):
        assert sum(tag != IGNORE for tag in item.tags) == len(ex.tags)  # one tag per word, not per piece
    assert any(len(item.ids) > len(ex.tags) + 2 for item, ex in zip(prepared.encoded["test"], task.splits["test"]))
    model = prepared.pipeline.build_model(prepared)
    predictions = predict(model, prepared.encoded["test"][:50])
    assert [len(p) for p in predictions] == [len(ex.tags) for ex in task.splits["test"][:50]]
    result = run_point(prepared, 32, 0, protocol=Protocol(grid=1))
    assert 0.0 <= result["metrics"]["test"]["token_accuracy"] <= 1.0
    assert result["fit"]["steps"] >= 120


def test_a_word_the_tokenizer_reads_as_nothing_keeps_its_place(checkpoints):
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoints["bert"])
    words = ("the", "\u200b", "soup", "")  # BERT's normaliser deletes a zero-width space; "" has no piece
    task = Task("t", TAGGING, {"test": [Example(words, tags=("a", "b", "a", "b"))]}, ["a", "b"])
    encoded, read = encode_words(tokenizer, task, 64)
    tags = [tag for tag in encoded["test"][0].tags if tag != IGNORE]
    assert tags == [0, 1, 0, 1] and read["counts"]["emptied"] == 2


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_bad_checkpoints_are_one_line_errors_naming_the_path(checkpoints, tmp_path):
    task = resolve_task("micro-sentiment")
    missing = tmp_path / "nowhere"
    with pytest.raises(WorkbenchError) as exc:
        prepare(f"hf:{missing}", task)
    assert str(missing) in _one_line(exc) and "not a folder" in str(exc.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkbenchError) as exc:
        prepare(f"hf:{empty}", task)
    assert str(empty) in _one_line(exc) and "no config.json" in str(exc.value)
    t5 = tmp_path / "t5"
    t5.mkdir()
    (t5 / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 32}))
    with pytest.raises(WorkbenchError) as exc:
        prepare(f"hf:{t5}", task)
    assert str(t5) in _one_line(exc) and "holds a t5" in str(exc.value)
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    for name in ("config.json", "vocab.txt"):
        (no_weights / name).write_text((checkpoints["bert"] / name).read_text())
    with pytest.raises(WorkbenchError) as exc:
        prepare(f"hf:{no_weights}", task)
    assert str(no_weights) in _one_line(exc) and "cannot read its weights" in str(exc.value)
    with pytest.raises(WorkbenchError) as exc:
        prepare(f"hf:{checkpoints['bert']}", resolve_task("micro-qa"))
    assert str(checkpoints["bert"]) in _one_line(exc) and "span tasks" in str(exc.value)
    with pytest.raises(WorkbenchError, match="give the checkpoint's folder"):
        parse_pipeline("hf:")
    with pytest.raises(WorkbenchError, match="hf:PATH"):
        parse_pipeline("bert-base")
    with pytest.raises(WorkbenchError, match="unknown table or key 'backbone'"):
        pipeline_for(f"hf:{checkpoints['bert']}", {"backbone": str(checkpoints["bert"])})
    with pytest.raises(WorkbenchError, match="pool"):
        pipeline_for(f"hf:{checkpoints['bert']}", {"pool": "cls"})


def test_finetune_through_the_cli_names_the_checkpoint_and_its_tokenizer(checkpoints, tmp_path):
    name = f"hf:{checkpoints['distilbert']}"
    args = ("--task", "micro-sentiment", "--n", "16", "--max-steps", "20", "--grid", "1", "--out", str(tmp_path / "ft"))
    result = run_main("finetune", "--pipeline", name, *args)
    assert result.returncode == 0, result.stderr
    assert "coverage: own tokenizer" in result.stdout
    assert "pretraining: transformers checkpoint (distilbert), " in result.stdout
    assert str(checkpoints["distilbert"]) in result.stdout
    assert json.loads((tmp_path / "ft" / "results.json").read_text())["pipeline"] == name


def test_bad_checkpoint_through_the_cli_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_main("finetune", "--pipeline", f"hf:{missing}", "--task", "micro-sentiment", "--n", "16")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(missing) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "hf:PATH" in run_main("finetune", "--help").stdout


def test_without_transformers_only_hf_pipelines_refuse(checkpoints, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers now raises ImportError
    with pytest.raises(WorkbenchError, match=r"needs the transformers extra: pip install '\.\[hf\]'") as exc:
        prepare(f"hf:{checkpoints['bert']}", resolve_task("micro-sentiment"))
    _one_line(exc)
    # a fresh interpreter without transformers imports the whole CLI and every family
    code = (
        "import sys; sys.modules['transformers'] = None\n"
        "from workbench.cli import main\n"
        "from workbench.pipelines.registry import pipeline_for\n"
        "pipeline_for('hf:/somewhere'); pipeline_for('word2vec+lstm')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
