"""The pretraining objectives (MLM, CLM, PLM) as batches and losses, their compute in FLOPs, and validation."""

from __future__ import annotations

import math

import torch

from workbench.core.batching import IGNORE
from workbench.core.kernels import cross_entropy
from workbench.core.train import autocast
from workbench.models.lm import LanguageModel, LMConfig
from workbench.models.objectives import clm_targets, mlm_inputs, plm_masks
from workbench.pretrain.options import PretrainConfig

TARGETS_PER_TOKEN = {"mlm": 0.15, "clm": 1.0, "plm": 0.25}


def objective_batch(model_cfg: LMConfig, ids: torch.Tensor, generator: torch.Generator, mask_id: int) -> dict:
    """A batch's inputs, targets and masks, row-aligned, with the objective's noise (MLM corruption, PLM orders)
    drawn here for the whole batch: a rank that takes its rows afterwards sees what a one-process run sees there."""
    pad_mask = torch.ones_like(ids, dtype=torch.bool)
    if model_cfg.objective == "mlm":
        inputs, targets = mlm_inputs(ids, pad_mask, mask_id, model_cfg.vocab_size, generator)
        return {"inputs": inputs, "pad_mask": pad_mask, "targets": targets}
    if model_cfg.objective == "clm":
        return {"ids": ids, "pad_mask": pad_mask}
    content, query, predicted, _ = plm_masks(pad_mask, generator, model_cfg.plm_k)
    return {"ids": ids, "content": content, "query": query, "predicted": predicted}


def precision(device) -> str:
    """What the forward passes compute in: bf16 autocast on CUDA (tensor cores; the loss stays float32), float32
    on the CPU, where bf16 is slower and less exact."""
    return "bf16-autocast" if torch.device(device).type == "cuda" else "fp32"


def batch_loss(model: LanguageModel, batch: dict, exact_loss: bool = False):
    """(mean loss over targets, number of targets, number predicted right) on a batch from `objective_batch`.
    `exact_loss`: the loss from float32 logits (validation); under bf16 autocast the loss value is otherwise
    rounded to bf16 (steps of 0.016 near 4 nats; its gradient is not).

    The LM head runs on the target positions only: with a 60k-word vocabulary its logits are most of a step's
    memory traffic, so MLM and PLM never compute them for the positions they do not predict."""
    device = next(model.parameters()).device
    b = {name: tensor.to(device) for name, tensor in batch.items()}
    objective = model.cfg.objective
    with autocast(device):
        if objective == "mlm":
            hidden = model.hidden(b["inputs"], b["pad_mask"])
            chosen = b["targets"] != IGNORE
            hidden, gold = hidden[chosen], b["targets"][chosen]
        elif objective == "clm":
            targets = clm_targets(b["ids"], b["pad_mask"])
            keep = targets != IGNORE
            hidden, gold = model.hidden(b["ids"], b["pad_mask"])[keep], targets[keep]
        else:
            hidden = model.plm_hidden(b["ids"], b["content"], b["query"])
            hidden, gold = hidden[b["predicted"]], b["ids"][b["predicted"]]
        logits = model.head(hidden)
    loss = cross_entropy(logits.float() if exact_loss else logits, gold).float()  # a fused Triton kernel on a GPU
    return loss, gold.numel(), (logits.argmax(-1) == gold).sum().item()


def lm_loss(
    model: LanguageModel, ids: torch.Tensor, generator: torch.Generator, mask_id: int, exact_loss: bool = False
):
    """(mean loss over targets, number of targets, number predicted right) for the model's objective."""
    return batch_loss(model, objective_batch(model.cfg, ids, generator, mask_id), exact_loss)


class ObjectiveLoss(torch.nn.Module):
    """The objective's loss as one forward pass: DDP hooks `forward`, and the objectives call other methods
    (hidden, plm_hidden, head) of the language model."""

    def __init__(self, model: LanguageModel):
        super().__init__()
        self.model = model

    def forward(self, batch: dict):
        return batch_loss(self.model, batch)


def flops_per_step(model: LanguageModel, cfg: PretrainConfig, targets_per_token: float) -> float:
    """6 x non-embedding params x tokens, + the LM head on targets, + attention scores (Kaplan et al. 2020)."""
    tokens = cfg.batch_size * cfg.seq_len
    dense = 6 * model.n_params(non_embedding=True) * tokens
    head = 6 * model.head.in_features * model.cfg.vocab_size * tokens * targets_per_token
    attention = 0.0
    if model.cfg.arch == "transformer":
        t = model.cfg.transformer
        attention = 6 * t.n_layers * cfg.seq_len * t.d_model * tokens * (2 if model.cfg.objective == "plm" else 1)
    return dense + head + attention


def unigram_cross_entropy(train: torch.Tensor, valid: torch.Tensor, vocab_size: int) -> float:
    """Nats per token of an add-one unigram model: the bar a language model must go below."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    log_p = (counts / counts.sum()).log()
    return float(-log_p[valid].mean())


@torch.no_grad()
def validate(model: LanguageModel, valid: torch.Tensor, cfg: PretrainConfig, mask_id: int) -> dict:
    """Loss, perplexity (CLM) and accuracy on fixed validation blocks with fixed masks."""
    model.eval()
    generator = torch.Generator().manual_seed(12345)
    n_blocks = min(cfg.eval_blocks, len(valid) // cfg.seq_len)
    blocks = valid[: n_blocks * cfg.seq_len].view(n_blocks, cfg.seq_len)
    total_loss = total_targets = total_correct = 0.0
    for i in range(0, n_blocks, cfg.batch_size):
        loss, n, correct = lm_loss(model, blocks[i : i + cfg.batch_size], generator, mask_id, exact_loss=True)
        total_loss += loss.item() * n
        total_targets += n
        total_correct += correct
    model.train()
    loss = total_loss / max(1, total_targets)
    result = {"val_loss": loss, "val_accuracy": total_correct / max(1, total_targets)}
    if model.cfg.objective == "clm":
        result["val_perplexity"] = math.exp(loss)
    return result
