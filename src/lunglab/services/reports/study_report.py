"""Study reports: figures, key images, 3-D snapshot and zone bars, as HTML or PDF.

Viewing the HTML report needs the right to see the study; downloading a report (HTML or PDF)
is an export: project admins only, and audited.
"""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__
from lunglab.db.models import User
from lunglab.imaging.quantify import DEFINITIONS, FIGURE_ROWS, SCORE_BANDS
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.imaging import report_figures
from lunglab.services.errors import InvalidInput
from lunglab.services.access.projects import require_role
from lunglab.services.reports.quantify import (
    compare_studies,
    figures_for,
    labels_and_ct,
    provenance,
    resolve_version,
)



@lru_cache(maxsize=1)
def _templates() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("lunglab.services.reports", "templates"),
                       autoescape=select_autoescape(["html"]))


def build_report(db: Session, store: VolumeStore, user: User, study_id: int,
                 version_id: int | None = None, baseline_study_id: int | None = None
                 ) -> dict[str, Any]:
    """Everything a report shows, as plain data (PNG pictures as bytes).

    Args:
        version_id: the label map (default: the newest the user can see).
        baseline_study_id: an earlier study of the same patient to show the change from.

    Raises:
        NotFound: study or version unknown or not visible. InvalidInput: bad baseline.
    """
    study, version, _ = resolve_version(db, user, study_id, version_id)
    figures = figures_for(store, study, version)
    labels, ct = labels_and_ct(store, study, version)
    slices = report_figures.key_slices(labels)
    images = {
        "key": report_figures.key_images(labels, ct.array, slices, study.spacing,
                                         study.direction),
        "snapshot": report_figures.snapshot_3d(labels, study.spacing, study.direction),
        "zones": report_figures.zone_bars(figures["zones"]),
    }
    change = None
    if baseline_study_id is not None:
        change = compare_studies(db, store, user, study_id, baseline_study_id,
                                 version_id=version.id)
    return {
        "study": {"id": study.id, "name": study.name, "patient_key": study.patient_key,
                  "project_id": study.project_id, "shape": list(study.shape),
                  "spacing": list(study.spacing)},
        "version": provenance(version),
        "figures": figures,
        "key_slices": slices,
        "images": images,
        "change": change,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "notice": RESEARCH_USE_NOTICE,
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (pictures inlined as data URIs)."""
    images = {k: base64.b64encode(v).decode() for k, v in report["images"].items()}
    return _templates().get_template("report.html").render(
        study=report["study"], version=report["version"], f=report["figures"],
        images=images, change=report["change"], rows=FIGURE_ROWS, defs=DEFINITIONS,
        bands=SCORE_BANDS, notice=report["notice"], generated_at=report["generated_at"],
        lunglab_version=__version__)


def view_report_html(db: Session, store: VolumeStore, user: User, study_id: int,
                     version_id: int | None = None, baseline_study_id: int | None = None
                     ) -> str:
    """The HTML report to show in the browser (any reader who may see the study)."""
    report = build_report(db, store, user, study_id, version_id, baseline_study_id)
    audit.record(db, user, "report.view", "study", study_id,
                 version=report["version"]["version_id"])
    return render_html(report)


def export_report(db: Session, store: VolumeStore, user: User, study_id: int, fmt: str,
                  version_id: int | None = None, baseline_study_id: int | None = None
                  ) -> tuple[bytes, str, str]:
    """A report file to download: ``(content, file name, media type)``; project admins only.

    Raises:
        Forbidden: not a project admin. InvalidInput: unknown format.
    """
    if fmt not in ("html", "pdf"):
        raise InvalidInput("format must be html or pdf")
    study, _, _ = resolve_version(db, user, study_id, version_id)
    require_role(db, user, study.project_id, "admin")
    report = build_report(db, store, user, study_id, version_id, baseline_study_id)
    vid = report["version"]["version_id"]
    if fmt == "html":
        data, media = render_html(report).encode(), "text/html; charset=utf-8"
    else:
        from lunglab.services.reports.pdf import render_pdf

        data, media = render_pdf(report), "application/pdf"
    audit.record(db, user, "export.report", "study", study_id, version=vid, format=fmt,
                 bytes=len(data))
    return data, f"lunglab-report-study{study_id}-v{vid}.{fmt}", media
