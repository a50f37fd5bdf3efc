"""The Demo project: everything a new user needs to walk the whole loop from ``../shared/data``.

What is imported (each study named as what it is, so the worklist says where it comes from):

- ``chest-ct-dicom-series/series``: the real chest CT series (141 slices, no labels);
- ``covid-semiseg-medseg``: a handful of the labelled MedSeg slices as single-slice studies
  (HU = v / 255 * 1400 - 1100, 0.75 mm pixels, 5 mm slices) with an **approved reference** label
  map: MedSeg's expert GGO / consolidation become labels 2 / 3, the lung around them (label 1)
  comes from the classical HU lung mask (:func:`lunglab.imaging.lungs.lung_mask`);
- ``covid-ny-sbu-slices``: the 12 single axial DICOM slices of 6 COVID-19 patients (no labels);
- ``cxr-actualmed``: the 12 real chest X-rays (PNG, research use only) as radiograph studies
  (:mod:`lunglab.services.radiographs.demo`).

Every step is idempotent: a second run finds the studies and the approvals and adds nothing.

Example:
    >>> summary = import_demo(  # doctest: +SKIP
    ...     settings, Path("../shared/data"), admin_name="admin")
"""
from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from lunglab.core.settings import Settings
from lunglab.db.models import Project, Study, User
from lunglab.db.session import session_scope
from lunglab.domain.labels import Label
from lunglab.domain.volume import CTVolume
from lunglab.io.deid.pseudonyms import pseudo_uid
from lunglab.io.results import ParsedSeries
from lunglab.io.store import store_for
from lunglab.services.ingest import importer as ingest

DEMO_PROJECT = "Demo"
MEDSEG_SLICES = 6
"""MedSeg slices imported by default: enough to train (two needed), quick to import."""
MEDSEG_SPACING = (0.75, 0.75, 5.0)
REFERENCE_NOTE = ("reference (MedSeg expert lesions; lung from the classical HU lung mask)")
SERIES_NAME = "Chest CT series, 141 slices (ITKElastix example 00; no labels)"
SERIES_DESCRIPTION = "real thoracic CT (probably POPI 4D-CT phase 0): no lung or lesion labels"

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``."""


@dataclass
class DemoSummary:
    """What one demo import did."""

    imported: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"demo: {len(self.imported)} studies imported, {len(self.already_there)} already "
                f"there, {len(self.approved)} reference label maps approved"
                + (f"; skipped: {'; '.join(self.skipped)}" if self.skipped else ""))


def medseg_ids(folder: Path, count: int) -> list[str]:
    """The first ``count`` labelled MedSeg slices that show both GGO and consolidation."""
    with (folder / "splits.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("split") == "train"]
    both = [r["id"] for r in rows
            if int(r["ggo_pixels"]) > 0 and int(r["consolidation_pixels"]) > 0]
    rest = [r["id"] for r in rows if r["id"] not in both]
    return (both + rest)[:max(0, count)]


def medseg_case(folder: Path, case_id: str) -> tuple[CTVolume, np.ndarray]:
    """One MedSeg slice as a one-slice HU volume and its reference label map ``[1, y, x]``.

    Lesions are MedSeg's (GGO -> 2, consolidation -> 3); lung (1) is the classical HU lung
    mask around them.
    """
    from PIL import Image

    from lunglab.imaging.lungs import lung_mask

    pixels = np.asarray(Image.open(folder / "images" / f"{case_id}.jpg").convert("L"), np.float32)
    hu = np.round(pixels / 255.0 * 1400.0 - 1100.0).astype(np.int16)[None]
    classes = np.asarray(Image.open(folder / "lesion_classes" / f"{case_id}.png"))[None]
    vol = CTVolume(hu, MEDSEG_SPACING, meta={"Modality": "CT", "Dataset": "covid-semiseg-medseg"})
    labels = np.zeros(hu.shape, np.uint8)
    labels[lung_mask(hu, MEDSEG_SPACING)] = Label.LUNG
    labels[classes == 1] = Label.GGO
    labels[classes == 2] = Label.CONSOLIDATION
    return vol, labels


def _series(vol: CTVolume, key: str, secret: bytes, name: str) -> ParsedSeries:
    return ParsedSeries(volume=vol, study_uid_pseudo=pseudo_uid(key + ":study", secret),
                        series_uid_pseudo=pseudo_uid(key, secret),
                        patient_key=hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32],
                        name=name, source_names=[], meta=dict(vol.meta),
                        slice_count=vol.shape[0], kind="nifti")


def _label_study(db, study_id: int, name: str, description: str) -> None:  # type: ignore[no-untyped-def]
    study = db.get(Study, study_id)
    if study is not None:
        study.name, study.series_description = name[:200], description[:200]


def _admin(db, admin_name: str | None) -> User | None:  # type: ignore[no-untyped-def]
    q = select(User).where(User.is_admin.is_(True), User.is_active.is_(True))
    q = q.where(User.username == admin_name) if admin_name else q.order_by(User.id)
    return db.scalar(q.limit(1))


def _approve_reference(url: str, store, admin_name: str | None, study_id: int,  # type: ignore[no-untyped-def]
                       labels: np.ndarray, case_id: str) -> bool | None:
    """Store and approve the reference label map unless the study has an approved one
    (None: there is no site administrator to approve it)."""
    from lunglab.services.collab import review
    from lunglab.services.labels.labelmaps import save_version

    with session_scope(url) as db:
        if review.final_version_id(db, study_id) is not None:
            return False
        admin = _admin(db, admin_name)
        if admin is None:
            return None
        v = save_version(db, store, None, study_id, labels, base_version_id=None,
                         kind="imported", check_base=False, message=REFERENCE_NOTE,
                         details={"dataset": "covid-semiseg-medseg", "case": case_id,
                                  "reference": REFERENCE_NOTE,
                                  "lung_source": "classical HU lung mask",
                                  "license": "non-commercial research only"})
        review.approve(db, admin, study_id, v.id, comment=REFERENCE_NOTE)
    return True


def import_demo(settings: Settings, shared_data: Path, *, admin_name: str | None = None,
                medseg_count: int = MEDSEG_SLICES, progress: Progress | None = None,
                project_name: str = DEMO_PROJECT) -> DemoSummary:
    """Import the demo studies from ``shared_data`` (the folder holding the data sets).

    Args:
        settings: where the database and the store are.
        shared_data: ``../shared/data``; missing sub-folders are skipped (and said so).
        admin_name: the site administrator who approves the reference label maps (default:
            the first one).
        medseg_count: how many labelled MedSeg slices to import.
        progress: called with ``(step, done, total)`` after each study.

    Returns:
        The names imported, already there and approved.
    """
    from lunglab.services.access.projects import get_or_create_project

    store = store_for(settings)
    url = settings.resolved_database_url
    summary = DemoSummary()
    with session_scope(url) as db:
        admin = _admin(db, admin_name)
        project = get_or_create_project(db, project_name, admin)
        project_id, secret = project.id, project.pseudonym_secret.encode()

    series_dir = shared_data / "chest-ct-dicom-series" / "series"
    medseg_dir = shared_data / "covid-semiseg-medseg"
    sbu_dir = shared_data / "covid-ny-sbu-slices"
    ids = medseg_ids(medseg_dir, medseg_count) if (medseg_dir / "splits.csv").exists() else []
    patients = sorted(p for p in sbu_dir.iterdir() if p.is_dir()) if sbu_dir.is_dir() else []
    total = int(series_dir.is_dir()) + len(ids) + len(patients) + 1
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    def record(outcome: ingest.ImportOutcome, name: str) -> None:
        if outcome.status == "imported":
            summary.imported.append(name)
        elif outcome.status == "duplicate":
            summary.already_there.append(name)
        else:
            summary.skipped.append(f"{name}: {outcome.reason}")

    if series_dir.is_dir():
        with session_scope(url) as db:
            project = db.get_one(Project, project_id)
            for o in ingest.import_paths(db, store, settings, project, None, [series_dir]):
                record(o, SERIES_NAME)
                if o.status == "imported" and o.study_id:
                    _label_study(db, o.study_id, SERIES_NAME, SERIES_DESCRIPTION)
        step("chest CT series")
    else:
        summary.skipped.append(f"{series_dir} not found")

    for case_id in ids:
        name = f"MedSeg slice {case_id}: reference (MedSeg expert lesions)"
        vol, labels = medseg_case(medseg_dir, case_id)
        with session_scope(url) as db:
            project = db.get_one(Project, project_id)
            o = ingest.register_series(db, store, project, None,
                                       _series(vol, f"demo:medseg:{case_id}", secret, name))
            record(o, name)
            if o.status == "imported" and o.study_id:
                _label_study(db, o.study_id, name, "COVID-SemiSeg / MedSeg labelled slice, "
                             "approved reference label map (" + REFERENCE_NOTE + ")")
        approved = (_approve_reference(url, store, admin_name, o.study_id, labels, case_id)
                    if o.study_id else False)
        if approved is None:
            note = ("no site administrator to approve the MedSeg references yet (add one with "
                    "`lunglab users add NAME --admin`, then run the demo import again)")
            if note not in summary.skipped:
                summary.skipped.append(note)
        elif approved:
            summary.approved.append(name)
        step(f"MedSeg slice {case_id}")
    if not ids:
        summary.skipped.append(f"{medseg_dir} not found")

    for patient in patients:
        with session_scope(url) as db:
            project = db.get_one(Project, project_id)
            outcomes = ingest.import_paths(db, store, settings, project, None, [patient])
            for k, o in enumerate(outcomes, 1):
                name = (f"NY-SBU {patient.name} ({k}/{len(outcomes)}): COVID-19 CT slice "
                        "(no labels)")
                record(o, name)
                if o.status == "imported" and o.study_id:
                    _label_study(db, o.study_id, name, "TCIA COVID-19-NY-SBU single axial "
                                 "slice (CC BY 4.0): no labels")
        step(f"NY-SBU {patient.name}")
    if not patients:
        summary.skipped.append(f"{sbu_dir} not found")

    from lunglab.services.radiographs.demo import FOLDER, import_demo_radiographs

    with session_scope(url) as db:  # the 12 Actualmed chest X-rays next to the CT
        project = db.get_one(Project, project_id)
        radiographs = import_demo_radiographs(db, store, settings, project, shared_data)
        for name, o in radiographs:
            record(o, name)
    if not radiographs:
        summary.skipped.append(f"{shared_data / FOLDER} not found")
    step("chest X-rays")
    return summary
