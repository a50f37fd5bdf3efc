"""Import a catalog dataset (downloaded, or a local copy) with its masks as ``imported``
label-map versions."""
from __future__ import annotations

import hashlib
import hmac
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lunglab.core.settings import Settings, get_settings
from lunglab.db.session import session_scope
from lunglab.io.archive import expand_zip, safe_relative_name
from lunglab.io.catalog.entries import CatalogEntry, get_entry
from lunglab.io.catalog.local import read_local
from lunglab.io.deid.pseudonyms import pseudo_uid
from lunglab.io.results import ParsedSeries
from lunglab.io.store import store_for
from lunglab.services.ingest import importer as ingest
from lunglab.services.labels.labelmaps import save_version
from lunglab.services.access.projects import get_or_create_project


@dataclass
class DatasetImportSummary:
    dataset: str
    imported: int = 0
    duplicates: int = 0
    label_maps: int = 0
    studies: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.dataset}: {self.imported} studies imported, {self.duplicates} already "
                f"there, {self.label_maps} masks stored as 'imported' label maps")


def _extract_archives(folder: Path, settings: Settings) -> None:
    """Unpack downloaded zips next to them, with the same zip-slip and bomb guards as uploads."""
    limits = ingest.upload_limits(settings)
    for archive in sorted(folder.glob("*.zip")):
        done = folder / f".{archive.name}.extracted"
        if done.exists():
            continue
        with tempfile.TemporaryDirectory(dir=ingest.work_dir(settings)) as scratch:
            for entry_name, path in expand_zip(archive, archive.stem, Path(scratch), limits):
                target = folder / safe_relative_name(entry_name)  # "<archive stem>/<entry>"
                target.parent.mkdir(parents=True, exist_ok=True)
                path.replace(target)
        done.touch()


def _has_imported_mask(url: str, study_id: int) -> bool:
    from sqlalchemy import select

    from lunglab.db.models import LabelMapVersion

    with session_scope(url) as db:
        return db.scalar(select(LabelMapVersion.id).where(
            LabelMapVersion.study_id == study_id, LabelMapVersion.kind == "imported")
            .limit(1)) is not None


def import_dataset(name_or_entry: str | CatalogEntry, project_name: str, *,
                   from_path: Path | None = None, settings: Settings | None = None,
                   allow_unverified: bool = False, client: Any = None,
                   console: Any = None) -> DatasetImportSummary:
    """Download (or read from ``from_path``) a catalog dataset and import it into a project.

    Args:
        name_or_entry: a catalog name (``lunglab datasets list``) or an entry object.
        from_path: a local copy (a folder, or a folder of the downloaded zips).
        allow_unverified: accept files whose sha256 the catalog does not know.
        client: an ``httpx.Client`` for the download (tests use a local server).

    Raises:
        InvalidInput / NotFound: unknown dataset, failed or mismatching download, bad layout.
    """
    from lunglab.io.catalog.download import download

    settings = settings or get_settings()
    entry = get_entry(name_or_entry) if isinstance(name_or_entry, str) else name_or_entry
    if from_path is None:
        folder = settings.data_dir / "datasets" / entry.name
        download(entry, folder, progress=True, allow_unverified=allow_unverified, client=client)
    else:
        folder = Path(from_path)
    _extract_archives(folder, settings)
    store = store_for(settings)
    url = settings.resolved_database_url
    summary = DatasetImportSummary(entry.name)
    with session_scope(url) as db:
        project = get_or_create_project(db, project_name, None)
        project_id, secret = project.id, project.pseudonym_secret.encode()
    for case in read_local(entry.name, folder):
        key = f"dataset:{entry.name}:{case.name}"
        series = ParsedSeries(
            volume=case.volume, study_uid_pseudo=pseudo_uid(key + ":study", secret),
            series_uid_pseudo=pseudo_uid(key, secret),
            patient_key=hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32],
            name=f"{entry.name} {case.name}"[:200], source_names=[], meta={"Modality": "CT",
                                                                           "Dataset": entry.name},
            slice_count=case.volume.shape[0], kind="nifti")
        with session_scope(url) as db:
            from lunglab.db.models import Project

            project = db.get_one(Project, project_id)
            outcome = ingest.register_series(db, store, project, None, series)
        if outcome.status == "duplicate":
            summary.duplicates += 1
            # the study and its mask are two commits: a run killed between them left the
            # study without its mask, which this run adds
            if outcome.study_id is None or case.labelmap is None or _has_imported_mask(
                    url, outcome.study_id):
                continue
        else:
            summary.imported += 1
            summary.studies.append(int(outcome.study_id or 0))
        if case.labelmap is not None:
            with session_scope(url) as db:
                save_version(db, store, None, int(outcome.study_id or 0), case.labelmap,
                             base_version_id=None, kind="imported", check_base=False,
                             message=f"mask from {entry.title}",
                             details={"dataset": entry.name, "case": case.name,
                                      "license": entry.license})
            summary.label_maps += 1
        if console is not None:
            console.print(f"  {case.name}: study {outcome.study_id}")
    return summary
