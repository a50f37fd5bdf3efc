"""A project's PACS over DICOMweb: configure, search (QIDO), import (WADO), push SEG (STOW).

The configuration lives in ``project.settings["dicomweb"]``: ``url``, optional ``username``
and ``password_env``, the *name* of the server's environment variable that holds the
password. Project settings are shown to every project member, so no secret is stored there.
Everything here needs the project admin role and is audited, without PACS search terms or
results (they may identify patients).

Pushing a label map sends the de-identified CT series LungLab exports *and* the SEG that
references it, into the pseudonymous study: LungLab cannot (and must not) re-identify, so the
SEG cannot point at the PACS's original instances.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.models import Project, User
from lunglab.io.dicomweb import DicomwebConfig
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.errors import InvalidInput
from lunglab.services.access.projects import require_role

SETTINGS_KEY = "dicomweb"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _admin_project(db: Session, user: User | None, project_id: int) -> Project:
    if user is None:
        project = db.get(Project, project_id)
        if project is None:
            from lunglab.services.errors import NotFound

            raise NotFound(f"project {project_id} not found")
        return project
    return require_role(db, user, project_id, "admin")


def public_config(project: Project) -> dict[str, Any]:
    """The configuration: ``{url, username, password_env, password_set}``."""
    cfg = (project.settings or {}).get(SETTINGS_KEY) or {}
    env = cfg.get("password_env")
    return {"url": cfg.get("url"), "username": cfg.get("username"), "password_env": env,
            "password_set": bool(env and os.environ.get(env))}


def get_config(db: Session, user: User | None, project_id: int) -> dict[str, Any]:
    return public_config(_admin_project(db, user, project_id))


def set_config(db: Session, user: User | None, project_id: int, url: str | None,
               username: str | None = None, password_env: str | None = None
               ) -> dict[str, Any]:
    """Set (or with ``url=None`` remove) the project's DICOMweb server.

    Raises:
        InvalidInput: a URL that is not http(s), or a bad environment variable name.
    """
    project = _admin_project(db, user, project_id)
    settings = dict(project.settings or {})
    if not url:
        settings.pop(SETTINGS_KEY, None)
    else:
        DicomwebConfig(url)  # validates
        if password_env and not _ENV_NAME.match(password_env):
            raise InvalidInput("password_env must be an environment variable name "
                               "(letters, digits, _)")
        settings[SETTINGS_KEY] = {"url": url.rstrip("/"), "username": username or None,
                                  "password_env": password_env or None}
    project.settings = settings
    db.flush()
    audit.record(db, user, "pacs.configure", "project", project_id,
                 url=(url or None), username=username or None)
    return public_config(project)


def _client(project: Project) -> Any:
    from lunglab.io.dicomweb import make_client

    cfg = (project.settings or {}).get(SETTINGS_KEY)
    if not cfg or not cfg.get("url"):
        raise InvalidInput("this project has no DICOMweb server configured")
    env = cfg.get("password_env")
    return make_client(DicomwebConfig(cfg["url"], cfg.get("username"),
                                      os.environ.get(env) if env else None))


def _pacs_error(exc: Exception) -> InvalidInput:
    return InvalidInput(f"the PACS request failed: {type(exc).__name__}: {str(exc)[:300]}")


def search(db: Session, user: User | None, project_id: int, **filters: Any
           ) -> list[dict[str, Any]]:
    """QIDO-RS study search (filters: patient_id, study_date, modality, study_uid, limit)."""
    from lunglab.io.dicomweb import search_series, search_studies

    project = _admin_project(db, user, project_id)
    client = _client(project)
    try:
        studies = search_studies(client, **filters)
        for s in studies:
            s["series_list"] = search_series(client, s["study_uid"]) if s["study_uid"] else []
    except InvalidInput:
        raise
    except Exception as exc:
        raise _pacs_error(exc) from None
    audit.record(db, user, "pacs.search", "project", project_id, results=len(studies))
    return studies


def import_study(db: Session, store: VolumeStore, settings: Settings, user: User | None,
                 project_id: int, study_uid: str, series_uid: str | None = None
                 ) -> list[dict[str, Any]]:
    """Retrieve CT series of a PACS study (WADO-RS) and import them (de-identified).

    Args:
        series_uid: one series; default every CT series of the study.

    Returns:
        The import outcomes (as the upload endpoint's results).
    """
    from lunglab.io.dicomweb import retrieve_series, search_series
    from lunglab.services.ingest import importer as ingest

    project = _admin_project(db, user, project_id)
    client = _client(project)
    outcomes: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=ingest.work_dir(settings)) as scratch:
        try:
            uids = [series_uid] if series_uid else [
                s["series_uid"] for s in search_series(client, study_uid, modality="CT")]
            if not uids:
                raise InvalidInput("the PACS study has no CT series")
            files: list[tuple[str, Path]] = []
            for i, uid in enumerate(uids):
                paths = retrieve_series(client, study_uid, uid, Path(scratch) / f"s{i}")
                files += [(f"pacs/series{i}/{p.name}", p) for p in paths]
        except InvalidInput:
            raise
        except Exception as exc:
            raise _pacs_error(exc) from None
        results = ingest.import_files(db, store, settings, project, user, files)
        outcomes = [r.as_dict() for r in results]
    audit.record(db, user, "pacs.import", "project", project_id, series=len(outcomes),
                 imported=sum(o["status"] == "imported" for o in outcomes))
    return outcomes


def push_version(db: Session, store: VolumeStore, user: User | None, version_id: int,
                 *, with_ct: bool = True) -> dict[str, Any]:
    """STOW-RS a label map as DICOM SEG (and the de-identified CT it references).

    Returns:
        ``{"study_uid", "seg_series_uid", "seg_sop_instance_uid", "instances"}``.
    """
    from lunglab.io.dicomweb import store as stow
    from lunglab.services.exchange.export import _admin_version, build_version_seg

    study, version = _admin_version(db, user, version_id)
    project = _admin_project(db, user, study.project_id)
    client = _client(project)
    seg, ct = build_version_seg(store, study, version)
    try:
        sent = stow(client, ct) if with_ct else 0
        sent += stow(client, [seg])
    except InvalidInput:
        raise
    except Exception as exc:
        raise _pacs_error(exc) from None
    audit.record(db, user, "export.pacs_push", "version", version.id, study=study.id,
                 instances=sent, with_ct=with_ct)
    return {"study_uid": study.study_uid, "seg_series_uid": str(seg.SeriesInstanceUID),
            "seg_sop_instance_uid": str(seg.SOPInstanceUID), "instances": sent}
