"""The fused core's contract: K replicas in lockstep = K separate runs (core.train.fit)."""

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import vmap
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from workbench.core.batching import collate
from workbench.core.folded_attention import attend, replica_folding
from workbench.core.fused import ReplicaStack, fit_fused, stack_batches, without_dropout
from workbench.core.train import TrainConfig, fit
from workbench.data.subsets import dev_subset, subset
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.errors import WorkbenchError
from workbench.experiments.config import parse_fuse
from workbench.models.lstm import LSTM
from workbench.pipelines.run import prepare

CORPUS = "microworld:100000"
SETTINGS = {
    "random+lstm": {"encoder": {"hidden": 24, "dropout": 0.0}},
    "scratch-transformer": {},
}  # the default backbone's shape: a pretrained family reads no encoder settings
CFG = TrainConfig(max_steps=24, min_steps=8, max_evals=3, batch_size=16, patience=1)


@pytest.fixture(scope="module")
def vocab():
    return build_vocab(CORPUS)


@pytest.mark.parametrize("pipeline", ["random+lstm", "scratch-transformer"])
@pytest.mark.parametrize("task_name", ["micro-sentiment", "micro-tagging"])
def test_fused_replicas_match_separate_runs(pipeline, task_name, vocab):
    task = resolve_task(task_name)
    settings = SETTINGS[pipeline]
    prepared = prepare(pipeline, task, CORPUS, vocab, settings)
    # different subset sizes, seeds and data orders; patience 1 lets replicas stop at different steps;
    # each replica selects on its own point's dev subset, with its own rate (a tuning grid's configurations)
    points = [(16, 0), (40, 1), (40, 2)]
    cfgs = [replace(CFG, lr=CFG.lr * times) for times in (1.0, 1 / 3, 3.0)]
    dev, dev_examples = prepared.encoded["dev"], task.splits["dev"]
    subsets = [dev_subset(task, n, s) for n, s in points]

    def model_for(seed):
        torch.manual_seed(seed)
        return without_dropout(prepared.pipeline.point_model(prepared))

    trains = [[prepared.encoded["train"][i] for i in subset(task, n, s)] for n, s in points]
    fused_models = [model_for(s) for _, s in points]
    fused = fit_fused(fused_models, trains, [s for _, s in points], dev, dev_examples, task, cfgs, dev_subsets=subsets)
    for (_, seed), train, fused_model, got, cfg, chosen in zip(points, trains, fused_models, fused, cfgs, subsets):
        model = model_for(seed)
        want = fit(model, train, [dev[i] for i in chosen], [dev_examples[i] for i in chosen], task, cfg, seed)
        # the same computation up to float rounding: a dev prediction that sits on a tie may flip, so dev
        # scores agree to one scored unit (a sentence or a token) and the best step may differ only between
        # steps whose dev scores tie to that unit
        unit = 1 / sum(len(dev_examples[i].tokens) if task.kind == "tagging" else 1 for i in chosen)
        assert got.steps == want.steps
        for (s1, loss1, dev1), (s2, loss2, dev2) in zip(got.history, want.history):
            assert s1 == s2 and dev1 == pytest.approx(dev2, abs=unit + 1e-9)
            assert (math.isnan(loss1) and math.isnan(loss2)) or loss1 == pytest.approx(loss2, rel=1e-4)
        score_at = {step: score for step, _, score in want.history}
        assert abs(score_at[got.best_step] - score_at[want.best_step]) <= unit + 1e-9
        assert got.best_dev == pytest.approx(want.best_dev, abs=unit + 1e-9)
        if got.best_step == want.best_step:
            for name, p in model.named_parameters():  # each ends on its own best-on-dev weights
                # Adam normalizes float noise in near-zero gradients up to about one step (lr) in a few weights
                torch.testing.assert_close(dict(fused_model.named_parameters())[name], p, rtol=1e-3, atol=cfg.lr)


def test_fused_replicas_share_the_optimizer_settings(vocab):
    task = resolve_task("micro-sentiment")
    prepared = prepare("random+lstm", task, CORPUS, vocab, SETTINGS["random+lstm"])
    models = [prepared.pipeline.point_model(prepared) for _ in range(2)]
    trains = [[prepared.encoded["train"][i] for i in subset(task, 16, s)] for s in (0, 1)]
    with pytest.raises(ValueError, match="weight_decay"):
        fit_fused(
            models,
            trains,
            [0, 1],
            prepared.encoded["dev"],
            task.splits["dev"],
            task,
            [CFG, replace(CFG, weight_decay=0.1)],
        )


def test_replicas_stop_at_their_own_step(vocab):
    task = resolve_task("micro-sentiment")
    settings = SETTINGS["random+lstm"]
    prepared = prepare("random+lstm", task, CORPUS, vocab, settings)
    trains = [[prepared.encoded["train"][i] for i in subset(task, n, 0)] for n in (16, 160)]
    cfg = TrainConfig(max_steps=40, min_steps=4, max_evals=4, batch_size=16, max_epochs=2, patience=50)
    models = [without_dropout(prepared.pipeline.point_model(prepared)) for _ in trains]
    small, large = fit_fused(models, trains, [0, 0], prepared.encoded["dev"][:40], task.splits["dev"][:40], task, cfg)
    assert (small.steps, large.steps) == (4, 20)  # max(2 epochs, min_steps) for each subset


def test_padding_rows_and_positions_change_nothing(vocab):
    task = resolve_task("micro-sentiment")
    settings = SETTINGS["scratch-transformer"]
    prepared = prepare("scratch-transformer", task, CORPUS, vocab, settings)
    models = [without_dropout(prepared.pipeline.point_model(prepared)).eval() for _ in range(2)]
    a, b = collate(prepared.encoded["train"][:5]), collate(prepared.encoded["train"][5:17])
    stack = ReplicaStack(models, "cpu")
    stack.template.eval()
    logits = stack.forward(stack_batches([a, b]), 0)
    torch.testing.assert_close(logits[0, :5], models[0](a), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(logits[1, :12], models[1](b), rtol=1e-5, atol=1e-5)
    losses = stack.losses(stack_batches([a, b]))
    torch.testing.assert_close(
        losses, torch.stack([models[0].head.loss(models[0](a), a), models[1].head.loss(models[1](b), b)])
    )


def test_folded_attention_equals_sdpa_per_replica_forward_and_backward():
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 4, 6, 8, requires_grad=True) for _ in range(3))  # [K, B, H, T, Dh]
    mask = torch.rand(3, 2, 1, 6, 6) > 0.3
    mask |= torch.eye(6, dtype=torch.bool)
    with replica_folding():
        out = vmap(lambda q, k, v, m: attend(q, k, v, m, 0.0))(q, k, v, mask)
    want = torch.stack([F.scaled_dot_product_attention(q[i], k[i], v[i], attn_mask=mask[i]) for i in range(3)])
    torch.testing.assert_close(out, want)
    g = torch.randn_like(out)
    got = torch.autograd.grad(out, (q, k, v), g)
    ref = torch.autograd.grad(want, (q, k, v), g)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b)


def test_folded_attention_backward_replays_the_dropout_mask():
    q, k, v = (torch.randn(2, 3, 2, 5, 4, requires_grad=True) for _ in range(3))
    torch.manual_seed(7)
    with replica_folding():
        out = vmap(lambda q, k, v: attend(q, k, v, None, 0.5), randomness="different")(q, k, v)
    got = torch.autograd.grad(out.sum(), (q, k, v))
    torch.manual_seed(7)  # the same draw on the folded batch, differentiated by autograd directly
    flat = [t.reshape(6, 2, 5, 4) for t in (q, k, v)]
    with torch.enable_grad():
        want_out = F.scaled_dot_product_attention(*flat, dropout_p=0.5).reshape(2, 3, 2, 5, 4)
    torch.testing.assert_close(out, want_out)
    for a, b in zip(got, torch.autograd.grad(want_out.sum(), (q, k, v))):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_our_lstm_equals_nn_lstm_on_packed_sequences(bidirectional, layers):
    torch.manual_seed(layers)
    ours = LSTM(7, 5, num_layers=layers, bidirectional=bidirectional)
    ref = nn.LSTM(7, 5, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    ref.load_state_dict(ours.state_dict())  # same parameter names and shapes
    x = torch.randn(4, 9, 7, requires_grad=True)
    lengths = torch.tensor([9, 3, 6, 1])
    mask = torch.arange(9)[None] < lengths[:, None]
    packed, _ = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    want, _ = pad_packed_sequence(packed, batch_first=True, total_length=9)
    g = torch.randn_like(want)
    want_grads = torch.autograd.grad(want, [x] + list(ref.parameters()), g)
    # the plain CPU call (torch's kernel on packed sequences) and the scan (what vmap and CUDA run)
    for got in (ours(x, mask), ours.packed(x, lengths), ours.scanned(x, mask)):
        torch.testing.assert_close(got, want)
        got_grads = torch.autograd.grad(got, [x] + list(ours.parameters()), g)
        for a, b in zip(got_grads, want_grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_our_lstm_takes_the_scan_where_packing_cannot_serve():
    """A mask with a gap, or an empty row, is not a packed batch: the scan handles it (state held)."""
    torch.manual_seed(0)
    lstm = LSTM(3, 4, bidirectional=True)
    x = torch.randn(2, 5, 3)
    gap = torch.tensor([[1, 1, 0, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    torch.testing.assert_close(lstm(x, gap), lstm.scanned(x, gap))
    empty = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=torch.bool)
    out = lstm(x, empty)
    torch.testing.assert_close(out, lstm.scanned(x, empty))
    assert not out[1].any()


def test_fuse_option_is_validated():
    assert parse_fuse("AUTO") == "auto" and parse_fuse(16) == "16" and parse_fuse("off") == "off"
    with pytest.raises(WorkbenchError, match="--fuse"):
        parse_fuse("0")


def test_stacked_adamw_equals_torch_adamw_with_clipping_and_decay_per_replica():
    torch.manual_seed(0)
    from workbench.core.fused import StackedAdamW

    shapes = {"w": (5, 3), "b": (5,)}
    singles = [{n: torch.randn(s, requires_grad=True) for n, s in shapes.items()} for _ in range(2)]
    stacked = {n: torch.stack([p[n].detach() for p in singles]).requires_grad_() for n in shapes}
    scale = {"w": 1.0, "b": 0.5}  # a layer-decay share for one parameter
    lrs, clip, decay = [1e-2, 3e-3], 0.5, 0.01
    references = [
        torch.optim.AdamW([{"params": [p["w"]], "lr": lr}, {"params": [p["b"]], "lr": lr * 0.5}], weight_decay=decay)
        for p, lr in zip(singles, lrs)
    ]
    ours = StackedAdamW(stacked, scale, decay, clip)
    for step in range(1, 6):
        grads = {n: torch.randn(2, *s) * (3 if step % 2 else 0.1) for n, s in shapes.items()}  # some steps clip
        for k, (p, opt) in enumerate(zip(singles, references)):
            for n in shapes:
                p[n].grad = grads[n][k].clone()
            torch.nn.utils.clip_grad_norm_(list(p.values()), clip)
            opt.step()
        for n in shapes:
            stacked[n].grad = grads[n].clone()
        ours.step(stacked, torch.tensor(lrs), torch.full((2,), float(step)))
        for k, p in enumerate(singles):
            for n in shapes:
                torch.testing.assert_close(stacked[n][k], p[n].detach())


def test_a_perfect_dev_score_ends_training_fused_or_not(vocab):
    """Dev relabelled with the untrained model's own predictions scores 1.0 at step 0: nothing can be
    selected over it, so both trainers stop there (the cheap path of a prompted model that already
    reads the task) instead of spending their minimum steps."""
    import dataclasses

    from workbench.core.train import predict

    task = resolve_task("micro-sentiment")
    settings = SETTINGS["random+lstm"]
    prepared = prepare("random+lstm", task, CORPUS, vocab, settings)
    dev = prepared.encoded["dev"][:40]

    def model_for(seed):
        torch.manual_seed(seed)
        return without_dropout(prepared.pipeline.point_model(prepared))

    own = [task.labels[p] for p in predict(model_for(0), dev)]
    dev_examples = [dataclasses.replace(ex, label=label) for ex, label in zip(task.splits["dev"][:40], own)]
    trains = [[prepared.encoded["train"][i] for i in subset(task, 32, s)] for s in (0, 1)]
    alone = fit(model_for(0), trains[0], dev, dev_examples, task, CFG, 0)
    fused = fit_fused([model_for(0), model_for(1)], trains, [0, 1], dev, dev_examples, task, CFG)
    assert (alone.steps, alone.best_dev) == (0, 1.0)
    assert (fused[0].steps, fused[0].best_dev) == (0, 1.0)
    assert fused[1].steps >= CFG.min_steps  # the other replica, not perfect, trains on as before
