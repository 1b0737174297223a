"""The three task heads, written once and shared by every pipeline (static or pretrained).

Each head maps encoder states [B, T, d] to logits, computes its loss, and turns logits into
predictions in the task's own terms (a class index, a tag per token, a passage span).
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.core.batching import IGNORE, Batch
from workbench.core.kernels import cross_entropy

POOLS = ("max", "mean", "first", "last")


class ClassificationHead(nn.Module):
    """Pool the sequence (max, mean, the [cls]/first position, or the last real token: what a
    causal model has read everything by), then a linear layer."""

    def __init__(self, d: int, n_classes: int, pool: str = "max", dropout: float = 0.1):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(d, n_classes)

    def forward(self, states: torch.Tensor, batch: Batch) -> torch.Tensor:
        mask = batch.pad_mask.unsqueeze(-1)
        if self.pool == "first":
            pooled = states[:, 0]
        elif self.pool == "last":
            pooled = states[torch.arange(states.shape[0], device=states.device), batch.pad_mask.sum(1) - 1]
        elif self.pool == "mean":
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        else:
            pooled = states.masked_fill(~mask, float("-inf")).max(1).values
        return self.linear(self.drop(pooled))

    def loss(self, logits, batch: Batch):
        return cross_entropy(logits, batch.labels)

    def predict(self, logits, batch: Batch) -> list[int]:
        return logits.argmax(-1).tolist()


class TaggingHead(nn.Module):
    def __init__(self, d: int, n_tags: int, dropout: float = 0.1):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(d, n_tags)

    def forward(self, states, batch: Batch):
        return self.linear(self.drop(states))

    def loss(self, logits, batch: Batch):
        return cross_entropy(logits.flatten(0, 1), batch.tags.flatten(), ignore_index=IGNORE)

    def predict(self, logits, batch: Batch) -> list[list[int]]:
        best = logits.argmax(-1)
        lengths = batch.pad_mask.sum(1).tolist()
        return [best[i, 1:length].tolist() for i, length in enumerate(lengths)]


class SpanHead(nn.Module):
    """Start and end logits per token; only passage positions are candidates."""

    def __init__(self, d: int, max_answer_len: int = 12):
        super().__init__()
        self.linear = nn.Linear(d, 2)
        self.max_answer_len = max_answer_len

    def forward(self, states, batch: Batch):
        logits = self.linear(states).masked_fill(~batch.span_mask.unsqueeze(-1), -1e4)
        return logits  # [B, T, 2]

    def loss(self, logits, batch: Batch):
        return (
            cross_entropy(logits[..., 0], batch.starts, ignore_index=IGNORE)
            + cross_entropy(logits[..., 1], batch.ends, ignore_index=IGNORE)
        ) / 2

    def predict(self, logits, batch: Batch) -> list[tuple[int, int]]:
        start, end = logits[..., 0], logits[..., 1]
        t = start.shape[1]
        scores = start.unsqueeze(2) + end.unsqueeze(1)  # [B, T(start), T(end)]
        allowed = torch.ones(t, t, dtype=torch.bool, device=logits.device).triu().tril(self.max_answer_len - 1)
        flat = scores.masked_fill(~allowed, float("-inf")).flatten(1).argmax(1)
        offsets = batch.offsets.tolist()
        return [(int(f) // t - o, int(f) % t - o) for f, o in zip(flat.tolist(), offsets)]


class TaskModel(nn.Module):
    """ids -> vectors (`embed`) -> contextual states (`encoder`) -> task logits (`head`)."""

    def __init__(self, embed: nn.Module, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.embed, self.encoder, self.head = embed, encoder, head

    def forward(self, batch: Batch):
        states = self.encoder(self.embed(batch.ids), batch.pad_mask)
        return self.head(states, batch)

    def parameter_groups(self, lr: float, layer_decay: float) -> list[dict]:
        """Layer-wise learning-rate decay (ULMFiT/ELECTRA): the head trains at lr, block i of L at
        lr * decay^(L - i), the embeddings at lr * decay^(L + 1). decay 1.0 = one learning rate."""
        blocks = list(getattr(self.encoder, "blocks", []))
        if layer_decay == 1.0 or not blocks:
            return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": lr}]
        depth = len(blocks)
        assigned, groups = set(), []
        for i, block in enumerate(blocks):
            groups.append({"params": list(block.parameters()), "lr": lr * layer_decay ** (depth - i)})
            assigned.update(id(p) for p in block.parameters())
        bottom = [
            p
            for p in list(self.embed.parameters())
            + list(getattr(self.encoder, "positions", nn.Identity()).parameters())
            if id(p) not in assigned
        ]
        groups.append({"params": bottom, "lr": lr * layer_decay ** (depth + 1)})
        assigned.update(id(p) for p in bottom)
        groups.append({"params": [p for p in self.parameters() if id(p) not in assigned], "lr": lr})
        for group in groups:
            group["params"] = [p for p in group["params"] if p.requires_grad]
        return [g for g in groups if g["params"]]
