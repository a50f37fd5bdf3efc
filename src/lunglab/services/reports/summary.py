"""Project summary: one row of figures per study (CSV) and charts (HTML page)."""
from __future__ import annotations

import base64
import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.core.about import RESEARCH_USE_NOTICE
from lunglab.db.models import Study, User
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.exchange.export import best_version
from lunglab.services.access.projects import require_role
from lunglab.services.reports.quantify import figures_for

COLUMNS = (
    "study_id", "name", "patient_key", "slices", "version_id", "kind", "made_by",
    "lung_ml", "right_lung_ml", "left_lung_ml", "ggo_ml", "consolidation_ml",
    "involvement_pct", "right_involvement_pct", "left_involvement_pct", "ggo_share_pct",
    "severity_score", "lesion_count",
    *(f"{s}_{z}_score" for s in ("right", "left") for z in ("upper", "middle", "lower")),
)


def summary_rows(db: Session, store: VolumeStore, user: User | None, project_id: int
                 ) -> list[dict[str, Any]]:
    """One row per study of the project (figures empty for studies without a label map).

    The label map of each study is chosen as for dataset exports (consensus, then human,
    imported, AI). Project admins only.
    """
    if user is not None:
        require_role(db, user, project_id, "admin")
    rows = []
    for study in db.scalars(select(Study).where(Study.project_id == project_id)
                            .order_by(Study.id)).all():
        row: dict[str, Any] = dict.fromkeys(COLUMNS, "")
        row.update(study_id=study.id, name=study.name, patient_key=study.patient_key,
                   slices=study.slice_count)
        version = best_version(db, study.id)
        if version is not None:
            f = figures_for(store, study, version)
            lungs = f["lungs"]
            row.update(
                version_id=version.id, kind=version.kind,
                made_by=version.model_name if version.kind == "ai" else
                (version.author.username if version.author else version.kind),
                lung_ml=lungs["total"]["lung_ml"], right_lung_ml=lungs["right"]["lung_ml"],
                left_lung_ml=lungs["left"]["lung_ml"], ggo_ml=lungs["total"]["ggo_ml"],
                consolidation_ml=lungs["total"]["consolidation_ml"],
                involvement_pct=lungs["total"]["involvement_pct"],
                right_involvement_pct=lungs["right"]["involvement_pct"],
                left_involvement_pct=lungs["left"]["involvement_pct"],
                ggo_share_pct=lungs["total"]["ggo_share_pct"],
                severity_score=f["severity_score"], lesion_count=f["lesions"]["count"],
                **{f"{z['side']}_{z['zone']}_score": z["score"] for z in f["zones"]})
        rows.append(row)
    return rows


def summary_csv(db: Session, store: VolumeStore, user: User | None, project_id: int) -> str:
    """The summary as CSV text (first line: a comment with the research-use notice)."""
    rows = summary_rows(db, store, user, project_id)
    buf = io.StringIO()
    buf.write(f"# {RESEARCH_USE_NOTICE}\n")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: _cell(v) for k, v in r.items()} for r in rows])
    audit.record(db, user, "export.summary_csv", "project", project_id, studies=len(rows))
    return buf.getvalue()


def summary_html(db: Session, store: VolumeStore, user: User | None, project_id: int) -> str:
    """A page with the summary charts and table."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from lunglab.imaging.report_figures import summary_charts

    rows = summary_rows(db, store, user, project_id)
    chart = base64.b64encode(summary_charts(rows)).decode()
    env = Environment(loader=PackageLoader("lunglab.services.reports", "templates"),
                      autoescape=select_autoescape(["html"]))
    audit.record(db, user, "export.summary_html", "project", project_id, studies=len(rows))
    return env.get_template("summary.html").render(
        rows=rows, columns=COLUMNS, chart=chart, notice=RESEARCH_USE_NOTICE,
        project_id=project_id)


def _cell(value: Any) -> Any:
    """Keep spreadsheets from running text as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
