"""Chest radiographs: a reader's findings and scores, agreement across readers, exports.

The image, its label-map versions, assignments and review use the study endpoints unchanged
(a radiograph is a one-slice study); see docs/radiographs.md.
"""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from lunglab.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from lunglab.api.schemas.radiographs import (
    FindingsIn,
    RadiographAgreementOut,
    RadiographOut,
    ReadingOut,
)
from lunglab.domain.radiograph import RadiographFindings
from lunglab.services.ingest.importer import work_dir
from lunglab.services.radiographs import agreement, export, readings

router = APIRouter(tags=["radiographs"])


@router.get("/studies/{study_id}/radiograph", response_model=RadiographOut)
def radiograph(study_id: int, db: SessionDep, user: CurrentUser) -> RadiographOut:
    """The default window, suspected burned-in text, the caller's reading and the readings
    the caller may see (all for reviewers and admins)."""
    return RadiographOut(**readings.radiograph_view(db, user, study_id))


@router.put("/studies/{study_id}/radiograph/reading", response_model=ReadingOut)
def save_reading(study_id: int, body: FindingsIn, db: SessionDep,
                 user: CurrentUser) -> ReadingOut:
    """Create or replace the caller's findings (409 once the reading is submitted)."""
    findings = RadiographFindings(
        body.category, tuple(body.brixia) if body.brixia is not None else None,
        tuple(body.rale) if body.rale is not None else None, body.note)
    return ReadingOut(**readings.reading_dict(readings.save_reading(db, user, study_id,
                                                                    findings)))


@router.get("/projects/{project_id}/radiograph-agreement",
            response_model=RadiographAgreementOut)
def project_agreement(project_id: int, db: SessionDep,
                      user: CurrentUser) -> RadiographAgreementOut:
    """Kappa (RSNA category) and ICC (Brixia, RALE) across readers; reviewers and admins."""
    return RadiographAgreementOut(**agreement.project_agreement(db, user, project_id))


@router.get("/projects/{project_id}/exports/radiograph-findings.csv", response_class=Response)
def findings_csv(project_id: int, db: SessionDep, user: CurrentUser) -> Response:
    return Response(export.findings_csv(db, user, project_id), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="project{project_id}-radiograph-findings.csv"',
                             "Cache-Control": "private, no-store"})


@router.get("/exports/versions/{version_id}/mask.png", response_class=Response)
def mask_png(version_id: int, db: SessionDep, user: CurrentUser, store: StoreDep) -> Response:
    """A radiograph's label map as a PNG whose pixel values are the labels 0-3."""
    data, name = export.mask_png(db, store, user, version_id)
    return Response(data, media_type="image/png", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store"})


@router.get("/exports/versions/{version_id}/radiograph-seg.dcm", response_class=FileResponse)
def radiograph_seg(version_id: int, db: SessionDep, user: CurrentUser, store: StoreDep,
                   settings: SettingsDep) -> FileResponse:
    """DICOM SEG over the de-identified CR/DX image (radiographs imported as DICOM)."""
    path, name = export.seg_file(db, store, user, version_id, work_dir(settings))
    return FileResponse(path, media_type="application/dicom", filename=name,
                        headers={"Cache-Control": "private, no-store"},
                        background=BackgroundTask(export.discard, path))
