"""The registry of job kinds: each kind registers itself with :func:`job_kind`.

A job kind is a function ``(JobContext, params) -> result`` in a module whose name ends in
``_job`` somewhere under :mod:`lunglab.services` (``services/labels/preannotate_job.py``
registers ``ai-segment``). The registry finds those modules by their name the first time a
kind is looked up; nothing here names them, so a new kind is one new file.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lunglab.services.jobs.context import JobContext

JobFunction = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
_KINDS: dict[str, JobFunction] = {}
_SERVICES_DIR = Path(__file__).resolve().parents[1]
_discovered = False


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under ``name`` (a decorator).

    Example:
        >>> @job_kind("integrity-check")  # doctest: +SKIP
        ... def run_integrity_check(ctx, params): ...
    """
    def deco(fn: JobFunction) -> JobFunction:
        _KINDS[name] = fn
        return fn
    return deco


def job_modules() -> list[str]:
    """Dotted names of every ``*_job`` module under :mod:`lunglab.services`."""
    return sorted(m.name for m in pkgutil.walk_packages([str(_SERVICES_DIR)], "lunglab.services.")
                  if m.name.rsplit(".", 1)[-1].endswith("_job"))


def _discover() -> None:
    global _discovered
    if not _discovered:
        for name in job_modules():
            importlib.import_module(name)
        _discovered = True


def known_kinds() -> list[str]:
    """Every registered job kind, sorted."""
    _discover()
    return sorted(_KINDS)


def job_function(kind: str) -> JobFunction | None:
    """The function of ``kind``, or None when no module registers it."""
    _discover()
    return _KINDS.get(kind)
