"""Where segment tasks run: a process pool on this machine, or a Ray cluster.

Both engines take :class:`~rppg_sdk.batch.segments.SegmentTask` objects and yield their
:class:`~rppg_sdk.batch.segments.SegmentResult` as they finish, keeping a bounded number of
tasks in flight (memory stays flat for archives of any size). Each worker measures one segment
at a time on one core (OpenCV's own thread pool is set to one thread: the engine already keeps
every core busy with its own workers).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, TypeVar

from rppg_sdk.batch.segments import SegmentResult, SegmentTask, run_segment_task

__all__ = ["Engine", "LocalEngine", "RayEngine", "make_engine"]

EngineName = Literal["local", "ray"]

_log = logging.getLogger(__name__)


def _worker_setup() -> None:
    import cv2  # noqa: PLC0415

    cv2.setNumThreads(1)
    os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's start-up chatter
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _ray_task(task: SegmentTask) -> SegmentResult:
    _worker_setup()
    return run_segment_task(task)


Handle = TypeVar("Handle")


def _in_flight(
    tasks: Iterable[SegmentTask],
    limit: int,
    submit: Callable[[SegmentTask], Handle],
    wait_any: Callable[[list[Handle]], tuple[Iterable[Handle], Iterable[Handle]]],
    result: Callable[[Handle], SegmentResult],
    cancel: Callable[[Handle], object],
) -> Iterator[SegmentResult]:
    """Both engines' scheduling: at most ``limit`` tasks submitted at a time, results yielded as
    they finish, the rest cancelled when the caller stops early (Ctrl-C, an error)."""
    it = iter(tasks)
    pending: list[Handle] = []
    try:
        while True:
            while len(pending) < limit:
                task = next(it, None)
                if task is None:
                    break
                pending.append(submit(task))
            if not pending:
                return
            done, rest = wait_any(pending)
            pending = list(rest)
            for handle in done:
                yield result(handle)
    finally:
        for handle in pending:
            cancel(handle)


class Engine:
    """Runs segment tasks; a context manager (``close`` frees the workers)."""

    name: str = ""
    workers: int = 1

    def run(self, tasks: Iterable[SegmentTask]) -> Iterator[SegmentResult]:
        """Results of ``tasks`` in the order they finish."""
        raise NotImplementedError

    def close(self) -> None:
        """Free the workers (idempotent)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(Engine):
    """A pool of ``workers`` processes on this machine (default: one per core).

    Workers are spawned, not forked: a fork of a process that already runs decoder or detector
    threads can inherit their locks held.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        n = (os.cpu_count() or 1) if workers is None else workers
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
        self.workers = n
        self._pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_setup,
        )

    def run(self, tasks: Iterable[SegmentTask]) -> Iterator[SegmentResult]:
        def submit(task: SegmentTask) -> Future[SegmentResult]:
            return self._pool.submit(run_segment_task, task)

        def wait_any(
            pending: list[Future[SegmentResult]],
        ) -> tuple[Iterable[Future[SegmentResult]], Iterable[Future[SegmentResult]]]:
            done, rest = wait(pending, return_when=FIRST_COMPLETED)
            return done, rest

        return _in_flight(tasks, 2 * self.workers, submit, wait_any, Future.result, Future.cancel)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayEngine(Engine):
    """One Ray task per segment, on the cluster at ``address`` or on a Ray started for this run.

    Parameters
    ----------
    address
        ``"auto"``, ``"ray://head:10001"`` or ``"head:6379"``: join that cluster (every node
        needs the same rppg-sdk and the videos at the same paths). ``None``: start a local Ray
        with ``workers`` CPUs, shut down again by :meth:`close`.
    workers
        CPUs of the local Ray (default: all); with ``address``, tasks in flight are bounded by
        the cluster's CPUs instead.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray as ray_module  # noqa: PLC0415
        except ImportError as exc:
            raise ImportError(
                f"--engine ray needs Ray ({exc}); pip install 'rppg-sdk[batch]'"
            ) from exc
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
        ray: Any = ray_module  # partly typed: used through Any
        self._ray = ray
        self._started = False
        if ray.is_initialized():
            pass  # a caller's Ray session (a notebook, a test): use it, leave it running
        elif address:
            ray.init(address=address, logging_level=logging.WARNING)
        else:
            ray.init(
                num_cpus=workers or os.cpu_count() or 1,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
            self._started = True
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1)(_ray_task)

    def run(self, tasks: Iterable[SegmentTask]) -> Iterator[SegmentResult]:
        ray = self._ray
        return _in_flight(
            tasks,
            2 * self.workers,
            self._remote.remote,
            lambda pending: ray.wait(pending, num_returns=1),
            ray.get,
            lambda ref: ray.cancel(ref, force=True),
        )

    def close(self) -> None:
        if self._started:
            self._started = False
            self._ray.shutdown()


def make_engine(name: str, *, workers: int | None = None, address: str | None = None) -> Engine:
    """``"local"`` (:class:`LocalEngine`) or ``"ray"`` (:class:`RayEngine`)."""
    if name == "local":
        if address:
            raise ValueError("--address names a Ray cluster; use it with --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(address, workers)
    raise ValueError(f"engine: expected 'local' or 'ray', got {name!r}")
