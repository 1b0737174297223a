"""What each way of using a pretrained model does, asserted (not just that it gives a number):
prompt fine-tuning trains through the verbalizers, a probe leaves the backbone alone, layer decay
gives each layer its rate, MLM and PLM prompts are read at their slot (the PLM's query stream
never sees the slot's own token), and span training beats a trivial baseline on micro-qa."""

import contextlib
from collections import Counter
from dataclasses import replace

import pytest
import torch
from conftest import run_main
from torch.optim.optimizer import register_optimizer_step_post_hook

from workbench.core.batching import collate
from workbench.core.train import TrainConfig, fit
from workbench.data.tasks import resolve_task
from workbench.data.vocab import build_vocab
from workbench.metrics import qa_scores
from workbench.pipelines.run import prepare, run_point

TINY_CORPUS = "microworld:100000"
FLIP = {"positive": "negative", "negative": "positive"}


@pytest.fixture(scope="module")
def sentiment():
    return resolve_task("micro-sentiment")


@pytest.fixture(scope="module")
def vocab():
    return build_vocab("microworld")  # the shipped CLM's vocabulary: no pretraining in these tests


def flipped(prepared, split, count):
    """The first `count` items and examples of a split with their labels swapped."""
    items = [replace(item, label=1 - item.label) for item in prepared.encoded[split][:count]]
    examples = [replace(ex, label=FLIP[ex.label]) for ex in prepared.task.splits[split][:count]]
    return items, examples


def loss_and_predictions(model, items):
    model.eval()
    batch = collate(items)
    with torch.no_grad():
        logits = model(batch)
        return model.head.loss(logits, batch).item(), model.head.predict(logits, batch)


def test_prompt_finetuning_lowers_its_loss_and_changes_predictions(sentiment, vocab):
    """clm:prompt reads micro-sentiment right zero-shot; fine-tuned (steps > 0, through PromptHead.loss)
    on swapped labels it must learn them: its loss falls and its predictions turn."""
    prepared = prepare("clm:prompt", sentiment, "microworld", vocab)
    torch.manual_seed(0)
    model = prepared.pipeline.point_model(prepared)
    items, examples = flipped(prepared, "train", 16)
    loss_before, before = loss_and_predictions(model, items)
    assert sum(p != item.label for p, item in zip(before, items)) >= 14  # zero-shot: the true labels
    config = TrainConfig(lr=1e-3, min_steps=20, max_steps=20, max_evals=2, warmup_frac=0.0)
    fitted = fit(model, items, items, examples, sentiment, config, seed=0)
    loss_after, after = loss_and_predictions(model, items)
    assert fitted.steps > 0 and loss_after < loss_before / 2
    assert sum(p == item.label for p, item in zip(after, items)) >= 14  # now the labels it was taught


@contextlib.contextmanager
def optimizer_steps(model):
    """Every optimizer step fit takes: (optimizer, the model's weights right after the step). What fit
    trained, seen before it restores its best dev state (which may be the starting one)."""
    steps = []

    def record(optimizer, args, kwargs):
        steps.append((optimizer, {k: v.detach().clone() for k, v in model.state_dict().items()}))

    handle = register_optimizer_step_post_hook(record)
    try:
        yield steps
    finally:
        handle.remove()


def test_probe_trains_the_head_and_leaves_the_backbone_unchanged(sentiment, vocab):
    prepared = prepare("clm:probe", sentiment, "microworld", vocab)
    torch.manual_seed(0)
    model = prepared.pipeline.point_model(prepared)
    config = TrainConfig(lr=3e-3, weight_decay=0.1, min_steps=4, max_steps=4, max_evals=1)
    with optimizer_steps(model) as steps:
        fit(
            model,
            prepared.encoded["train"][:32],
            prepared.encoded["dev"][:16],
            sentiment.splits["dev"][:16],
            sentiment,
            config,
            seed=0,
        )
    assert len(steps) == 4
    trained = steps[-1][1]
    backbone = [name for name in trained if name.startswith(("embed.", "encoder."))]
    assert len(backbone) > 10
    for name in backbone:
        reference = prepared.backbone_state[name]
        if name == "embed.weight":  # the point's model holds the rows of the words the task uses
            reference = reference[prepared.rows]
        assert torch.equal(trained[name], reference), name
    head = [name for name in trained if name.startswith("head.")]
    assert head and all(not torch.equal(trained[name], steps[0][1][name]) for name in head)


def test_layer_decay_gives_each_layer_its_rate_in_training(sentiment, vocab):
    """fit's optimizer: the head (and final LayerNorm) at lr, block i of L at lr * d^(L - i), embeddings
    and positions at lr * d^(L + 1); every trainable parameter in exactly one group."""
    prepared = prepare("clm", sentiment, "microworld", vocab)
    torch.manual_seed(0)
    model = prepared.pipeline.point_model(prepared)
    lr, decay = 1e-3, 0.8
    config = TrainConfig(lr=lr, min_steps=1, max_steps=1, max_evals=1, layer_decay=decay)
    with optimizer_steps(model) as steps:
        fit(
            model,
            prepared.encoded["train"][:8],
            prepared.encoded["dev"][:8],
            sentiment.splits["dev"][:8],
            sentiment,
            config,
            seed=0,
        )
    rate_of = {}
    for group in steps[0][0].param_groups:
        for parameter in group["params"]:
            assert id(parameter) not in rate_of
            rate_of[id(parameter)] = group["initial_lr"]  # the schedule scales lr; initial_lr is the group's rate
    depth = len(model.encoder.blocks)

    def wanted(name):
        if name.startswith("encoder.blocks."):
            return lr * decay ** (depth - int(name.split(".")[2]))
        if name.startswith(("embed.", "encoder.positions.")):
            return lr * decay ** (depth + 1)
        return lr

    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    assert len(rate_of) == len(named) and depth == 2
    for name, parameter in named:
        assert rate_of[id(parameter)] == pytest.approx(wanted(name)), name


# ------------------------------------------------------------------ MLM and PLM prompts: read at the slot


@pytest.fixture(scope="module")
def tiny_backbones(tmp_path_factory):
    """One-layer MLM and PLM backbones, pretrained for a few steps: what is tested is where the prompt
    head reads, not what the model knows. (With two layers the PLM's slot token reaches the query
    stream through the other positions' content streams, so the own-token check needs one.)"""
    folders = {}
    for objective in ("mlm", "plm"):
        folder = tmp_path_factory.mktemp(objective)
        result = run_main(
            "pretrain",
            "--objective",
            objective,
            "--corpus",
            TINY_CORPUS,
            "--steps",
            "3",
            "--d-model",
            "32",
            "--layers",
            "1",
            "--heads",
            "2",
            "--d-ff",
            "64",
            "--batch-size",
            "8",
            "--seq-len",
            "32",
            "--out",
            str(folder),
            "--device",
            "cpu",
            "--quiet",
        )
        assert result.returncode == 0, result.stderr
        folders[objective] = folder
    return folders


def prompted(objective, folders, task):
    prepared = prepare(
        f"{objective}:prompt",
        task,
        TINY_CORPUS,
        build_vocab(TINY_CORPUS),
        settings={"backbone": str(folders[objective])},
    )
    torch.manual_seed(0)
    return prepared, prepared.pipeline.point_model(prepared).eval()


@pytest.mark.parametrize("objective", ["mlm", "plm"])
def test_masked_prompts_score_the_verbalizers_at_the_slot(objective, tiny_backbones, sentiment):
    prepared, model = prompted(objective, tiny_backbones, sentiment)
    batch = collate(prepared.encoded["test"][:6])
    slot = batch.pad_mask.sum(1) - 1
    rows = torch.arange(len(slot))
    assert (batch.ids[rows, slot] == prepared.vocab.mask_id).all()  # each input ends with its [mask] slot
    with torch.no_grad():
        states = model.encoder(model.embed(batch.ids), batch.pad_mask)
        scores = model(batch)
        vocab_scores = model.head.lm_head(states[rows, slot]).log_softmax(-1)
        want = torch.stack([vocab_scores[:, ids].logsumexp(-1) for ids in prepared.verbalizer_ids], dim=-1)
        torch.testing.assert_close(scores, want)
        elsewhere = states.clone()
        elsewhere[rows, slot - 1] += 5.0
        elsewhere[:, 0] -= 5.0
        torch.testing.assert_close(model.head(elsewhere, batch), scores)  # other positions do not count
        at_slot = states.clone()
        at_slot[rows, slot] += torch.randn(at_slot.shape[-1], generator=torch.Generator().manual_seed(0))
        assert (model.head(at_slot, batch) - scores).abs().max() > 1e-3  # the slot does


def test_plm_prompt_reads_the_query_stream_which_never_sees_the_slots_token(tiny_backbones, sentiment):
    prepared, model = prompted("plm", tiny_backbones, sentiment)
    batch = collate(prepared.encoded["test"][:6])
    slot = batch.pad_mask.sum(1) - 1
    rows = torch.arange(len(slot))
    other_slot, other_word = batch.ids.clone(), batch.ids.clone()
    other_slot[rows, slot] = prepared.vocab.encode(["soup"])[0]
    other_word[rows, 1] = prepared.vocab.encode(["soup"])[0]
    with torch.no_grad():
        scores = model(batch)
        torch.testing.assert_close(model(replace(batch, ids=other_slot)), scores, rtol=0, atol=0)
        assert (model(replace(batch, ids=other_word)) - scores).abs().max() > 1e-5  # it does read the sentence


# ------------------------------------------------------------------ span extraction (micro-qa)


def test_span_training_beats_the_best_constant_span_on_micro_qa():
    """The trivial baseline: the most frequent (start, length) of the train split, for every question."""
    task = resolve_task("micro-qa")
    task = replace(task, splits={k: v if k == "train" else v[:200] for k, v in task.splits.items()})
    (start, length), _ = Counter((ex.span[0], ex.span[1] - ex.span[0]) for ex in task.splits["train"]).most_common(1)[0]
    test = task.splits["test"]
    baseline = qa_scores([ex.span for ex in test], [(start, start + length)] * len(test), [ex.tokens for ex in test])
    settings = {"encoder": {"hidden": 32}, "train": {"lr": 5e-3, "min_steps": 60, "max_steps": 60}}
    result = run_point(prepare("random+lstm", task, TINY_CORPUS, build_vocab(TINY_CORPUS), settings), 128, 0)
    assert result["fit"]["steps"] == 60
    assert result["metrics"]["test"]["token_f1"] >= baseline["token_f1"] + 0.07, (result["metrics"]["test"], baseline)
    assert result["metrics"]["test"]["exact_match"] >= baseline["exact_match"] + 0.07
