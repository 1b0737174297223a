"""Where the comparison's fused groups run: here (`local`, the default), or as Ray tasks on a
cluster (`ray`). Either way the driver alone writes results, one atomic line per point as its
group finishes, so the run folder, the resume rule and the report are the same.

Locally, `workers` processes share the groups (on a CPU one per core, each with one torch thread:
a small model gains nothing from intra-op threads but a second process doubles the throughput);
on a GPU one process drives the device and fusing does the rest. Every point seeds itself, so the
numbers do not depend on how many workers there are or which one ran a point.

Ray is an optional extra (`pip install ".[ray]"`). Each pipeline's prepared artifact (vocabulary,
vectors or pretrained weights, encoded splits) is put into Ray's object store once and shared by
every task of that pipeline; a task declares one GPU, or `cpus_per_task` CPUs. A task whose
worker dies is retried by Ray (`max_retries`); only a returned result reaches the file, so a
retried group is written once.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context

from workbench.errors import WorkbenchError
from workbench.pipelines.run import run_points
from workbench.pipelines.tuning import Protocol
from workbench.runs import resolve_device

EXECUTORS = ("local", "ray")
TASK_RETRIES = 3


def local_workers(choice: str, device: str, n_groups: int) -> int:
    """--workers auto: one process per usable core on a CPU, one on a GPU; never more than the groups.
    WORKBENCH_WORKERS stands in for auto where the cores are already taken (the test suite runs on
    pytest-xdist's workers)."""
    choice = os.environ.get("WORKBENCH_WORKERS", "auto") if choice == "auto" else choice
    if choice != "auto":
        wanted = int(choice)
    elif str(device).startswith("cuda"):
        wanted = 1
    else:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(wanted, n_groups))


def run_groups_locally(groups, prepared, device, protocol: Protocol, workers: int = 1) -> Iterator[tuple]:
    """Yield (pipeline, results) per (pipeline, points, fused) group: in order in this process, or as
    they finish in `workers` processes."""
    if workers <= 1:
        for pipeline, points, fused in groups:
            yield pipeline, run_points(prepared[pipeline], points, device, fused, protocol)
        return
    needed = {pipeline: prepared[pipeline] for pipeline, *_ in groups}
    # spawn, not fork: a forked copy of a process that already ran torch can deadlock in OpenMP
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(needed, dict(os.environ))
    ) as pool:
        pending = {
            pool.submit(_local_group, pipeline, points, device, fused, protocol): pipeline
            for pipeline, points, fused in largest_first(groups)
        }
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield pending.pop(future), future.result()
        finally:  # an error or Ctrl-C: drop the groups not started; finished ones are already written
            pool.shutdown(wait=True, cancel_futures=True)


def largest_first(groups: list) -> list:
    """The groups by their labeled examples, most first (ties in their given order): the longest
    runs start first and the short ones fill the gaps, so no worker is left alone with a long run at
    the end (longest processing time first, the classic rule for balancing jobs over machines)."""
    return sorted(groups, key=lambda group: -sum(n for n, _ in group[1]))


_WORKER_PREPARED: dict = {}


def _start_worker(prepared: dict, environ: dict) -> None:
    os.environ.update({k: v for k, v in environ.items() if k.startswith("WORKBENCH_")})
    _WORKER_PREPARED.update(prepared)
    resolve_device("cpu")  # the same torch thread count as the driver (WORKBENCH_THREADS, default 1)


def _local_group(pipeline, points, device, fused, protocol):
    return run_points(_WORKER_PREPARED[pipeline], points, device, fused, protocol)


def _group_task(prepared, points, device, fused, protocol):
    """One fused group on a Ray worker. WORKBENCH_FAULT_ONCE (tests) names a file: the first task
    to find it missing creates it and kills its own worker, as a crashed machine would."""
    fault = os.environ.get("WORKBENCH_FAULT_ONCE")
    if fault and not os.path.exists(fault):
        open(fault, "w").close()
        os._exit(1)
    return run_points(prepared, points, resolve_device(device), fused, protocol)


def _connect(address: str | None):
    """The ray module, connected (or a local cluster started)."""
    try:
        import ray  # noqa: PLC0415 (an optional extra: pip install ".[ray]")
    except ImportError:
        raise WorkbenchError('--executor ray needs Ray: pip install ".[ray]" (or choose --executor local)') from None
    if ray.is_initialized():
        return ray
    if address not in (None, "auto"):
        _check_reachable(address)
    env = {k: v for k, v in os.environ.items() if k.startswith("WORKBENCH_")}  # data and cache folders
    try:
        ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False, include_dashboard=False)
    except ConnectionError as exc:
        raise WorkbenchError(
            f"--address {address}: no Ray cluster there ({exc}); start one with `ray start --head`, "
            f"or leave --address out to start a local one"
        ) from None
    return ray


def ray_task_options(device, cpus_per_task: int) -> dict:
    """What each task declares: one GPU on CUDA, else its CPUs; retried if its worker dies."""
    resources = {"num_gpus": 1} if str(device).startswith("cuda") else {"num_cpus": cpus_per_task}
    return {"max_retries": TASK_RETRIES, "retry_exceptions": False, **resources}


def _check_reachable(address: str) -> None:
    """Fail in seconds with a clear line: ray.init retries an unreachable address for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise WorkbenchError(f"--address {address!r}: use auto or HOST:PORT (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise WorkbenchError(
            f"--address {address}: no Ray cluster answers there ({exc.strerror or exc}); start one with "
            f"`ray start --head`, or leave --address out to start a local one"
        ) from None


def run_groups_on_ray(
    groups, prepared, device, protocol: Protocol, address: str | None = None, cpus_per_task: int = 1
) -> Iterator[tuple]:
    """Submit every (pipeline, points, fused) group, then yield (pipeline, results) in the order groups finish."""
    ray = _connect(address)
    remote = ray.remote(**ray_task_options(device, cpus_per_task))(_group_task)
    shared = {name: ray.put(prep) for name, prep in prepared.items() if any(g[0] == name for g in groups)}
    pending = {
        remote.remote(shared[pipeline], points, device, fused, protocol): pipeline for pipeline, points, fused in groups
    }
    while pending:
        finished, _ = ray.wait(list(pending), num_returns=1)
        for ref in finished:
            try:
                results = ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise WorkbenchError(
                    f"a Ray task failed {TASK_RETRIES + 1} times ({type(exc).__name__}); "
                    f"the finished points are saved, rerun to resume"
                ) from None
            yield pending.pop(ref), results
