"""The registry of job kinds: each kind registers itself with :func:`job_kind`.

A job kind is a function ``(JobContext, params) -> result`` in a module whose name ends in
``_job`` somewhere under :mod:`lunglab.services` (``services/labels/preannotate_job.py``
registers ``ai-segment``). The registry finds those modules by their name the first time a
kind is looked up; nothing here names them, so a new kind is one new file.

A kind also says what a submission must bring (:class:`JobSpec`): the object it works on
(``scope``: a study, a project, or nothing) and a pydantic model of its ``params``, checked
when the job is submitted, so an incomplete job is refused (HTTP 422) instead of failing in
the worker.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from lunglab.services.jobs.context import JobContext

JobFunction = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
ParamsCheck = Callable[[Any, dict[str, Any], int | None], str | None]
"""``(db session, checked params (with ``study_id`` for a study job), the job's project id) ->
problem or None``."""
Scope = Literal["study", "project"] | None


class JobParams(BaseModel):
    """Parameters of a kind that takes none of its own (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class JobSpec:
    """What a submission of a kind must bring.

    Attributes:
        params: the model ``params`` must validate against.
        scope: ``"study"`` (a study id is required), ``"project"`` (a project id, or a study
            whose project it is) or None.
        check: rows that ``params`` name must belong to the job's project (e.g. a ``train``
            job's run): returns what is wrong, or None. Runs after the user's rights on the
            project were checked, so params cannot reach another project's rows.
    """

    params: type[BaseModel] = JobParams
    scope: Scope = None
    check: ParamsCheck | None = None


_KINDS: dict[str, JobFunction] = {}
_SPECS: dict[str, JobSpec] = {}
_SERVICES_DIR = Path(__file__).resolve().parents[1]
_discovered = False


def job_kind(name: str, *, params: type[BaseModel] = JobParams, scope: Scope = None,
             check: ParamsCheck | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under ``name`` (a decorator), with what a submission needs.

    Example:
        >>> @job_kind("integrity-check", scope="project")  # doctest: +SKIP
        ... def run_integrity_check(ctx, params): ...
    """
    def deco(fn: JobFunction) -> JobFunction:
        _KINDS[name] = fn
        _SPECS[name] = JobSpec(params=params, scope=scope, check=check)
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


def job_spec(kind: str) -> JobSpec | None:
    """What a submission of ``kind`` must bring, or None for an unknown kind."""
    _discover()
    return _SPECS.get(kind)
