"""Background jobs: kinds, requests, running, queues and runners.

- :mod:`.kinds`: the registry; a job kind registers itself with :func:`job_kind` in a
  ``services/<capability>/<name>_job.py`` module;
- :mod:`.context`: what a running job gets (:class:`JobContext`) and its opening
  (:func:`job_row`: fetch the row or fail, mark it running);
- :mod:`.requests`: submit, get, list, cancel (users' rights);
- :mod:`.runtime`: run a job to its end, fail interrupted ones;
- :mod:`.queue`: which queue a job waits in;
- :mod:`.runners`: where jobs run (local process pool, Celery), behind ``JobRunner``.

The names below are re-exported for callers (``from lunglab.services import jobs``).
"""
from __future__ import annotations

from lunglab.services.jobs.context import JobCancelled, JobContext, JobGone, job_row
from lunglab.services.jobs.kinds import JobFunction, job_kind, known_kinds
from lunglab.services.jobs.queue import INTERACTIVE_KINDS, queue_for
from lunglab.services.jobs.requests import (
    get_job,
    list_jobs,
    request_cancel,
    submit,
    submit_once,
)
from lunglab.services.jobs.runtime import (
    FINAL,
    execute_job,
    fail_interrupted,
    mark_failed,
    queued_jobs,
)

__all__ = [
    "FINAL",
    "INTERACTIVE_KINDS",
    "JobCancelled",
    "JobContext",
    "JobFunction",
    "JobGone",
    "execute_job",
    "fail_interrupted",
    "get_job",
    "job_kind",
    "job_row",
    "known_kinds",
    "list_jobs",
    "mark_failed",
    "queue_for",
    "queued_jobs",
    "request_cancel",
    "submit",
    "submit_once",
]
