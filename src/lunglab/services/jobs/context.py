"""What a running job gets: progress, a log, cancellation; and the row it works on."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.base import utcnow
from lunglab.db.models import Job
from lunglab.db.session import session_scope

T = TypeVar("T")


class JobCancelled(Exception):
    """Raised inside a job when a cancel was requested."""


class JobGone(ValueError):
    """The row a job works on was deleted before or while the job ran."""


class JobContext:
    """Handed to a job function: report progress, write the log, honour cancellation."""

    def __init__(self, url: str, job_id: int, settings: Settings) -> None:
        self.url, self.job_id, self.settings = url, job_id, settings

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0..1) and an optional message; raise JobCancelled if asked to stop."""
        with session_scope(self.url) as db:
            job = db.get(Job, self.job_id)
            assert job is not None
            job.progress = max(0.0, min(1.0, float(fraction)))
            if message is not None:
                job.message = message[:500]
            cancel = job.cancel_requested
        if cancel:
            raise JobCancelled("cancelled by the user")

    def log(self, line: str) -> None:
        """Append a time-stamped line to the job's log (the newest 200 kB are kept)."""
        with session_scope(self.url) as db:
            job = db.get(Job, self.job_id)
            assert job is not None
            job.log = (job.log + f"{utcnow():%H:%M:%S} {line}\n")[-200_000:]


def job_row(db: Session, model: type[T], row_id: int, *, running: str | None = None,
            what: str | None = None) -> T:
    """The row a job works on, optionally marked running: every job's opening.

    Args:
        db: an open session.
        model: the table class (``Study``, ``TrainingRun`` ...).
        row_id: its primary key.
        running: the row's status column to set to ``"running"`` (``"ai_status"`` of a
            study, ``"state"`` of a training run); None leaves the row as it is.
        what: how the error names the row (default: the class name).

    Raises:
        JobGone: the row no longer exists; the job fails with this message.
    """
    row: Any = db.get(model, row_id)
    if row is None:
        raise JobGone(f"{what or model.__name__} {row_id} no longer exists")
    if running is not None:
        setattr(row, running, "running")
    return row  # type: ignore[no-any-return]
