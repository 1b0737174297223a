"""The modern paradigm: a whole pretrained language model under the shared heads.

The backbone (token embedding + encoder) comes from `workbench pretrain`: a folder given
explicitly, the checkpoint shipped in data/pretrained/ for the embedded default, or the
artifact cache (pretrained on first use). `scratch-transformer` is the same backbone with
random weights: the control that isolates what pretraining adds.

Prompt mode (PET, Schick & Schuetze 2021) reuses the LM head: the task sentence is followed by
a template ("i gave it" + a slot), and the class scores are the LM's scores for each label's
verbalizer words at the slot.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from workbench.core.kernels import cross_entropy
from workbench.data.types import CLASSIFICATION, Task
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel, LMConfig
from workbench.pipelines import PipelineSpec

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "pretrained"
OBJECTIVE_OF = {"mlm": "mlm", "clm": "clm", "plm": "plm", "lstm-lm": "clm", "scratch-transformer": "mlm"}


@dataclass(frozen=True)
class PromptTemplate:
    """Words appended after the example (its final `strip` token removed first), then a slot
    whose LM scores for each label's words decide."""

    template: tuple[str, ...]
    verbalizers: dict  # label -> tuple of words
    strip: str | None = None
    answers: dict | None = None  # label -> how an in-context example's answer is written (default: its first verbalizer)


PROMPTS = {
    # In the micro-world's reviews a clause is often followed by its consequence ("the soup was not
    # bad at all , so we came back ."): the most local evidence of a clause's meaning a LM can learn.
    "micro-sentiment": PromptTemplate((",", "so", "we"),
                                      {"positive": ("came", "stayed", "ordered", "watched", "booked"),
                                       "negative": ("left", "asked", "sent", "walked", "checked", "went")}, strip=".",
                                      answers={"positive": ("came", "back"), "negative": ("left", "early")}),
    "sst2": PromptTemplate(("it", "was"), {"1": ("great", "good"), "0": ("terrible", "bad")}),
}


def lm_config(pipeline: str, settings: dict | None = None):
    """The default backbone: the config `workbench pretrain` uses without options."""
    from argparse import Namespace

    from workbench.cli.pretrain import configs_from_args

    settings = settings or {}
    args = Namespace(objective=OBJECTIVE_OF[pipeline], arch="lstm" if pipeline == "lstm-lm" else "transformer",
                     corpus=settings.get("corpus", "microworld"), steps=settings.get("steps"), batch_size=32, seq_len=64,
                     d_model=128, layers=2, heads=4, d_ff=512, positions="learned", tie_embeddings=False, lr=1e-3, seed=0)
    return configs_from_args(args)


def shipped_folder(pipeline: str, corpus_name: str, vocab: Vocabulary, settings: dict) -> Path | None:
    """The checkpoint shipped in data/pretrained/, if it is exactly the default model for this corpus and vocabulary."""
    import json
    from dataclasses import asdict

    folder = SHIPPED / f"{corpus_name}-{pipeline}"
    if not (folder / "model.safetensors").is_file():
        return None
    model_cfg, cfg = lm_config(pipeline, settings)
    model_cfg.vocab_size = len(vocab)
    meta = json.loads((folder / "config.json").read_text())
    same = (meta.get("model") == model_cfg.to_dict() and meta.get("pretrain") == asdict(cfg)
            and meta.get("vocab_fingerprint") == vocab.fingerprint())
    return folder if same else None


def load_backbone(spec: PipelineSpec, corpus_name: str, vocab: Vocabulary, settings: dict, device: str = "cpu",
                  progress: bool = False) -> tuple[LanguageModel, dict]:
    """(language model, info about its pretraining: folder, tokens, FLOPs, seconds)."""
    from workbench.pretrain import load_model, pretrain_cached

    if spec.representation == "scratch-transformer":
        model_cfg, _ = lm_config("scratch-transformer", settings)
        model_cfg.vocab_size = len(vocab)
        torch.manual_seed(0)
        return LanguageModel(model_cfg), {"method": "none (random weights)", "tokens": 0, "flops": 0.0, "seconds": 0.0}
    folder = settings.get("backbone")
    checkpoint = settings.get("checkpoint", "model.safetensors")
    if folder is None:
        folder = shipped_folder(spec.representation, corpus_name, vocab, settings)
    if folder is None:
        model_cfg, cfg = lm_config(spec.representation, settings)
        folder, _ = pretrain_cached(model_cfg, cfg, corpus_name, device=device, progress=progress, vocab=vocab)
    model, _, meta = load_model(folder, expected_vocab=vocab, checkpoint=checkpoint)
    record = _record_for(Path(folder), checkpoint)
    info = {"method": spec.representation, "folder": str(folder), "checkpoint": checkpoint,
            "tokens": record.get("tokens"), "flops": record.get("flops"), "seconds": record.get("seconds"),
            "val_loss": record.get("val_loss")}
    return model, info


def _record_for(folder: Path, checkpoint: str) -> dict:
    import json

    final = folder / "final.json"
    if checkpoint == "model.safetensors" and final.exists():
        return json.loads(final.read_text())
    for line in (folder / "log.jsonl").read_text().splitlines() if (folder / "log.jsonl").exists() else []:
        record = json.loads(line)
        if record.get("checkpoint") == checkpoint:
            return record
    return {}


class PromptHead(nn.Module):
    """Class scores = log-sum-exp of the LM head's logits for each label's verbalizer words at the slot
    (the last real position: the [mask] for MLM/PLM, the position before the next word for a CLM)."""

    def __init__(self, lm_head: nn.Linear, verbalizer_ids: list[list[int]]):
        super().__init__()
        self.lm_head = lm_head
        self.verbalizer_ids = verbalizer_ids

    def forward(self, states, batch):
        last = batch.pad_mask.sum(1) - 1
        slot = states[torch.arange(states.shape[0], device=states.device), last]
        vocab_logits = self.lm_head(slot).log_softmax(-1)
        return torch.stack([vocab_logits[:, ids].logsumexp(-1) for ids in self.verbalizer_ids], dim=-1)

    def loss(self, logits, batch):
        return cross_entropy(logits, batch.labels)

    def predict(self, logits, batch):
        return logits.argmax(-1).tolist()


class QueryStreamEncoder(nn.Module):
    """PLM prompting: the slot is read from the query stream, which sees every other position but not itself."""

    def __init__(self, lm: LanguageModel):
        super().__init__()
        self.lm = lm
        self.output_dim = lm.encoder.output_dim

    def forward(self, vectors, pad_mask, mask=None):
        b, t = pad_mask.shape
        eye = torch.eye(t, dtype=torch.bool, device=pad_mask.device)
        content = (pad_mask[:, None, :] | eye)[:, None]
        query = ((pad_mask[:, None, :] & ~eye) | (eye & ~pad_mask[:, :, None]))[:, None]
        return self.lm.encoder.two_stream(vectors, self.lm.query_init, content, query)


def demonstration_answers(task: Task, vocab: Vocabulary) -> list[list[int]]:
    """Per label (task.labels order), the ids an in-context example's answer is written with."""
    prompt = PROMPTS[task.name]
    return [vocab.encode((prompt.answers or {}).get(label, prompt.verbalizers[label][:1])) for label in task.labels]


def prompt_suffix(task: Task, vocab: Vocabulary, objective: str) -> tuple[list[int], list[list[int]], int | None]:
    """(suffix ids appended after each example, verbalizer ids per label in task.labels order,
    id of a final token to strip from each example first)."""
    if task.kind != CLASSIFICATION or task.name not in PROMPTS:
        raise WorkbenchError(f"prompt mode needs a classification task with a prompt template ({', '.join(PROMPTS)}); "
                             f"{task.name} has none: use the pipeline without :prompt")
    prompt = PROMPTS[task.name]
    missing = [w for w in prompt.template + sum(prompt.verbalizers.values(), ()) if w not in vocab]
    if missing:
        raise WorkbenchError(f"prompt words {missing} are not in the corpus vocabulary; prompt mode cannot score them")
    suffix = vocab.encode(prompt.template) + ([vocab.mask_id] if objective in ("mlm", "plm") else [])
    strip = vocab.encode([prompt.strip])[0] if prompt.strip else None
    return suffix, [vocab.encode(prompt.verbalizers[label]) for label in task.labels], strip
