"""`workbench export MODEL --to hf OUT`: a pretrained workbench model as a transformers folder."""

from __future__ import annotations

from workbench.cli.common import add_command, load_language_model
from workbench.data.registry import sha256_of
from workbench.export import export_hf
from workbench.pretrain.folder import MODEL


def _export(args) -> int:
    model, vocab, corpus, folder = load_language_model(args.model, args.corpus)
    source = {
        "source": str(folder.resolve()),
        "source_sha256": sha256_of(folder / MODEL),
        "corpus": corpus,
        "command": f"workbench export {args.model} --to {args.to} OUT"
        + (f" --corpus {args.corpus}" if args.corpus != "microworld" else ""),
    }
    out = export_hf(model, vocab, corpus, args.out, source)
    kind = "AutoModelForCausalLM" if model.cfg.objective == "clm" else "AutoModelForMaskedLM"
    print(f"exported {args.model} to {out}: load it with transformers.{kind}.from_pretrained({str(out)!r})")
    return 0


def register(sub) -> None:
    parser = add_command(
        sub,
        "export",
        "write a pretrained Transformer CLM or MLM as a transformers folder (GPT-2 / Megatron-BERT + tokenizer)",
        "workbench export clm --to hf exported/microworld-gpt2",
        _export,
        description="Write a pretrained workbench model as a standard transformers folder (config.json, "
        "model.safetensors, a tokenizer that reads text as the workbench does): the Transformer CLM as GPT-2, "
        "the MLM as Megatron-BERT, computing exactly the workbench's logits. Needs the hf extra: "
        "pip install '.[hf]'.",
    )
    parser.add_argument("model", help="a `workbench pretrain` folder, or clm / mlm for the default model of --corpus")
    parser.add_argument("--to", required=True, choices=["hf"], help="the format: hf (Hugging Face transformers)")
    parser.add_argument("out", help="a new folder to write")
    parser.add_argument("--corpus", default="microworld", help="corpus of the default model (with a pipeline name)")
