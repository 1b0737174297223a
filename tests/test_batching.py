"""Batching: bucketed training batches are a seeded permutation of the epoch with less padding;
evaluation sorted by length puts every prediction back at its item."""

import torch

from workbench.core.batching import Encoded, batches, eval_batches
from workbench.core.train import predict
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.pipelines.run import prepare


def items(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 30, (n,), generator=g).tolist()
    return [Encoded(ids=[1] * length, label=i) for i, length in enumerate(lengths)]


def test_bucketed_epoch_is_a_seeded_permutation_with_less_padding():
    data = items()
    epoch = list(batches(data, 32, torch.Generator().manual_seed(7)))
    labels = [label for b in epoch for label in b.labels.tolist()]
    assert sorted(labels) == list(range(len(data)))  # every item once
    again = [b.labels.tolist() for b in batches(data, 32, torch.Generator().manual_seed(7))]
    assert again == [b.labels.tolist() for b in epoch]  # same seed, same batches
    other = [b.labels.tolist() for b in batches(data, 32, torch.Generator().manual_seed(8))]
    assert other != again
    padded = sum(b.ids.numel() for b in epoch)
    g = torch.Generator().manual_seed(7)
    order = torch.randperm(len(data), generator=g).tolist()
    unbucketed = sum(
        len(order[i : i + 32]) * max(len(data[j].ids) for j in order[i : i + 32]) for i in range(0, len(data), 32)
    )
    assert padded < 0.8 * unbucketed


def test_eval_batches_cover_every_item_once_sorted_by_length():
    data = items(130)
    seen = [p for positions, _ in eval_batches(data, 32) for p in positions]
    assert sorted(seen) == list(range(130))
    widths = [b.ids.shape[1] for _, b in eval_batches(data, 32)]
    assert widths == sorted(widths)


def test_predictions_come_back_in_item_order():
    task = resolve_task("micro-sentiment")
    vocab = build_vocab("microworld:100000")
    settings = {"encoder": {"hidden": 16}}
    prepared = prepare("random+lstm", task, "microworld:100000", vocab, settings)
    torch.manual_seed(0)
    model = prepared.pipeline.point_model(prepared)
    dev = prepared.encoded["dev"][:90]
    one_by_one = [predict(model, [item])[0] for item in dev]
    assert predict(model, dev, batch_size=32) == one_by_one
