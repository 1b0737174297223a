"""K training runs of one pipeline in lockstep: one fused model, a leading replica axis.

A data-efficiency curve is many small runs (sizes x seeds) of the same architecture. Run one
at a time, a small model leaves a GPU idle and a CPU paying Python overhead per operation.
Here the K runs' weights are stacked ([K, ...] per parameter) and the model is called once per
step through `torch.func.vmap` over `functional_call`: every Linear becomes a batched matmul,
attention folds the replica axis into its batch, embeddings are looked up per replica, and the
LSTM's recurrence advances all K at once (our own LSTM: vmap has no rule for nn.LSTM). The
model code is the same module a single run uses, so nothing is written twice.

What stays per replica, exactly as `core.train.fit` does it for one run: its labeled subset,
its seeded data order, its dev subset, its learning rate and update budget (the configurations
of a tuning grid are replicas too), its step count, warmup and decay, gradient-norm clipping,
AdamW moments, dev evaluations, best state and early stopping. A replica that stops is removed from the
stack (its best weights kept aside), so it neither updates nor costs compute. Replicas differ
in batch rows (small subsets) and lengths: batches are padded with rows whose targets are
ignored and with masked positions, which the models and losses are invariant to.

Contract (tests/test_fused.py): each replica's losses and metrics equal a separate `fit` run's
to float32 tolerance (dropout 0; with dropout, each replica draws its own masks from the
shared generator, so runs are statistically, not bitwise, the same).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
from torch.func import functional_call, vmap

from workbench import metrics
from workbench.core.batching import Batch, Encoded, batches, eval_batches
from workbench.core.folded_attention import replica_folding
from workbench.core.graphs import PAD_VALUES, FusedStep
from workbench.core.train import FitResult, TrainConfig, autocast, done_training, lr_factor, plan_steps, score
from workbench.data.types import Example, Task

BETAS, EPS = (0.9, 0.999), 1e-8  # torch.optim.AdamW's defaults, which `fit` uses


def stack_batches(parts: list[Batch]) -> dict[str, torch.Tensor]:
    """K batches -> tensors with a leading replica axis, padded to the largest rows x length.

    Padding rows hold one visible pad token (so no softmax or pooling sees an empty row) and
    only ignored targets, so they change no loss and no gradient."""
    rows = max(b.ids.shape[0] for b in parts)
    width = max(b.ids.shape[1] for b in parts)
    stacked = {}
    for name, fill in PAD_VALUES.items():
        if getattr(parts[0], name) is None:
            continue
        padded = []
        for b in parts:
            value = getattr(b, name)
            shape = (rows, width) if value.dim() == 2 else (rows,)
            out = torch.full(shape, fill, dtype=value.dtype)
            out[tuple(slice(0, s) for s in value.shape)] = value
            if name == "pad_mask":
                out[value.shape[0] :, 0] = True
            padded.append(out)
        stacked[name] = torch.stack(padded)
    return stacked


@dataclass
class _Replica:
    """The per-run state `fit` keeps in local variables."""

    index: int
    train: list[Encoded]
    dev: list[int]  # indices into the shared dev pool
    cfg: TrainConfig
    generator: torch.Generator
    total: int
    eval_every: int
    warmup: int
    step: int = 0
    best_dev: float = float("-inf")
    best_step: int = 0
    since_best: int = 0
    history: list = field(default_factory=list)
    running: list = field(default_factory=list)
    epoch: object = None
    batch: Batch | None = None

    def next_batch(self, batch_size: int) -> Batch:
        """The next batch of this replica's own seeded order; a new epoch reshuffles."""
        while True:
            if self.epoch is None:
                self.epoch = batches(self.train, batch_size, self.generator)
            self.batch = next(self.epoch, None)
            if self.batch is not None:
                return self.batch
            self.epoch = None


class ReplicaStack:
    """K same-architecture models as one: trainable parameters stacked on a leading axis, frozen
    ones shared when all replicas hold the same tensor (a frozen embedding is stored once)."""

    def __init__(self, models: list[torch.nn.Module], device):
        self.device = device
        named = [dict(m.named_parameters()) for m in models]
        self.trainable = [n for n, p in named[0].items() if p.requires_grad]
        self.params = {
            n: torch.stack([d[n].detach().to(device) for d in named]).requires_grad_() for n in self.trainable
        }
        self.frozen, self.frozen_dims = {}, {}
        for name, _value in list(named[0].items()) + list(models[0].named_buffers()):
            if name in self.params:
                continue
            values = [
                dict(list(m.named_parameters()) + list(m.named_buffers()))[name].detach().to(device) for m in models
            ]
            shared = all(torch.equal(values[0], v) for v in values[1:])
            self.frozen[name] = values[0] if shared else torch.stack(values)
            self.frozen_dims[name] = None if shared else 0
        self.template = models[0].to(device)  # after stacking: the others may still be on the CPU

    @property
    def size(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def keep(self, positions: list[int]) -> None:
        """Drop every replica not in `positions` (stopped runs) from the stack."""
        chosen = self.select(positions)
        self.params = {n: p.requires_grad_() for n, p in chosen.params.items()}
        self.frozen = chosen.frozen

    def select(self, positions: list[int]) -> ReplicaStack:
        """A detached stack of the replicas at `positions`, sharing this one's template."""
        index = torch.tensor(positions, device=self.device)
        view = copy.copy(self)
        view.params = {n: p.detach()[index] for n, p in self.params.items()}
        view.frozen = {n: (v[index] if self.frozen_dims[n] == 0 else v) for n, v in self.frozen.items()}
        return view

    def forward(self, tensors: dict[str, torch.Tensor], batch_dim) -> torch.Tensor:
        """Logits [K, B, ...]; `batch_dim` 0 = one batch per replica, None = the same batch for all."""
        template = self.template

        def one(params, frozen, batch_tensors):
            return functional_call(template, {**params, **frozen}, (Batch(**batch_tensors),))

        with replica_folding():
            return vmap(one, in_dims=(0, self.frozen_dims, batch_dim), randomness="different")(
                self.params, self.frozen, tensors
            )

    def losses(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        template = self.template

        def one(params, frozen, batch_tensors):
            batch = Batch(**batch_tensors)
            return template.head.loss(functional_call(template, {**params, **frozen}, (batch,)), batch)

        with replica_folding():
            return vmap(one, in_dims=(0, self.frozen_dims, 0), randomness="different")(
                self.params, self.frozen, tensors
            )


class StackedAdamW:
    """torch.optim.AdamW over stacked parameters, with a learning rate and a step count per replica,
    and gradient-norm clipping per replica (`clip_grad_norm_` semantics). One set of tensor ops
    updates all K replicas: the fused optimizer step."""

    def __init__(
        self, params: dict[str, torch.Tensor], lr_scale: dict[str, float], weight_decay: float, clip_norm: float
    ):
        self.lr_scale, self.weight_decay, self.clip_norm = lr_scale, weight_decay, clip_norm
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}

    def keep(self, positions: list[int]) -> None:
        index = torch.tensor(positions, device=next(iter(self.exp_avg.values())).device)
        self.exp_avg = {n: v[index] for n, v in self.exp_avg.items()}
        self.exp_avg_sq = {n: v[index] for n, v in self.exp_avg_sq.items()}

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor], lrs: torch.Tensor, steps: torch.Tensor) -> None:
        """lrs: [K] base learning rates now; steps: [K] this update's 1-based count per replica."""
        grads = {n: p.grad for n, p in params.items()}
        k = lrs.shape[0]
        view = lambda v, like: v.view(k, *([1] * (like.dim() - 1)))  # noqa: E731
        if self.clip_norm:
            norms = torch.stack([g.float().pow(2).flatten(1).sum(1) for g in grads.values()]).sum(0).sqrt()
            coef = (self.clip_norm / (norms + 1e-6)).clamp(max=1.0)
            for g in grads.values():
                g.mul_(view(coef, g))
        beta1, beta2 = BETAS
        correction1 = 1 - beta1**steps
        correction2_sqrt = (1 - beta2**steps).sqrt()
        for name, p in params.items():
            g, lr = grads[name], lrs * self.lr_scale[name]
            p.mul_(1 - view(lr * self.weight_decay, p))
            self.exp_avg[name].lerp_(g, 1 - beta1)
            self.exp_avg_sq[name].mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (self.exp_avg_sq[name].sqrt() / view(correction2_sqrt, p)).add_(EPS)
            p.sub_(view(lr / correction1, p) * self.exp_avg[name] / denom)
            p.grad = None


def _lr_scales(model, cfg: TrainConfig) -> dict[str, float]:
    """Each trainable parameter's share of the base rate, from the model's own layer-decay groups."""
    names = {id(p): n for n, p in model.named_parameters()}
    scales = {}
    for group in model.parameter_groups(1.0, cfg.layer_decay):
        for p in group["params"]:
            scales[names[id(p)]] = group["lr"]
    return scales


def predict_fused(
    stack: ReplicaStack, items: list[Encoded], precision: str = "auto", batch_size: int = 128
) -> list[list]:
    """Predictions of every live replica on the same items (dev, test): one forward per batch."""
    stack.template.eval()
    out = [[None] * len(items) for _ in range(stack.size)]
    with torch.no_grad():
        for positions, batch in eval_batches(items, batch_size):
            batch = batch.to(stack.device)
            tensors = {k: v for k, v in vars(batch).items() if v is not None}
            with autocast(stack.device, precision):
                logits = stack.forward(tensors, None)
            for k, replica_logits in enumerate(logits.float()):
                for position, prediction in zip(positions, stack.template.head.predict(replica_logits, batch)):
                    out[k][position] = prediction
    return out


def score_subsets(
    stack: ReplicaStack,
    items: list[Encoded],
    examples: list[Example],
    subsets: list[list[int]],
    task: Task,
    precision: str = "auto",
) -> list[dict]:
    """Each live replica's metrics on its own subset (indices into `items`), from one forward pass
    over the union of the subsets."""
    union = sorted(set().union(*subsets))
    where = {index: position for position, index in enumerate(union)}
    predictions = predict_fused(stack, [items[i] for i in union], precision)
    return [
        score(task, [examples[i] for i in chosen], [replica[where[i]] for i in chosen])
        for replica, chosen in zip(predictions, subsets)
    ]


SHARED_FIELDS = ("weight_decay", "clip_norm", "layer_decay", "precision")  # one fused optimizer and autocast


def fit_fused(
    models: list[torch.nn.Module],
    trains: list[list[Encoded]],
    seeds: list[int],
    dev: list[Encoded],
    dev_examples: list[Example],
    task: Task,
    cfg: TrainConfig | list[TrainConfig],
    device="cpu",
    dev_subsets: list[list[int]] | None = None,
) -> list[FitResult]:
    """`fit` for K models at once. Each model ends holding its own best-on-dev weights.

    `cfg`: one for every replica, or one per replica (they may differ in rate and update budget,
    not in SHARED_FIELDS). `dev_subsets`: each replica's dev, as indices into `dev` (default:
    all of it); replica k then equals `fit` with the dev `[dev[i] for i in dev_subsets[k]]`."""
    started = time.perf_counter()
    cfgs = cfg if isinstance(cfg, list) else [cfg] * len(models)
    for name in SHARED_FIELDS:
        if len({getattr(c, name) for c in cfgs}) > 1:
            raise ValueError(f"fused replicas must share {name}; train configurations that differ in it apart")
    subsets = dev_subsets or [list(range(len(dev)))] * len(models)
    stack = ReplicaStack(models, device)
    optimizer = StackedAdamW(stack.params, _lr_scales(models[0], cfgs[0]), cfgs[0].weight_decay, cfgs[0].clip_norm)
    precision = cfgs[0].precision
    train_step = FusedStep(stack, optimizer, device, precision)  # from CUDA graphs under `graphs.cuda_graphs()`
    replicas = []
    for index, (train, seed, one_cfg, subset) in enumerate(zip(trains, seeds, cfgs, subsets)):
        total, eval_every = plan_steps(len(train), one_cfg)
        replicas.append(
            _Replica(
                index,
                train,
                subset,
                one_cfg,
                torch.Generator().manual_seed(seed),
                total,
                eval_every,
                max(1, int(one_cfg.warmup_frac * total)),
            )
        )
    primary = metrics.PRIMARY_METRIC[task.kind]
    best = {n: p.detach().clone() for n, p in stack.params.items()}  # by original replica index
    for replica, scores in zip(replicas, score_subsets(stack, dev, dev_examples, subsets, task, precision)):
        replica.best_dev = scores[primary]
        replica.history.append((0, float("nan"), replica.best_dev))
    live = list(replicas)
    while True:
        finished = [i for i, r in enumerate(live) if done_training(r.step, r.total, r.best_dev, r.since_best, r.cfg)]
        if finished:
            keep = [i for i in range(len(live)) if i not in finished]
            live = [live[i] for i in keep]
            if not live:
                break
            stack.keep(keep)
            optimizer.keep(keep)
        stack.template.train()
        tensors = stack_batches([r.next_batch(r.cfg.batch_size) for r in live])
        tensors = {k: v.to(device) for k, v in tensors.items()}
        lrs = torch.tensor([r.cfg.lr * lr_factor(r.step, r.total, r.warmup) for r in live], device=device)
        steps = torch.tensor([r.step + 1 for r in live], dtype=torch.float32, device=device)
        losses = train_step(tensors, lrs, steps)
        for replica, loss in zip(live, losses.detach().float().cpu().tolist()):
            replica.running.append(loss)
            replica.step += 1
        due = [i for i, r in enumerate(live) if r.step % r.eval_every == 0 or r.step == r.total]
        if due:
            evaluated = stack if len(due) == stack.size else stack.select(due)
            due_subsets = [live[i].dev for i in due]
            for i, scores in zip(due, score_subsets(evaluated, dev, dev_examples, due_subsets, task, precision)):
                _record_evaluation(live[i], scores[primary], stack, i, best)
    _load_best(models, best)
    seconds = time.perf_counter() - started
    return [FitResult(r.step, r.best_step, r.best_dev, seconds, r.history) for r in replicas]


def _record_evaluation(replica: _Replica, dev_score: float, stack: ReplicaStack, position: int, best: dict) -> None:
    replica.history.append((replica.step, sum(replica.running) / len(replica.running), dev_score))
    replica.running = []
    if dev_score > replica.best_dev:
        replica.best_dev, replica.best_step, replica.since_best = dev_score, replica.step, 0
        for name, p in stack.params.items():
            best[name][replica.index] = p.detach()[position]
    else:
        replica.since_best += 1


def _load_best(models, best: dict) -> None:
    with torch.no_grad():
        for k, model in enumerate(models):
            params = dict(model.named_parameters())
            for name, stacked in best.items():
                params[name].copy_(stacked[k])


def without_dropout(model: torch.nn.Module) -> torch.nn.Module:
    """Zero every dropout rate (modules and attention's), in place: the setting in which fused and
    separate runs agree to float tolerance, since dropout masks depend on how runs are grouped."""
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "dropout", None), float):
            module.dropout = 0.0
    return model


def choose_k(model: torch.nn.Module, cfg: TrainConfig, max_len: int, device, limit: int = 64) -> int:
    """How many replicas to fuse. On a CPU, 1: there the small models are already compute-bound, and
    fusing measured 0.78-1.07x the sequential loop (bench/NOTES.md), so it does not pay. On CUDA,
    where one small run leaves the GPU idle (K = 32 measured 4.8-12x), as many as half the free
    memory holds, from a rough per-replica footprint (weights, gradients, two AdamW moments and a
    best copy, plus activations of one batch)."""
    if torch.device(device).type != "cuda":
        return 1
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    width = max((p.shape[-1] for p in model.parameters() if p.dim() == 2), default=256)
    activations = cfg.batch_size * max_len * width * 4 * 16
    per_replica = 5 * 4 * trainable + activations
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return max(1, min(limit, int(0.5 * free // per_replica)))
