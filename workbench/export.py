"""A pretrained workbench language model as a transformers folder (`workbench export MODEL --to hf OUT`).

Our Transformer CLM and MLM are built to compute what a standard transformers class computes (models/lm.py):
the CLM is GPT-2 and the MLM is Megatron-BERT (pre-LN like ours, learned positions counted from 0, no
LayerNorm on the embeddings; RoBERTa-PreLayerNorm would need one, and counts positions from pad+1). So an
export renames tensors (and transposes them for GPT-2's Conv1D layers); nothing is approximated, and
tests/test_export.py loads the folder with AutoModelForCausalLM / AutoModelForMaskedLM and checks that its
logits equal ours. PLM (XLNet's relative attention is not ours), the LSTM LM, rotary positions and models
pretrained before the heads were made standard have no such class: they are refused, saying why.

The tokenizer is a `tokenizers` WordLevel model over the model's own vocabulary that reads text as the
workbench read the model's corpus (`corpus_tokenizer`), [cls] first as the workbench's fine-tuning reads an
example ([cls] A [sep] B for a pair).

transformers is the optional `hf` extra, imported inside `export_hf` so that the rest works without it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from workbench.data import readers, realtext
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig, standard_head

EXPORT_RECORD = "workbench_export.json"
# Entities that html.unescape decodes and the exported normalizer decodes too; the others are rare in
# reviews (17 numeric ones in IMDB's 25,000 training reviews) and stay as written.
ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#039;": "'"}


def corpus_tokenizer(corpus_name: str) -> str:
    """How the workbench tokenized this corpus: `realtext` for IMDB's raw reviews, `whitespace` for the
    pre-tokenized corpora (micro-world, WikiText-2, text:PATH files), lowercased alike."""
    return "realtext" if corpus_name == "imdb" else "whitespace"


def check_exportable(cfg: LMConfig) -> str:
    """The transformers architecture that computes this model ("gpt2" or "megatron-bert"), or a one-line error."""
    what = f"the {'Transformer' if cfg.arch == 'transformer' else 'LSTM'} {cfg.objective.upper()}"
    if cfg.arch != "transformer" or cfg.objective == "plm":
        raise WorkbenchError(
            f"{what} has no standard transformers class that computes it; export supports the Transformer "
            "CLM (as GPT-2) and MLM (as Megatron-BERT)"
        )
    if cfg.transformer.positions != "learned":
        raise WorkbenchError(
            f"{what} with {cfg.transformer.positions} positions: GPT-2 and Megatron-BERT learn a position table; "
            "pretrain with --positions learned to export"
        )
    if (cfg.head_bias, cfg.head_transform) != standard_head(cfg.objective, cfg.arch):
        raise WorkbenchError(
            f"{what} pretrained before its LM head was made {'GPT-2' if cfg.objective == 'clm' else 'BERT'}'s: "
            "no standard class computes its head; pretrain it again with this workbench to export it"
        )
    return "gpt2" if cfg.objective == "clm" else "megatron-bert"


def _block_tensors(state: dict, i: int) -> dict:
    prefix = f"encoder.blocks.{i}."
    return {name[len(prefix) :]: tensor for name, tensor in state.items() if name.startswith(prefix)}


def gpt2_tensors(state: dict, cfg: LMConfig) -> dict:
    """Our CLM's state dict under GPT2LMHeadModel's names (its Conv1D weights are [in, out]: transposed)."""
    out = {
        "transformer.wte.weight": state["embed.weight"],
        "transformer.wpe.weight": state["encoder.positions.weight"],
        "transformer.ln_f.weight": state["encoder.ln_f.weight"],
        "transformer.ln_f.bias": state["encoder.ln_f.bias"],
        "lm_head.weight": state["head.weight"],
    }
    ours_to_gpt2 = {"ln1": "ln_1", "ln2": "ln_2", "attn.qkv": "attn.c_attn", "attn.out": "attn.c_proj"}
    ours_to_gpt2 |= {"ffn.0": "mlp.c_fc", "ffn.2": "mlp.c_proj"}
    for i in range(cfg.transformer.n_layers):
        block = _block_tensors(state, i)
        for ours, theirs in ours_to_gpt2.items():
            weight = block[f"{ours}.weight"]
            out[f"transformer.h.{i}.{theirs}.weight"] = weight if ours.startswith("ln") else weight.t()
            out[f"transformer.h.{i}.{theirs}.bias"] = block[f"{ours}.bias"]
    return out


def megatron_tensors(state: dict, cfg: LMConfig) -> dict:
    """Our MLM's state dict under MegatronBertForMaskedLM's names (separate query/key/value; a zero
    token-type table, which adds nothing)."""
    d = cfg.transformer.d_model
    out = {
        "bert.embeddings.word_embeddings.weight": state["embed.weight"],
        "bert.embeddings.position_embeddings.weight": state["encoder.positions.weight"],
        "bert.embeddings.token_type_embeddings.weight": torch.zeros(1, d),
        "bert.encoder.ln.weight": state["encoder.ln_f.weight"],
        "bert.encoder.ln.bias": state["encoder.ln_f.bias"],
        "cls.predictions.transform.dense.weight": state["head.transform.0.weight"],
        "cls.predictions.transform.dense.bias": state["head.transform.0.bias"],
        "cls.predictions.transform.LayerNorm.weight": state["head.transform.2.weight"],
        "cls.predictions.transform.LayerNorm.bias": state["head.transform.2.bias"],
        "cls.predictions.decoder.weight": state["head.weight"],
        "cls.predictions.bias": state["head.bias"],
        "cls.predictions.decoder.bias": state["head.bias"],  # the same bias (tied to the one above only when
    }  # the decoder is tied to the embeddings)
    for i in range(cfg.transformer.n_layers):
        block, layer = _block_tensors(state, i), f"bert.encoder.layer.{i}."
        for name, tensor in zip(("query", "key", "value"), block["attn.qkv.weight"].split(d)):
            out[f"{layer}attention.self.{name}.weight"] = tensor
        for name, tensor in zip(("query", "key", "value"), block["attn.qkv.bias"].split(d)):
            out[f"{layer}attention.self.{name}.bias"] = tensor
        ours_to_megatron = {
            "ln1": "attention.ln",
            "attn.out": "attention.output.dense",
            "ln2": "ln",
            "ffn.0": "intermediate.dense",
            "ffn.2": "output.dense",
        }
        for ours, theirs in ours_to_megatron.items():
            out[f"{layer}{theirs}.weight"] = block[f"{ours}.weight"]
            out[f"{layer}{theirs}.bias"] = block[f"{ours}.bias"]
    return out


def hf_config(transformers, cfg: LMConfig, architecture: str):
    """The transformers config whose class computes our model (exact GELU, LayerNorm eps 1e-5, our dropout)."""
    t = cfg.transformer
    specials = {"pad_token_id": Vocabulary.pad_id, "bos_token_id": Vocabulary.cls_id, "eos_token_id": Vocabulary.sep_id}
    if architecture == "gpt2":
        return transformers.GPT2Config(
            vocab_size=cfg.vocab_size,
            n_positions=t.max_len,
            n_embd=t.d_model,
            n_layer=t.n_layers,
            n_head=t.n_heads,
            n_inner=t.d_ff,
            activation_function="gelu",
            layer_norm_epsilon=1e-5,
            resid_pdrop=t.dropout,
            embd_pdrop=t.dropout,
            attn_pdrop=t.dropout,
            tie_word_embeddings=cfg.tie_embeddings,
            architectures=["GPT2LMHeadModel"],
            **specials,
        )
    return transformers.MegatronBertConfig(
        vocab_size=cfg.vocab_size,
        hidden_size=t.d_model,
        num_hidden_layers=t.n_layers,
        num_attention_heads=t.n_heads,
        intermediate_size=t.d_ff,
        hidden_act="gelu",
        hidden_dropout_prob=t.dropout,
        attention_probs_dropout_prob=t.dropout,
        max_position_embeddings=t.max_len,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        tie_word_embeddings=cfg.tie_embeddings,
        architectures=["MegatronBertForMaskedLM"],
        **specials,
    )


def _whole_token(token: str) -> str:
    """A regex for `token` standing alone between whitespace (readers' replacements are of whole tokens)."""
    escaped = "".join("\\" + ch if not ch.isalnum() else ch for ch in token)
    return rf"(?<!\S){escaped}(?!\S)"


def _normalizer_steps(normalizers, Regex, kind: str) -> list:
    """The normalizer as `tokenizers` steps, rule for rule after readers.normalize or realtext.normalize."""
    if kind == "whitespace":
        return [normalizers.Lowercase()] + [
            normalizers.Replace(Regex(_whole_token(old)), new) for old, new in readers.TOKEN_REPLACEMENTS.items()
        ]
    steps = [normalizers.Replace(Regex("(?i)" + realtext.MARKUP.pattern), " ")]
    steps += [normalizers.Replace(entity, char) for entity, char in ENTITIES.items()]
    steps += [normalizers.Lowercase()]
    steps += [normalizers.Replace(old, new) for old, new in realtext.ESCAPES]
    # realtext's clitic rules, with look-behind for the captured letter (a Replace writes literal text)
    steps += [normalizers.Replace(Regex(r"\bcannot\b"), "can not")]
    steps += [
        normalizers.Replace(Regex(rf"\b{a}{b}\b"), f"{a} {b}") for a in ("gon", "wan", "got") for b in ("na", "ta")
    ]
    steps += [normalizers.Replace(Regex(r"(?<=\w)n't\b"), " n't")]
    steps += [normalizers.Replace(Regex(rf"(?<=\w)'{c}\b"), f" '{c}") for c in ("s", "re", "ve", "ll", "d", "m")]
    steps += [normalizers.Replace(Regex(r"\.{2,}"), "..."), normalizers.Replace(Regex(r"-{2,}"), "--")]
    return steps


def hf_tokenizer(transformers, vocab: Vocabulary, kind: str, max_len: int):
    """A fast tokenizer over `vocab` that tokenizes raw text as the workbench does for this corpus."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors  # noqa: PLC0415 (hf extra)
    from tokenizers.models import WordLevel  # noqa: PLC0415

    tokenizer = Tokenizer(WordLevel(dict(vocab.index), unk_token=vocab.words[Vocabulary.unk_id]))
    tokenizer.normalizer = normalizers.Sequence(_normalizer_steps(normalizers, Regex, kind))
    split = [pre_tokenizers.WhitespaceSplit()]
    if kind == "realtext":  # realtext.TOKEN's words, numbers and marks within each whitespace-free piece
        split.append(pre_tokenizers.Split(Regex(realtext.TOKEN.pattern), behavior="isolated"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(split)
    cls, sep = vocab.words[Vocabulary.cls_id], vocab.words[Vocabulary.sep_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A",
        pair=f"{cls} $A {sep} $B",
        special_tokens=[(cls, Vocabulary.cls_id), (sep, Vocabulary.sep_id)],
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=vocab.words[Vocabulary.unk_id],
        pad_token=vocab.words[Vocabulary.pad_id],
        mask_token=vocab.words[Vocabulary.mask_id],
        cls_token=cls,
        sep_token=sep,
        bos_token=cls,
        eos_token=sep,
        model_max_length=max_len,
        clean_up_tokenization_spaces=False,  # decode joins words with spaces, as the workbench wrote them
    )


def hf_model(transformers, model: LanguageModel):
    """The transformers model (GPT2LMHeadModel or MegatronBertForMaskedLM) holding our weights, in eval mode."""
    cfg = model.cfg
    architecture = check_exportable(cfg)
    config = hf_config(transformers, cfg, architecture)
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    if architecture == "gpt2":
        hf, tensors = transformers.GPT2LMHeadModel(config), gpt2_tensors(state, cfg)
    else:
        hf, tensors = transformers.MegatronBertForMaskedLM(config), megatron_tensors(state, cfg)
    missing, unexpected = hf.load_state_dict(tensors, strict=False)
    tied = {"lm_head.weight", "cls.predictions.decoder.weight"}
    if unexpected or set(missing) - tied:
        raise RuntimeError(f"export mapping out of date: missing {missing}, unexpected {unexpected}")
    return hf.eval()


def check_new_folder(out) -> Path:
    """OUT as a Path, or a one-line error if it holds anything (an export never mixes with other files)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise WorkbenchError(f"{out}: exists and is not empty; give a new folder as OUT (or delete this one)")
    return out


def _portable(folder: Path) -> None:
    """Name the tokenizer's class as every transformers version since 4 knows it (5 writes its own new name,
    which 4.x cannot load), and give the files the permissions of any file the user writes (mkdtemp's are
    private)."""
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def export_hf(model: LanguageModel, vocab: Vocabulary, corpus_name: str, out, source: dict) -> Path:
    """Write `out` (a new folder) with config.json, model.safetensors, the tokenizer's files and
    workbench_export.json (where it came from); all or nothing: written beside it, then renamed."""
    from workbench.pipelines.hf import import_transformers  # noqa: PLC0415 (the optional hf extra)

    transformers = import_transformers("workbench export --to hf")
    out = check_new_folder(out)
    hf = hf_model(transformers, model)
    kind = corpus_tokenizer(corpus_name)
    tokenizer = hf_tokenizer(transformers, vocab, kind, model.cfg.transformer.max_len)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        hf.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        record = {"architecture": hf.config.architectures[0], "tokenizer": kind, **source}
        (tmp / EXPORT_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        _portable(tmp)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
