"""`workbench export --to hf`: the exported folder loads with transformers' Auto classes and computes our
logits; its tokenizer reads text as the workbench does; what no standard class computes is refused."""

import json
from dataclasses import replace

import pytest
import torch
from conftest import requires_real_data, run_main

from workbench.data import readers, realtext, registry
from workbench.data.imdb_files import read_reviews
from workbench.data.vocab import SPECIALS, Vocabulary
from workbench.errors import WorkbenchError
from workbench.export import check_exportable, export_hf
from workbench.models.lm import LanguageModel
from workbench.pretrain.options import PretrainOptions

transformers = pytest.importorskip("transformers", reason="the hf extra (pip install '.[hf]'); CI installs it")

AUTO = {"clm": transformers.AutoModelForCausalLM, "mlm": transformers.AutoModelForMaskedLM}
VOCAB = Vocabulary(list(SPECIALS) + [f"w{i}" for i in range(95)])


def random_model(objective: str, **options) -> LanguageModel:
    """A small model of the configs `workbench pretrain` builds, weights moved off their init (so that every
    tensor, biases and LayerNorms included, matters to the logits)."""
    model_cfg, _ = PretrainOptions(objective=objective, d_model=32, layers=2, heads=4, d_ff=64, **options).configs()
    torch.manual_seed(0)
    model = LanguageModel(replace(model_cfg, vocab_size=len(VOCAB))).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model


@pytest.mark.parametrize("objective", ["clm", "mlm"])
@pytest.mark.parametrize("tied", [False, True])
def test_exported_model_computes_our_logits(tmp_path, objective, tied):
    model = random_model(objective, tie_embeddings=tied)
    out = export_hf(model, VOCAB, "microworld", tmp_path / "hf", {"source": "test"})
    hf = AUTO[objective].from_pretrained(out).eval()
    assert type(hf).__name__ == {"clm": "GPT2LMHeadModel", "mlm": "MegatronBertForMaskedLM"}[objective]
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(len(SPECIALS), len(VOCAB), (3, 40), generator=generator)
    real = torch.ones_like(ids, dtype=torch.bool)
    real[1, 25:] = False  # a right-padded row, as the workbench batches
    ids[~real] = VOCAB.pad_id
    with torch.no_grad():
        ours = model(ids, real)
        theirs = hf(input_ids=ids, attention_mask=real.long()).logits
    torch.testing.assert_close(theirs[real], ours[real], atol=2e-5, rtol=1e-5)
    record = json.loads((out / "workbench_export.json").read_text())
    assert record["source"] == "test" and record["tokenizer"] == "whitespace"


@pytest.mark.parametrize(
    "options, says",
    [
        ({"objective": "plm"}, "no standard transformers class"),
        ({"objective": "clm", "arch": "lstm"}, "no standard transformers class"),
        ({"objective": "mlm", "positions": "rotary"}, "--positions learned"),
    ],
)
def test_models_no_standard_class_computes_are_refused(options, says):
    model_cfg, _ = PretrainOptions(**options).configs()
    with pytest.raises(WorkbenchError, match=says):
        check_exportable(model_cfg)


def test_a_model_with_the_old_head_is_refused_with_how_to_fix():
    model_cfg, _ = PretrainOptions(objective="clm").configs()
    with pytest.raises(WorkbenchError, match="pretrain it again"):
        check_exportable(replace(model_cfg, head_bias=True))  # as every CLM was before GPT-2's head


def encoded(tokenizer, text: str, pair: str | None = None) -> list[int]:
    return tokenizer(text, pair).input_ids if pair else tokenizer(text).input_ids


EDGE_CASES = [
    "The film <br /><br />was GREAT &amp; I didn't expect it... It's a 7/10, honestly -- mr. Smith's best!!!",
    "I cannot say, gonna wait. \u201cWhy?\u201d she asked\u2026 they'd've liked it \u2014 1,000 times ('70s u.s. films)",
    "-LRB- ok -RRB- ``quoted'' o'brien well-made hyphen--ated *** ?!? can't won't we're you'll i'm",
]


def vocabulary_of(token_lists) -> Vocabulary:
    words = sorted({w for tokens in token_lists for w in tokens})
    return Vocabulary(list(SPECIALS) + words[: len(words) // 2])  # half the words: the rest go to [unk]


def test_realtext_tokenizer_reads_reviews_as_the_workbench(tmp_path):
    tokens = [realtext.tokenize(t) for t in EDGE_CASES]
    vocab = vocabulary_of(tokens)
    model = random_model("mlm")
    model = LanguageModel(replace(model.cfg, vocab_size=len(vocab)))
    out = export_hf(model, vocab, "imdb", tmp_path / "hf", {})
    tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    for text, words in zip(EDGE_CASES, tokens):
        assert encoded(tokenizer, text) == [vocab.cls_id] + vocab.encode(words), text
    question, passage = EDGE_CASES[0], EDGE_CASES[1]  # a pair as the workbench's QA batches read it
    assert encoded(tokenizer, question, passage) == [vocab.cls_id] + vocab.encode(tokens[0]) + [
        vocab.sep_id
    ] + vocab.encode(tokens[1])
    assert tokenizer.mask_token == "[mask]" and tokenizer.pad_token_id == vocab.pad_id


def test_whitespace_tokenizer_reads_pretokenized_text_as_the_workbench(tmp_path):
    lines = ["The Tower @-@ built in 1 @,@ 000 -LRB- AD -RRB- , was Tall .", "naïve CAFÉ  tabs\tand   spaces"]
    tokens = [readers.normalize(line.split()) for line in lines]
    vocab = vocabulary_of(tokens)
    model = LanguageModel(replace(random_model("clm").cfg, vocab_size=len(vocab)))
    tokenizer = transformers.AutoTokenizer.from_pretrained(export_hf(model, vocab, "wikitext2", tmp_path / "hf", {}))
    for line, words in zip(lines, tokens):
        assert encoded(tokenizer, line) == [vocab.cls_id] + vocab.encode(words), line


@requires_real_data
def test_realtext_tokenizer_agrees_on_real_reviews(tmp_path):
    """Every rule of realtext on the text it was written for: the first 300 IMDB training reviews."""
    reviews = [r.text for r in read_reviews(registry.local_file("imdb", "train.jsonl.gz"), labeled=True)[:300]]
    tokens = [realtext.tokenize(t) for t in reviews]
    vocab = vocabulary_of(tokens)
    model = LanguageModel(replace(random_model("mlm").cfg, vocab_size=len(vocab)))
    tokenizer = transformers.AutoTokenizer.from_pretrained(export_hf(model, vocab, "imdb", tmp_path / "hf", {}))
    differ = [t for t, words in zip(reviews, tokens) if encoded(tokenizer, t) != [vocab.cls_id] + vocab.encode(words)]
    assert differ == []


def test_cli_exports_a_pretrained_folder_once(tmp_path):
    folder = tmp_path / "mlm"
    pretrain = ["pretrain", "--objective", "mlm", "--corpus", "microworld:30000", "--steps", "8", "--d-model", "32"]
    assert run_main(*pretrain, "--layers", "1", "--heads", "2", "--d-ff", "64", "--out", str(folder)).returncode == 0
    result = run_main("export", str(folder), "--to", "hf", str(tmp_path / "hf"))
    assert result.returncode == 0, result.stderr
    assert "AutoModelForMaskedLM" in result.stdout
    record = json.loads((tmp_path / "hf" / "workbench_export.json").read_text())
    provenance = json.loads((folder / "provenance.json").read_text())
    assert record["source_sha256"] == provenance["sha256"] and record["architecture"] == "MegatronBertForMaskedLM"
    fill = transformers.pipeline("fill-mask", model=str(tmp_path / "hf"))  # what a student would try first
    assert len(fill("the soup was [mask] .", top_k=3)) == 3
    again = run_main("export", str(folder), "--to", "hf", str(tmp_path / "hf"))
    assert again.returncode == 2 and "not empty" in again.stderr and "Traceback" not in again.stderr


def test_cli_refuses_a_plm_in_one_line(tmp_path):
    folder = tmp_path / "plm"
    pretrain = ["pretrain", "--objective", "plm", "--corpus", "microworld:30000", "--steps", "4", "--d-model", "32"]
    assert run_main(*pretrain, "--layers", "1", "--heads", "2", "--d-ff", "64", "--out", str(folder)).returncode == 0
    result = run_main("export", str(folder), "--to", "hf", str(tmp_path / "hf"))
    assert result.returncode == 2 and "no standard transformers class" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "hf").exists()


@pytest.mark.parametrize("model", ["plm", "lstm-lm", "scratch-transformer"])
def test_cli_refuses_a_default_model_it_cannot_export_before_pretraining_it(tmp_path, model, monkeypatch):
    import workbench.cli.export as export_cli

    monkeypatch.setattr(export_cli, "load_language_model", lambda *a: pytest.fail("loaded (or pretrained) first"))
    result = run_main("export", model, "--to", "hf", str(tmp_path / "hf"))
    assert result.returncode == 2 and "clm / mlm" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_checks_out_before_loading_the_model(tmp_path, monkeypatch):
    import workbench.cli.export as export_cli

    monkeypatch.setattr(export_cli, "load_language_model", lambda *a: pytest.fail("loaded (or pretrained) first"))
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "notes.txt").write_text("mine")
    result = run_main("export", "mlm", "--to", "hf", str(tmp_path / "hf"))
    assert result.returncode == 2 and "not empty" in result.stderr


def test_cli_says_what_a_folder_lacks(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_main("export", str(tmp_path / "empty"), "--to", "hf", str(tmp_path / "hf"))
    assert result.returncode == 2 and "not a pretrained model folder (no config.json)" in result.stderr


def test_export_is_readable_by_others_and_names_a_tokenizer_class_transformers_4_knows(tmp_path):
    vocab = Vocabulary(list(SPECIALS) + ["w1", "w2", ",", "."])
    out = export_hf(
        LanguageModel(replace(random_model("clm").cfg, vocab_size=9)), vocab, "microworld", tmp_path / "hf", {}
    )
    assert json.loads((out / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert json.loads((out / "tokenizer_config.json").read_text())["clean_up_tokenization_spaces"] is False
    assert all(path.stat().st_mode & 0o044 == 0o044 for path in [out, *out.iterdir()])  # umask 022 in CI
    tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    assert tokenizer.decode(tokenizer("w1 , w2 .").input_ids, skip_special_tokens=True) == "w1 , w2 ."  # our words
