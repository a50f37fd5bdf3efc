"""Quantification, change over time, study reports and project summaries."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.responses import CSVResponse
from lunglab.api.schemas.fields import IdParam
from lunglab.services.reports import quantify
from lunglab.services.reports import study_report as report
from lunglab.services.reports import summary

router = APIRouter(tags=["reports"])
REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
              "base-uri 'none'; frame-ancestors 'self'")


@router.get("/studies/{study_id}/quantification")
def get_quantification(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                       version_id: IdParam | None = Query(None)) -> dict[str, Any]:
    """Figures of the study's label map (default: the newest version the user sees)."""
    return quantify.quantify_version(db, store, user, study_id, version_id)


@router.get("/studies/{study_id}/change")
def get_change(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
               baseline: Annotated[IdParam, Query(
                   description="the earlier study of the same patient")],
               version_id: IdParam | None = Query(None),
               baseline_version_id: IdParam | None = Query(None)) -> dict[str, Any]:
    """Change in involvement from ``baseline`` to this study (same pseudonymous patient)."""
    return quantify.compare_studies(db, store, user, study_id, baseline,
                                    version_id=version_id,
                                    baseline_version_id=baseline_version_id)


@router.get("/studies/{study_id}/report.html", response_class=HTMLResponse)
def get_report_html(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                    version_id: IdParam | None = Query(None),
                    baseline: IdParam | None = Query(None),
                    download: bool = Query(False)) -> Response:
    """The report page (download=true: as a file, project admins only)."""
    if download:
        data, name, media = report.export_report(db, store, user, study_id, "html",
                                                 version_id, baseline)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
    html = report.view_report_html(db, store, user, study_id, version_id, baseline)
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP,
                                       "Cache-Control": "private, no-store"})


@router.get("/studies/{study_id}/report.pdf")
def get_report_pdf(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                   version_id: IdParam | None = Query(None),
                   baseline: IdParam | None = Query(None)) -> Response:
    """The report as PDF (project admins only; audited)."""
    data, name, media = report.export_report(db, store, user, study_id, "pdf", version_id,
                                             baseline)
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/projects/{project_id}/summary.csv", response_class=CSVResponse)
def get_summary_csv(project_id: IdParam, db: SessionDep, user: CurrentUser,
                    store: StoreDep) -> Response:
    """One row of figures per study (project admins only; audited)."""
    text = summary.summary_csv(db, store, user, project_id)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="lunglab-project{project_id}-summary.csv"'})


@router.get("/projects/{project_id}/summary.html", response_class=HTMLResponse)
def get_summary_html(project_id: IdParam, db: SessionDep, user: CurrentUser,
                     store: StoreDep) -> HTMLResponse:
    """Summary charts and table (project admins only; audited)."""
    return HTMLResponse(summary.summary_html(db, store, user, project_id),
                        headers={"Content-Security-Policy": REPORT_CSP})
