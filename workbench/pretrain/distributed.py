"""DDP plumbing for pretraining: ranks, the even split of a global batch, the loss weighting that keeps the
one-process gradient, and local process groups (`launch`) or torchrun's (`process_group`)."""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessException

from workbench.errors import WorkbenchError


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes): (0, 1) outside a torch.distributed group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_world(batch_size: int, world: int) -> None:
    """Every rank takes an equal share of each global batch, so the batch must split evenly."""
    if batch_size % world:
        raise WorkbenchError(
            f"--batch-size {batch_size} does not split over {world} processes (--nproc or torchrun's "
            f"--nproc-per-node); pick a batch size divisible by the process count"
        )


def shard(batch: dict, rank: int, world: int) -> dict:
    """Rank r's contiguous slice of every row-aligned tensor of a global batch."""
    return {name: tensor.chunk(world)[rank] for name, tensor in batch.items()}


def global_mean(loss: torch.Tensor, n_targets: int, world: int) -> tuple[float, float]:
    """(weight for this rank's mean loss, mean loss over the global batch's targets).

    DDP averages gradients over ranks. That equals the one-process gradient of the global mean only if rank
    r's loss is weighted by n_r * world / sum(n): ranks hold different numbers of targets (MLM chooses 15% at
    random, PLM a share of each order), and a plain average of per-rank means would weight ranks equally.
    A rank with no targets has a NaN mean and weight 0; its gradients are zero, and its sum counts as 0.
    """
    if world == 1:
        return 1.0, loss.item()
    totals = torch.tensor(
        [float(n_targets), loss.item() * n_targets if n_targets else 0.0], dtype=torch.float64, device=loss.device
    )
    dist.all_reduce(totals)
    count, summed = totals.tolist()
    return n_targets * world / count, summed / count


def barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


@contextmanager
def process_group(device: str):
    """Join the group that torchrun or `launch` describe in the environment (WORLD_SIZE, RANK, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT) and yield this rank's device: NCCL and cuda:LOCAL_RANK on GPUs, gloo on the CPU.
    Without that environment (or already in a group) it yields `device` unchanged."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 or dist.is_initialized():
        yield device
        return
    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise WorkbenchError(
                f"LOCAL_RANK {local}: only {torch.cuda.device_count()} GPUs are visible; "
                f"start at most one process per GPU"
            )
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    try:
        yield device
    finally:
        dist.destroy_process_group()


def launch(nproc: int, fn, args: tuple) -> None:
    """Run fn(*args) in `nproc` local processes with the environment torchrun would give them, each with this
    process's torch thread count; a worker's WorkbenchError comes back here as one.

    Keep `args` small (names, configs; not a corpus): spawn writes them into a pipe that a worker which dies
    while starting never reads, and past the pipe's 64 KiB that write blocks this process for good."""
    errors = mp.get_context("spawn").SimpleQueue()
    spawn_log = logging.getLogger("torch.multiprocessing.spawn")
    level = spawn_log.level
    spawn_log.setLevel(logging.ERROR)  # "Terminating process N" for the ranks left waiting: noise beside the cause
    try:
        mp.spawn(_worker, args=(nproc, _free_port(), torch.get_num_threads(), errors, fn, args), nprocs=nproc)
    except ProcessException:
        if not errors.empty():
            raise WorkbenchError(errors.get()) from None
        raise
    finally:
        spawn_log.setLevel(level)


def _worker(rank: int, nproc: int, port: int, threads: int, errors, fn, args: tuple) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc)
    )
    torch.set_num_threads(threads)
    try:
        fn(*args)
    except WorkbenchError as exc:
        errors.put(str(exc))
        raise SystemExit(2) from None


def _free_port() -> int:
    """A TCP port free now on 127.0.0.1 for the group's rendezvous (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
