"""`workbench export MODEL --to hf OUT`: a pretrained workbench model as a transformers folder."""

from __future__ import annotations

from pathlib import Path

from workbench.cli.common import add_command, load_language_model
from workbench.data.registry import sha256_of
from workbench.errors import WorkbenchError
from workbench.export import check_exportable, check_new_folder, export_hf
from workbench.models.lm import LMConfig
from workbench.pipelines.hf import import_transformers
from workbench.pipelines.pretrained import lm_config
from workbench.pretrain.folder import CONFIG, MODEL, read_config

EXPORTABLE = ("clm", "mlm")  # the default models a name may give


def _check_before_loading(args) -> None:
    """Everything that can refuse the export, before a default model that is neither shipped nor cached would
    be pretrained (an hour on a CPU) only to be refused."""
    check_new_folder(args.out)
    import_transformers("workbench export --to hf")
    if Path(args.model).is_dir():
        if (Path(args.model) / CONFIG).is_file():  # else load_model says what the folder lacks
            check_exportable(LMConfig.from_dict(read_config(args.model)["model"]))
    elif args.model in EXPORTABLE:
        check_exportable(lm_config(args.model, {"corpus": args.corpus})[0])
    else:
        raise WorkbenchError(
            f"MODEL {args.model!r}: give a `workbench pretrain` folder of a Transformer CLM or MLM, or clm / mlm "
            "for the default model of --corpus"
        )


def _export(args) -> int:
    _check_before_loading(args)
    model, vocab, corpus, folder = load_language_model(args.model, args.corpus)
    source = {
        "source": str(folder.resolve()),
        "source_sha256": sha256_of(folder / MODEL),
        "corpus": corpus,
        "command": f"workbench export {args.model} --to {args.to} {args.out}"
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
    parser.add_argument("--corpus", default="microworld", help="corpus of the default model (with clm / mlm)")
