"""The Celery worker's application: ``lunglab worker`` (or ``celery -A
lunglab.workers.celery_app worker``) runs :func:`lunglab.services.jobs.execute_job` for each
task. The app is built by :func:`lunglab.services.jobs.runners.celery_app`, which the server's
Celery runner shares.
"""
from __future__ import annotations

import socket

from celery import Celery
from celery.signals import worker_ready

from lunglab.core.settings import Settings, get_settings
from lunglab.services import jobs
from lunglab.services.jobs.runners import celery_app


def make_celery(settings: Settings | None = None) -> Celery:
    """The Celery app of the worker (see :func:`lunglab.services.jobs.runners.celery_app`)."""
    return celery_app(settings)


app = make_celery()


@worker_ready.connect
def _recover(**_: object) -> None:
    """Jobs this host's previous worker left running are failed with a clear message."""
    jobs.fail_interrupted(get_settings(), worker=socket.gethostname())
