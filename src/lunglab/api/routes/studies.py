"""Studies: list, metadata, the CT volume for the viewer."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.responses import LargeFileResponse
from lunglab.api.schemas.fields import IdParam, Offset
from lunglab.api.presenters import study_public
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import StudyPublic
from lunglab.services.access import audit
from lunglab.services.access import projects
from lunglab.services.access import studies

router = APIRouter(tags=["studies"])


@router.get("/projects/{project_id}/studies", response_model=Page[StudyPublic])
def list_studies(project_id: IdParam, db: SessionDep, user: CurrentUser,
                 offset: Offset = 0, limit: int = Query(50, ge=1, le=500),
                 q: str | None = Query(None, max_length=100),
                 ai_status: str | None = Query(None, max_length=16)) -> Page[StudyPublic]:
    rows, count = studies.list_studies(db, user, project_id, offset=offset, limit=limit, q=q,
                                       ai_status=ai_status)
    blind = user.id if projects.role_in(db, user, project_id) == "annotator" else None
    stats = studies.version_stats(db, list(rows), reader_id=blind)
    return Page[StudyPublic](data=[study_public(s, stats.get(s.id)) for s in rows], count=count)


@router.get("/studies/{study_id}", response_model=StudyPublic)
def get_study(study_id: IdParam, db: SessionDep, user: CurrentUser) -> StudyPublic:
    s, role = projects.get_study(db, user, study_id)
    blind = user.id if role == "annotator" else None
    return study_public(s, studies.version_stats(db, [s], reader_id=blind).get(s.id))


@router.get("/studies/{study_id}/volume.nii.gz", response_class=FileResponse)
def get_volume(study_id: IdParam, db: SessionDep, user: CurrentUser,
               store: StoreDep) -> FileResponse:
    s, _ = projects.get_study(db, user, study_id)
    audit.record(db, user, "study.view", "study", s.id)
    return LargeFileResponse(store.local_path(s.volume_key), media_type="application/gzip",
                             filename=f"study-{s.id}.nii.gz",
                             headers={"Cache-Control": "private, max-age=3600",
                                      "X-Content-SHA256": s.volume_checksum})
