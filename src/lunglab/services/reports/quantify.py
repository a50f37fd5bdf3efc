"""Quantification use cases: figures of a label-map version, change between two studies.

Versions and CT volumes never change once stored, so the figures of a version are computed
once and kept in the store under a key made of the label map's and the CT's checksums
(``derived/quantification/<labels sha256>-<ct sha256>-v<N>.json``).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.core.times import utc_iso
from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.imaging.quantify import DEFINITIONS, compare, quantify
from lunglab.io.store import VolumeStore
from lunglab.services.errors import InvalidInput, NotFound
from lunglab.services.labels.labelmaps import read_labels, visible_versions
from lunglab.services.access.projects import can_see_study, get_study
from lunglab.services.access.studies import load_volume

FIGURES_VERSION = 1
"""Bump when :func:`lunglab.imaging.quantify.quantify` changes: invalidates cached figures."""


def resolve_version(db: Session, user: User, study_id: int, version_id: int | None = None
                    ) -> tuple[Study, LabelMapVersion, str]:
    """The study, the requested (or newest visible) version and the user's role.

    Raises:
        NotFound: unknown or invisible study or version, or a study without any version.
    """
    study, role = get_study(db, user, study_id)
    versions = visible_versions(db, user, study, role)
    if version_id is None:
        if not versions:
            raise NotFound(f"study {study_id} has no label map yet")
        return study, versions[0], role
    version = next((v for v in versions if v.id == version_id), None)
    if version is None:
        raise NotFound(f"version {version_id} not found for study {study_id}")
    return study, version, role


def provenance(version: LabelMapVersion) -> dict[str, Any]:
    """Who or what made the label map, in plain data."""
    return {
        "version_id": version.id, "kind": version.kind,
        "author": version.author.username if version.author else None,
        "model_name": version.model_name, "created_at": utc_iso(version.created_at),
        "message": version.message,
        "made_by": (f"model {version.model_name}" if version.kind == "ai" and version.model_name
                    else f"reader {version.author.username}" if version.author
                    else f"{version.kind} label map"),
    }


def figures_for(store: VolumeStore, study: Study, version: LabelMapVersion,
                with_ct: bool = True) -> dict[str, Any]:
    """Quantify a version (cached in the store); the CT adds the density figures."""
    # content-addressed: the label map's and the CT's checksums (both files carry geometry)
    ct = f"-{study.volume_checksum[:16]}" if with_ct else ""
    key = f"derived/quantification/{version.checksum[:32]}{ct}-v{FIGURES_VERSION}.json"
    if store.exists(key):
        with store.open(key) as fh:
            return json.loads(fh.read())
    labels = read_labels(store, version)
    hu = load_volume(store, study).array if with_ct else None
    figures = quantify(labels, study.spacing, study.direction, hu)
    store.put_bytes(key, json.dumps(figures).encode())
    return figures


def quantify_version(db: Session, store: VolumeStore, user: User, study_id: int,
                     version_id: int | None = None) -> dict[str, Any]:
    """Figures of a study's label map, with its provenance and the definitions.

    Returns:
        ``{"study_id", "patient_key", "version": provenance, "figures": quantify(...),
        "definitions": {...}, "related_studies": [...]}``.
    """
    study, version, _ = resolve_version(db, user, study_id, version_id)
    return {
        "study_id": study.id, "study_name": study.name, "patient_key": study.patient_key,
        "version": provenance(version), "figures": figures_for(store, study, version),
        "definitions": DEFINITIONS,
        "related_studies": related_studies(db, user, study),
    }


def related_studies(db: Session, user: User, study: Study) -> list[dict[str, Any]]:
    """Other studies of the same pseudonymous patient in the project that the user may see."""
    rows = db.scalars(select(Study).where(Study.project_id == study.project_id,
                                          Study.patient_key == study.patient_key,
                                          Study.id != study.id).order_by(Study.id)).all()
    out = []
    for s in rows:
        try:
            can_see_study(db, user, s)
        except NotFound:
            continue
        out.append({"id": s.id, "name": s.name, "created_at": utc_iso(s.created_at)})
    return out


def compare_studies(db: Session, store: VolumeStore, user: User, study_id: int,
                    baseline_study_id: int, *, version_id: int | None = None,
                    baseline_version_id: int | None = None) -> dict[str, Any]:
    """Change in involvement from a baseline study to a follow-up of the same patient.

    Raises:
        InvalidInput: the two studies belong to different (pseudonymous) patients or are one.
        NotFound: a study or version the user may not see.
    """
    if study_id == baseline_study_id:
        raise InvalidInput("choose two different studies to compare")
    study, version, _ = resolve_version(db, user, study_id, version_id)
    base, base_version, _ = resolve_version(db, user, baseline_study_id, baseline_version_id)
    if base.patient_key != study.patient_key or base.project_id != study.project_id:
        raise InvalidInput("the studies belong to different patients; change over time compares "
                           "studies of one (pseudonymous) patient")
    after = figures_for(store, study, version)
    before = figures_for(store, base, base_version)
    return {
        "study_id": study.id, "baseline_study_id": base.id,
        "version": provenance(version), "baseline_version": provenance(base_version),
        "change": compare(before, after), "definitions": DEFINITIONS,
    }


def labels_and_ct(store: VolumeStore, study: Study, version: LabelMapVersion
                  ) -> tuple[np.ndarray, Any]:
    """The version's voxels and the study's CT (for reports and exports)."""
    return read_labels(store, version), load_volume(store, study)
