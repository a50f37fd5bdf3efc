"""Where jobs run: a ``JobRunner`` protocol with a local process pool and Celery behind it.

The runner is chosen by ``settings.job_runner`` from :data:`RUNNERS`. The Celery application
itself (:func:`celery_app`) is built here too, so the server can send tasks without importing
:mod:`lunglab.workers`, the worker process's entry point.
"""
from __future__ import annotations

import functools
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Protocol

from lunglab.core.settings import Settings, get_settings
from lunglab.services import jobs
from lunglab.services.jobs.queue import queue_for

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)


class JobRunner(Protocol):
    """Runs queued jobs somewhere; job state itself lives in the database."""

    name: str

    def submit(self, job_id: int, kind: str) -> None: ...

    def start(self) -> None: ...

    def shutdown(self) -> None: ...


def _init_child(parent_pid: int, niceness: int) -> None:
    """Pool initializer: run at a lower CPU priority than the server, and exit when the
    server dies (even by SIGKILL).

    A training run or an import uses every core it gets; at ``niceness`` 10 the kernel gives
    the server's requests (a reader's save, a viewer's slice) the CPU first. A
    ``ProcessPoolExecutor`` worker holds both ends of its call queue, so it never sees the
    parent go away and would idle forever as an orphan.
    """
    if niceness:
        os.nice(niceness)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="lunglab-parent-watch", daemon=True).start()


def _run_in_child(settings_dump: dict[str, Any], job_id: int) -> str:
    settings = Settings(**settings_dump)
    return jobs.execute_job(settings, job_id)


class LocalJobRunner:
    """Jobs in child processes of the server (``ProcessPoolExecutor``, spawn context).

    Two pools, like Celery's two queues: interactive jobs (pre-annotating one study) never
    wait behind a long training run. At start, jobs left ``running`` by a previous server are
    failed and ``queued`` ones are resubmitted. A child that dies (killed, out of memory)
    fails its job with that reason and its pool is rebuilt.
    """

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._dump = settings.model_dump(mode="json")
        self._lock = threading.Lock()
        self._pools: dict[str, ProcessPoolExecutor] = {}

    @staticmethod
    def queue_for(kind: str) -> str:
        """The pool of a job of ``kind`` (no GPU queue here)."""
        return queue_for(kind)

    def _executor(self, queue: str) -> ProcessPoolExecutor:
        with self._lock:
            if queue not in self._pools:
                workers = 1 if queue == "interactive" else max(
                    1, self.settings.local_worker_processes)
                self._pools[queue] = ProcessPoolExecutor(
                    max_workers=workers, mp_context=mp.get_context("spawn"),
                    initializer=_init_child,
                    initargs=(os.getpid(), self.settings.job_niceness))
            return self._pools[queue]

    def start(self) -> None:
        n = jobs.fail_interrupted(self.settings, runner=self.name)
        if n:
            log.warning("%d job(s) were interrupted by the last shutdown and are marked failed", n)
        for job_id, kind in jobs.queued_jobs(self.settings):
            self.submit(job_id, kind)

    def submit(self, job_id: int, kind: str) -> None:
        queue = self.queue_for(kind)
        try:
            fut = self._executor(queue).submit(_run_in_child, self._dump, job_id)
        except BrokenProcessPool:
            self._reset(queue)
            fut = self._executor(queue).submit(_run_in_child, self._dump, job_id)
        fut.add_done_callback(functools.partial(self._done, job_id, queue))

    def _done(self, job_id: int, queue: str, fut: Future[str]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is None:
            return
        reason = ("the worker process died (killed or out of memory)"
                  if isinstance(exc, BrokenProcessPool) else f"{type(exc).__name__}: {exc}")
        jobs.mark_failed(self.settings, job_id, f"failed: {reason}")
        if isinstance(exc, BrokenProcessPool):
            self._reset(queue)

    def _reset(self, queue: str) -> None:
        with self._lock:
            pool = self._pools.pop(queue, None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)

    def worker_pids(self) -> list[int]:
        """PIDs of the pools' child processes (for fault tests)."""
        pids: list[int] = []
        for pool in list(self._pools.values()):
            pids += list((getattr(pool, "_processes", None) or {}).keys())
        return pids

    def shutdown(self) -> None:
        """Stop the pools and their processes; a job cut short is failed (and a training
        run resumed from its checkpoint) at the next start."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
            for proc in procs:
                proc.join(timeout=5)


class CeleryJobRunner:
    """Jobs on Celery workers over the Redis broker; ``lunglab worker`` starts one."""

    name = "celery"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = celery_app(settings)

    def start(self) -> None:
        return None

    def queue_for(self, job_id: int, kind: str) -> str:
        """``gpu`` for jobs that asked for CUDA (GPU workers listen there), else
        ``interactive`` for pre-annotation and ``batch`` for the rest."""
        from lunglab.db.models import Job
        from lunglab.db.session import session_scope

        with session_scope(self.settings.resolved_database_url) as db:
            job = db.get(Job, job_id)
            device = (job.params or {}).get("device") if job is not None else None
        return queue_for(kind, device)

    def submit(self, job_id: int, kind: str) -> None:
        self.app.send_task("lunglab.run_job", args=[job_id],
                           queue=self.queue_for(job_id, kind))

    def shutdown(self) -> None:
        return None


RUNNERS: dict[str, Callable[[Settings], JobRunner]] = {
    "local": LocalJobRunner, "celery": CeleryJobRunner}
"""Job runners by the name ``settings.job_runner`` gives."""


def make_runner(settings: Settings) -> JobRunner:
    """The runner named by ``settings.job_runner``."""
    return RUNNERS[settings.job_runner](settings)


def celery_app(settings: Settings | None = None) -> Celery:
    """A Celery app bound to the configured Redis broker, with separate queues so
    interactive AI requests never wait behind long batch jobs; its one task,
    ``lunglab.run_job``, runs :func:`lunglab.services.jobs.execute_job`."""
    from celery import Celery

    settings = settings or get_settings()
    app = Celery("lunglab", broker=settings.celery_broker_url,
                 backend=settings.celery_result_backend)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        task_default_queue="batch",
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
    )

    @app.task(name="lunglab.run_job")
    def run_job(job_id: int) -> str:
        return jobs.execute_job(get_settings(), int(job_id))

    return app
