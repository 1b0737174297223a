"""Examples -> padded id tensors, the same way for every pipeline.

Every sequence starts with [cls]. Sentence tasks: [cls] tokens. Tagging: [cls] tokens, with
the [cls] tag ignored. Span QA: [cls] question [sep] passage, span indices shifted by the
passage offset; only passage positions may be predicted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import torch

from workbench.data.types import CLASSIFICATION, SPAN, TAGGING, Example
from workbench.data.vocab import Vocabulary

IGNORE = -100


@dataclass
class Encoded:
    ids: list[int]
    label: int = IGNORE
    tags: list[int] | None = None
    start: int = IGNORE
    end: int = IGNORE
    offset: int = 1  # where the example's own tokens (passage, for QA) begin


@dataclass
class Batch:
    ids: torch.Tensor  # [B, T] long
    pad_mask: torch.Tensor  # [B, T] bool, True at real tokens
    labels: torch.Tensor | None = None  # [B]
    tags: torch.Tensor | None = None  # [B, T], IGNORE where no tag
    starts: torch.Tensor | None = None  # [B]
    ends: torch.Tensor | None = None
    span_mask: torch.Tensor | None = None  # [B, T] bool, passage positions
    offsets: torch.Tensor | None = None  # [B]

    def to(self, device) -> Batch:
        return Batch(
            **{
                f.name: (getattr(self, f.name).to(device) if getattr(self, f.name) is not None else None)
                for f in fields(self)
            }
        )


def encode(
    examples: list[Example],
    kind: str,
    vocab: Vocabulary,
    labels: list[str],
    max_len: int = 256,
    suffix: list[int] | None = None,
    strip_final: int | None = None,
    prefix: list[int] | None = None,
) -> list[Encoded]:
    """Token ids and integer targets; sequences longer than max_len are cut (tags beyond it are not trained on).

    `suffix` (sentence tasks) is appended after the example, kept whole when the example is cut:
    prompt mode's template and slot; `strip_final` is a token id removed from the example's end
    first (e.g. its full stop, so the template continues the sentence). `prefix` (sentence tasks)
    comes right after [cls]: in-context demonstrations; the example is cut, never the prefix."""
    suffix, prefix = suffix or [], prefix or []
    label_index = {label: i for i, label in enumerate(labels)}
    out = []
    for ex in examples:
        if kind == SPAN:
            question = vocab.encode(ex.question)[: max_len // 4]
            offset = len(question) + 2
            ids = ([vocab.cls_id] + question + [vocab.sep_id] + vocab.encode(ex.tokens))[:max_len]
            start, end = ex.span[0] + offset, ex.span[1] + offset
            if end >= len(ids):  # answer cut off: it cannot be trained on
                start = end = IGNORE
            out.append(Encoded(ids, start=start, end=end, offset=offset))
            continue
        if kind == CLASSIFICATION:
            words = vocab.encode(ex.tokens)
            if strip_final is not None and words and words[-1] == strip_final:
                words = words[:-1]
            ids = ([vocab.cls_id] + prefix + words)[: max_len - len(suffix)] + suffix
            out.append(Encoded(ids, label=label_index[ex.label]))
            continue
        ids = ([vocab.cls_id] + vocab.encode(ex.tokens))[:max_len]
        if kind == TAGGING:
            tags = [IGNORE] + [label_index.get(t, IGNORE) for t in ex.tags]
            out.append(Encoded(ids, tags=tags[: len(ids)]))
        else:
            raise ValueError(kind)
    return out


def collate(items: list[Encoded]) -> Batch:
    width = max(len(item.ids) for item in items)
    ids = torch.zeros(len(items), width, dtype=torch.long)
    pad_mask = torch.zeros(len(items), width, dtype=torch.bool)
    for i, item in enumerate(items):
        ids[i, : len(item.ids)] = torch.tensor(item.ids)
        pad_mask[i, : len(item.ids)] = True
    batch = Batch(ids, pad_mask)
    if items[0].tags is not None:
        batch.tags = torch.full((len(items), width), IGNORE, dtype=torch.long)
        for i, item in enumerate(items):
            batch.tags[i, : len(item.tags)] = torch.tensor(item.tags)
    batch.labels = torch.tensor([item.label for item in items])
    batch.starts = torch.tensor([item.start for item in items])
    batch.ends = torch.tensor([item.end for item in items])
    batch.offsets = torch.tensor([item.offset for item in items])
    batch.span_mask = pad_mask & (torch.arange(width)[None, :] >= batch.offsets[:, None])
    return batch


BUCKET_POOL = 8  # training batches per length-sorted pool


def batches(items: list[Encoded], batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
    """Training batches of one epoch, in a seeded order, bucketed by length.

    The items are shuffled, then each pool of BUCKET_POOL batches' worth is sorted by length and
    cut into batches, and the batches are shuffled: a batch holds sentences of similar length, so
    far fewer padded positions are computed (torchtext's 2017 BucketIterator; on micro-sentiment
    a random batch of 32 pads to 16.4 tokens where its sentences average 9.2). Within a pool the
    sort is stable, so the order depends only on the generator."""
    order = torch.randperm(len(items), generator=generator).tolist()
    pool = batch_size * BUCKET_POOL
    cuts = []
    for start in range(0, len(order), pool):
        part = sorted(order[start : start + pool], key=lambda j: len(items[j].ids))
        cuts += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    for c in torch.randperm(len(cuts), generator=generator).tolist():
        yield collate([items[j] for j in cuts[c]])


def eval_batches(items: list[Encoded], batch_size: int) -> Iterator[tuple[list[int], Batch]]:
    """(positions, batch) over all items sorted by length: the least padding. Put each prediction
    back at its position; the models are invariant to padding, so only float rounding can differ."""
    order = sorted(range(len(items)), key=lambda j: len(items[j].ids))
    for i in range(0, len(order), batch_size):
        positions = order[i : i + batch_size]
        yield positions, collate([items[j] for j in positions])
