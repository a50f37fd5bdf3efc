"""Celery application: workers run the same :func:`lunglab.services.jobs.execute_job`."""
from __future__ import annotations

import socket

from celery import Celery
from celery.signals import worker_ready

from lunglab.core.settings import Settings, get_settings
from lunglab.services import jobs


def make_celery(settings: Settings | None = None) -> Celery:
    """A Celery app bound to the configured Redis broker, with separate queues so
    interactive AI requests never wait behind long batch jobs."""
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


app = make_celery()


@worker_ready.connect
def _recover(**_: object) -> None:
    """Jobs this host's previous worker left running are failed with a clear message."""
    jobs.fail_interrupted(get_settings(), worker=socket.gethostname())
