"""Start-up housekeeping: what a crash or a killed server can leave behind is removed.

- scratch folders of interrupted imports (``<data>/tmp``) and abandoned resumable uploads
  (``<data>/uploads``) older than a limit;
- store objects no row refers to (a save or import killed between the file write and the
  database commit), older than a limit so in-flight work of another process is never touched.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lunglab.core.settings import Settings
from lunglab.db.models import LabelMapVersion, Study
from lunglab.db.session import session_scope


@dataclass
class HousekeepingReport:
    scratch_removed: int = 0
    uploads_removed: int = 0
    orphans_removed: int = 0


def _old(path: Path, max_age_s: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > max_age_s
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def referenced_keys(settings: Settings) -> set[str]:
    """Every store key a study or label-map version refers to."""
    with session_scope(settings.resolved_database_url) as db:
        keys = set(db.scalars(select(Study.volume_key)))
        keys |= set(db.scalars(select(LabelMapVersion.file_key)))
    return keys


def clean(settings: Settings, *, scratch_age_s: float = 6 * 3600,
          upload_age_s: float = 7 * 86400, orphan_age_s: float = 3600,
          extra_keys: set[str] | None = None) -> HousekeepingReport:
    """Remove leftovers of interrupted work; return what was removed.

    Args:
        extra_keys: store keys owned by other tables (model files...) that must be kept.
    """
    report = HousekeepingReport()
    data = settings.data_dir
    for entry in (data / "tmp").glob("*") if (data / "tmp").exists() else []:
        if _old(entry, scratch_age_s):
            _remove(entry)
            report.scratch_removed += 1
    for entry in (data / "uploads").glob("*") if (data / "uploads").exists() else []:
        if _old(entry, upload_age_s):
            _remove(entry)
            report.uploads_removed += 1
    store = data / "store"
    if store.exists():
        keep = referenced_keys(settings) | (extra_keys or set())
        for area in ("studies", "labelmaps"):
            for path in (store / area).rglob("*") if (store / area).exists() else []:
                if path.is_file() and _old(path, orphan_age_s):
                    key = path.relative_to(store).as_posix()
                    if key not in keep:
                        path.unlink(missing_ok=True)
                        report.orphans_removed += 1
    return report
