"""The fused training step (forward, backward, AdamW) replayed from CUDA graphs, as an opt-in (`cuda_graphs()`).

A fused step of K small replicas is hundreds of short kernel launches; at K = 32 the fused Transformer ran only
4.8x the sequential loop on an H100 (bench/NOTES.md) because the GPU waited on the host between launches. A CUDA
graph records a step's launches once and replays them as one, so the host's cost per step no longer grows with
the model's depth.

A graph replays fixed shapes at fixed addresses, so:
- batches are padded to a bucket shape (rows to a multiple of 8, width to a multiple of 16) with the neutral
  rows and positions `fused.stack_batches` pads with (PAD_VALUES): the losses and gradients do not change;
- one graph per (live replicas, tensor shapes), captured the first time the shape occurs, right after that
  step ran eagerly (which pays for cuBLAS's and Triton's first-call work, and updates the weights: capturing
  runs nothing, so every step updates exactly once); graphs share one memory pool, and a replay's outputs are
  copied out before the next;
- when replicas stop (`ReplicaStack.keep` makes new parameter tensors) every graph is dropped and recaptured.
Autocast runs with its weight-cast cache off, as graph capture requires. A model with attention dropout runs
eagerly (`capturable`): the folded attention's backward replays the forward's RNG state, which no code may read
during a capture (dropout elsewhere draws from the graph-safe generator).

Off CUDA, or outside `cuda_graphs()`, the step runs eagerly: the same three lines `fit_fused` always ran. What
the graph path computes on a CPU is checked (padding to the bucket shape changes no loss); the capture itself
needs a GPU: bench/gpu_check.py compares graphed and eager fused runs there and times both.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch

from workbench.core.batching import IGNORE

_ENABLED = contextvars.ContextVar("cuda_graphs", default=False)
ROWS_QUANTUM, WIDTH_QUANTUM = 8, 16
# the neutral values a stacked batch is padded with (`fused.stack_batches`, `pad_to_bucket`): no loss sees them
PAD_VALUES = {
    "ids": 0,
    "pad_mask": False,
    "labels": IGNORE,
    "tags": IGNORE,
    "starts": IGNORE,
    "ends": IGNORE,
    "span_mask": False,
    "offsets": 1,
}


@contextlib.contextmanager
def cuda_graphs(enabled: bool = True):
    """Inside, `fit_fused` on CUDA replays its training step from CUDA graphs."""
    token = _ENABLED.set(enabled)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def _round_up(n: int, quantum: int) -> int:
    return -(-n // quantum) * quantum


def pad_to_bucket(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Stacked batch tensors [K, rows(, width)] padded to rows and width rounded up to their quanta, with the
    neutral values: each added row holds one visible pad token and only ignored targets."""
    ids = tensors["ids"]
    rows, width = ids.shape[1], ids.shape[2]
    to_rows, to_width = _round_up(rows, ROWS_QUANTUM), _round_up(width, WIDTH_QUANTUM)
    if (to_rows, to_width) == (rows, width):
        return tensors
    padded = {}
    for name, value in tensors.items():
        shape = (value.shape[0], to_rows, to_width) if value.dim() == 3 else (value.shape[0], to_rows)
        out = torch.full(shape, PAD_VALUES[name], dtype=value.dtype, device=value.device)
        out[tuple(slice(0, s) for s in value.shape)] = value
        if name == "pad_mask":
            out[:, rows:, 0] = True
        padded[name] = out
    return padded


def capturable(model: torch.nn.Module) -> bool:
    """Whether a fused step of this model can be captured: not with attention dropout, whose backward replays the
    forward's RNG state (`folded_attention`), a state no code may read during capture. Such a model runs eagerly."""
    return not any(isinstance(getattr(m, "dropout", None), float) and m.dropout > 0 for m in model.modules())


def _autocast(device, precision: str):
    """`core.train.autocast`, with the weight-cast cache off (graph capture needs it off)."""
    device_type = torch.device(device).type
    enabled = precision == "bf16" or (precision == "auto" and device_type == "cuda")
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=enabled, cache_enabled=False)


class FusedStep:
    """One `fit_fused` call's training step: losses [K] of the live replicas, weights updated."""

    def __init__(self, stack, optimizer, device, precision: str):
        self.stack, self.optimizer, self.device, self.precision = stack, optimizer, device, precision
        self.graphed = _ENABLED.get() and torch.device(device).type == "cuda" and capturable(stack.template)
        self.graphs: dict = {}
        self.pool = None
        self.params = None  # the parameter tensors the graphs were captured with

    def eager(self, tensors, lrs, steps) -> torch.Tensor:
        with _autocast(self.device, self.precision):
            losses = self.stack.losses(tensors)
        losses.float().sum().backward()
        self.optimizer.step(self.stack.params, lrs, steps)
        return losses.detach()

    def __call__(self, tensors: dict[str, torch.Tensor], lrs: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        if not self.graphed:
            return self.eager(tensors, lrs, steps)
        params = list(self.stack.params.values())
        if self.params is None or any(a is not b for a, b in zip(params, self.params)):
            self.graphs, self.params = {}, params  # replicas stopped: new tensors, so new graphs
        tensors = pad_to_bucket(tensors)
        key = tuple((name, tuple(value.shape)) for name, value in sorted(tensors.items()))
        if key not in self.graphs:
            losses = self._capture(key, tensors, lrs, steps)
            return losses
        graph, inputs, losses = self.graphs[key]
        for name, value in tensors.items():
            inputs[name].copy_(value, non_blocking=True)
        inputs["lrs"].copy_(lrs, non_blocking=True)
        inputs["steps"].copy_(steps, non_blocking=True)
        graph.replay()
        return losses.clone()

    def _capture(self, key, tensors, lrs, steps) -> torch.Tensor:
        """Run this step eagerly on a side stream (it counts), then record the same step into a graph."""
        inputs = {name: value.clone() for name, value in tensors.items()}
        inputs["lrs"], inputs["steps"] = lrs.clone(), steps.clone()
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            losses = self.eager(tensors, lrs, steps)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        batch = {name: inputs[name] for name in tensors}
        with torch.cuda.graph(graph, pool=self.pool):
            static_losses = self.eager(batch, inputs["lrs"], inputs["steps"])
        self.pool = graph.pool()
        self.graphs[key] = (graph, inputs, static_losses)
        return losses
