"""``LiveWorker``: one background thread running jobs in order from a bounded queue.

Live streams hand their frames to one (frame work: face tracking, traces, analysis) and models
their chunks to another (inference). A worker behind real time drops new jobs rather than
growing latency and memory, and counts what it dropped.

Jobs must not hold the object that owns the worker: the owner stops its worker from a
``weakref.finalize``, which cannot run while a queued job keeps the owner alive. Every worker is
also stopped at interpreter exit, before finalisation (as ``concurrent.futures`` does): a daemon
thread still inside a C++ runtime (mediapipe, ONNX Runtime) when the interpreter tears down
aborts the process.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable

__all__ = ["LiveWorker"]

_log = logging.getLogger(__name__)

#: Jobs a worker may hold before new droppable ones are dropped (about 1.5 s of 30 fps frames).
DEFAULT_MAX_PENDING = 45

_workers: weakref.WeakSet[LiveWorker] = weakref.WeakSet()
_workers_lock = threading.Lock()
_shutting_down = False


def _stop_all_at_exit() -> None:
    global _shutting_down  # noqa: PLW0603  (one process-wide flag, as concurrent.futures)
    with _workers_lock:
        _shutting_down = True
        workers = list(_workers)
    for w in workers:
        w.stop()


threading._register_atexit(_stop_all_at_exit)  # type: ignore[attr-defined]


class LiveWorker:
    """One thread running submitted jobs in order.

    Parameters
    ----------
    name
        Thread name.
    max_pending
        Queue length above which :meth:`submit` with ``drop_when_busy`` drops the job.
    """

    def __init__(self, name: str, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._max_pending = int(max_pending)
        self._stopped = False
        self._exit_after_job = False
        self._on_exit: Callable[[], None] | None = None
        self._state_lock = threading.Lock()
        self.error: BaseException | None = None
        """The first error a job raised (the owner re-raises it on its caller's thread)."""
        self.dropped = 0
        """Jobs dropped because the worker was behind."""
        with _workers_lock:
            if _shutting_down:
                raise RuntimeError("LiveWorker: the interpreter is shutting down")
            _workers.add(self)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def on_worker_thread(self) -> bool:
        """Whether the calling thread is this worker's."""
        return threading.current_thread() is self._thread

    def submit(self, job: Callable[[], None], *, drop_when_busy: bool = False) -> bool:
        """Queue ``job``; ``False`` when it was dropped (busy, or the worker is stopped)."""
        if self._stopped:
            return False
        if drop_when_busy and self._queue.qsize() >= self._max_pending:
            self.dropped += 1
            return False
        self._queue.put(job)
        return True

    def wait(self) -> None:
        """Wait until every job queued so far has run.

        Returns at once on the worker's own thread (a job cannot wait for the queue it runs in).
        """
        if self.on_worker_thread or not self._thread.is_alive():
            return
        self._queue.join()

    def take_error(self) -> BaseException | None:
        """The pending job error, cleared."""
        with self._state_lock:
            err, self.error = self.error, None
        return err

    def stop(self, then: Callable[[], None] | None = None) -> None:
        """Discard queued jobs, let the running one finish, end the thread, then call ``then``.

        Idempotent. Called on the worker's own thread (from a job), the thread ends after that
        job and runs ``then`` itself: a thread cannot join itself.
        """
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
        if self.on_worker_thread:
            self._on_exit = then
            self._exit_after_job = True
            self._discard_pending()
            return
        self._discard_pending()
        self._queue.put(None)
        self._thread.join()
        if then is not None:
            then()

    def _discard_pending(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._queue.task_done()

    def _run(self) -> None:
        while not self._exit_after_job:
            job = self._queue.get()
            try:
                if job is None:
                    return
                job()
            except BaseException as exc:  # noqa: BLE001  (re-raised on the owner's thread)
                _log.exception("rppg worker job failed")
                with self._state_lock:
                    if self.error is None:
                        self.error = exc
            finally:
                self._queue.task_done()
                job = None  # a finished job must not keep what it holds alive until the next
        self._discard_pending()
        if self._on_exit is not None:
            self._on_exit()
