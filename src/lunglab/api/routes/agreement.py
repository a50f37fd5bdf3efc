"""Agreement between readers: per study, the disagreement map, and the project dashboard."""
from __future__ import annotations

from fastapi import APIRouter, Query, Response

from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.collab import AgreementOut, DashboardOut
from lunglab.services.collab import agreement

router = APIRouter(tags=["agreement"])


@router.get("/studies/{study_id}/agreement", response_model=AgreementOut)
def study_agreement(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                    version_ids: list[IdParam] | None = Query(None, max_length=20)) -> AgreementOut:
    return AgreementOut(**agreement.study_agreement(db, store, user, study_id, version_ids))


@router.get("/studies/{study_id}/disagreement.nii.gz", response_class=Response)
def disagreement_map(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                     version_ids: list[IdParam] | None = Query(None, max_length=20)) -> Response:
    data, n, ids = agreement.disagreement(db, store, user, study_id, version_ids)
    return Response(data, media_type="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="disagreement-{study_id}.nii.gz"',
        "Cache-Control": "private, no-store", "X-Disagreement-Voxels": str(n),
        "X-Input-Versions": ",".join(str(i) for i in ids)})


@router.get("/projects/{project_id}/agreement", response_model=DashboardOut)
def dashboard(project_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
              threshold: float = Query(agreement.DEFAULT_THRESHOLD, ge=0, le=1)) -> DashboardOut:
    return DashboardOut(**agreement.dashboard(db, store, user, project_id, threshold))
