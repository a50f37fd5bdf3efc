"""The demo radiographs: ``../shared/data/cxr-actualmed`` (12 real chest X-rays, PNG, research
use only) imported into a project next to its CT, through the ordinary ingest path.

Each study is named "Actualmed chest X-ray N (view)"; the source's finding ("COVID-19" or
"No finding") goes into the study description as the source's label, not as a reading. File
names (they carry the source's CR UIDs) are never stored. Idempotent: a second run reports
every image as already there.

Example:
    >>> with session_scope(url) as db:  # doctest: +SKIP
    ...     import_demo_radiographs(db, store, settings, project, Path("../shared/data"))
"""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.models import Project, Study
from lunglab.io.store import VolumeStore
from lunglab.services.ingest.importer import ImportOutcome, import_files

FOLDER = "cxr-actualmed"
SOURCE = "Actualmed COVID-19 chest X-ray dataset (research use only)"


def _metadata(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / "metadata.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {row.get("imagename", ""): row for row in csv.DictReader(fh)}


def import_demo_radiographs(db: Session, store: VolumeStore, settings: Settings,
                            project: Project, shared_data: Path) -> list[tuple[str, ImportOutcome]]:
    """Import the Actualmed radiographs found under ``shared_data`` into ``project``.

    Args:
        shared_data: ``../shared/data`` (the folder holding ``cxr-actualmed``).

    Returns:
        ``(display name, outcome)`` per image, in file-name order; empty when the folder is
        missing.
    """
    folder = shared_data / FOLDER
    images = sorted((folder / "images").glob("*.png")) if (folder / "images").is_dir() else []
    meta = _metadata(folder)
    out: list[tuple[str, ImportOutcome]] = []
    for k, path in enumerate(images, 1):
        row = meta.get(path.name, {})
        view = row.get("view", "").strip().upper()
        name = f"Actualmed chest X-ray {k}" + (f" ({view})" if view in ("AP", "PA") else "")
        (outcome,) = import_files(db, store, settings, project, None, [(f"image{k}.png", path)])
        if outcome.status == "imported" and outcome.study_id:
            study = db.get(Study, outcome.study_id)
            if study is not None:
                finding = row.get("finding", "").strip() or "unknown"
                study.name = name
                study.series_description = f"{SOURCE}; source label: {finding}"[:200]
                db.commit()
        out.append((name, outcome))
    return out
