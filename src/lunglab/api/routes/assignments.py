"""Assignments: the admin's board (by hand, bulk, automatic), the reader's worklist, start,
active-time heartbeats and submission."""
from __future__ import annotations

from fastapi import APIRouter, Response

from lunglab.api.deps import CurrentUser, RunnerDep, SessionDep
from lunglab.api.presenters import assignment_detail, assignment_out, assignments_out
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.collab import (
    AssignmentDetailOut,
    AssignmentOut,
    AutoAssignIn,
    AutoAssignOut,
    BulkAssignIn,
    HeartbeatIn,
    HeartbeatOut,
    SubmitIn,
)
from lunglab.services.collab import assignments as svc
from lunglab.services import jobs
from lunglab.services.collab import review

router = APIRouter(tags=["assignments"])


@router.get("/projects/{project_id}/assignments", response_model=Page[AssignmentOut])
def list_assignments(project_id: IdParam, db: SessionDep, user: CurrentUser,
                     state: str | None = None, username: str | None = None,
                     study_id: IdParam | None = None) -> Page[AssignmentOut]:
    rows = svc.list_assignments(db, user, project_id, state=state, username=username,
                                study_id=study_id)
    return Page[AssignmentOut](data=assignments_out(db, rows), count=len(rows))


@router.post("/projects/{project_id}/assignments/bulk", response_model=Page[AssignmentOut],
             status_code=201)
def assign_bulk(project_id: IdParam, body: BulkAssignIn, db: SessionDep,
                user: CurrentUser) -> Page[AssignmentOut]:
    rows = svc.assign_many(db, user, project_id, body.study_ids, body.usernames)
    return Page[AssignmentOut](data=assignments_out(db, rows), count=len(rows))


@router.post("/projects/{project_id}/assignments/auto", response_model=AutoAssignOut,
             status_code=201)
def assign_auto(project_id: IdParam, body: AutoAssignIn, db: SessionDep,
                user: CurrentUser) -> AutoAssignOut:
    res = svc.auto_assign(db, user, project_id, body.readers_per_study,
                          usernames=body.usernames, study_ids=body.study_ids, quota=body.quota)
    return AutoAssignOut(created=assignments_out(db, res["created"]),
                         unfilled=res["unfilled"])


@router.get("/me/assignments", response_model=Page[AssignmentOut])
def my_assignments(db: SessionDep, user: CurrentUser,
                   state: str | None = None) -> Page[AssignmentOut]:
    rows = svc.my_assignments(db, user, state)
    return Page[AssignmentOut](data=assignments_out(db, rows), count=len(rows))


@router.get("/assignments/{assignment_id}", response_model=AssignmentDetailOut)
def get_assignment(assignment_id: IdParam, db: SessionDep,
                   user: CurrentUser) -> AssignmentDetailOut:
    a, _ = svc.get_assignment(db, user, assignment_id)
    return assignment_detail(db, a)


@router.delete("/assignments/{assignment_id}", status_code=204)
def delete_assignment(assignment_id: IdParam, db: SessionDep, user: CurrentUser) -> Response:
    svc.unassign(db, user, assignment_id)
    return Response(status_code=204)


@router.post("/assignments/{assignment_id}/start", response_model=AssignmentOut)
def start(assignment_id: IdParam, db: SessionDep, user: CurrentUser) -> AssignmentOut:
    return assignment_out(db, svc.start(db, user, assignment_id))


@router.post("/assignments/{assignment_id}/heartbeat", response_model=HeartbeatOut)
def heartbeat(assignment_id: IdParam, body: HeartbeatIn, db: SessionDep,
              user: CurrentUser) -> HeartbeatOut:
    total = svc.heartbeat(db, user, assignment_id, body.seconds)
    return HeartbeatOut(assignment_id=assignment_id, active_seconds=total)


@router.post("/assignments/{assignment_id}/submit", response_model=AssignmentOut)
def submit(assignment_id: IdParam, body: SubmitIn, db: SessionDep, user: CurrentUser,
           runner: RunnerDep) -> AssignmentOut:
    a = svc.submit(db, user, assignment_id, body.version_id)
    out = assignment_out(db, a)
    if len(review.submitted(db, a.study_id)) >= 2:  # compute it before a reviewer asks
        job = jobs.submit(db, None, "agreement", study_id=a.study_id,
                          params={"study_id": a.study_id})
        runner.submit(job.id, job.kind)
    return out
