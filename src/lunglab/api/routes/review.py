"""Review: the review screen's data, comments, return, approve, edited copies, consensus, and
the study's provenance history."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.presenters import assignment_out, review_out, version_public
from lunglab.api.routes.versions import MAX_LABELMAP_BYTES
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.resources import VersionPublic
from lunglab.api.schemas.collab import (
    ApproveIn,
    AssignmentOut,
    CommentIn,
    CommentOut,
    ConsensusIn,
    ConsensusOut,
    DecisionOut,
    HistoryOut,
    ReturnIn,
    ReviewOut,
    SubmitIn,
)
from lunglab.services.collab import consensus
from lunglab.services.labels import formats as label_formats
from lunglab.services.collab import provenance
from lunglab.services.collab import review
from lunglab.services.errors import InvalidInput

router = APIRouter(tags=["review"])


@router.get("/studies/{study_id}/review", response_model=ReviewOut)
def get_review(study_id: IdParam, db: SessionDep, user: CurrentUser) -> ReviewOut:
    return review_out(db, review.overview(db, user, study_id))


@router.post("/studies/{study_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(study_id: IdParam, body: CommentIn, db: SessionDep,
                user: CurrentUser) -> CommentOut:
    c = review.add_comment(db, user, study_id, body.text, assignment_id=body.assignment_id,
                           version_id=body.version_id, slice_index=body.slice_index,
                           position=body.position)
    return CommentOut(**review.comment_facts(c))


@router.post("/assignments/{assignment_id}/return", response_model=AssignmentOut)
def return_assignment(assignment_id: IdParam, body: ReturnIn, db: SessionDep,
                      user: CurrentUser) -> AssignmentOut:
    a = review.return_to_reader(db, user, assignment_id, body.comment,
                                [x.model_dump() for x in body.anchors])
    return assignment_out(db, a)


@router.post("/studies/{study_id}/submit", response_model=AssignmentOut)
def submit_own_reading(study_id: IdParam, body: SubmitIn, db: SessionDep,
                       user: CurrentUser) -> AssignmentOut:
    """A project admin or reviewer submits their own reading (one person does it all)."""
    a = review.submit_own_reading(db, user, study_id, body.version_id)
    return assignment_out(db, a)


@router.post("/studies/{study_id}/approve", response_model=DecisionOut)
def approve(study_id: IdParam, body: ApproveIn, db: SessionDep, user: CurrentUser) -> DecisionOut:
    return DecisionOut(**review.decision_facts(
        review.approve(db, user, study_id, body.version_id, body.comment)))


@router.post("/studies/{study_id}/review-copies", response_model=VersionPublic, status_code=201)
def save_review_copy(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                           file: UploadFile, base_version_id: Annotated[IdParam, Form()],
                           message: str = Form("", max_length=2000),
                           format: str = Form("nifti", max_length=8),
                           approve: bool = Form(False)) -> VersionPublic:
    study = review.review_study(db, user, study_id)
    if format not in ("nifti", "raw"):
        raise InvalidInput("format must be 'nifti' or 'raw'")
    data = file.file.read(MAX_LABELMAP_BYTES + 1)
    if len(data) > MAX_LABELMAP_BYTES:
        raise InvalidInput("label map file too large")
    labels = label_formats.parse_upload(data, file.filename or "labels", format, study)
    v = review.save_review_copy(db, store, user, study_id, labels, base_version_id, message,
                                approve_it=approve)
    return version_public(v, study)


@router.post("/studies/{study_id}/consensus", response_model=ConsensusOut, status_code=201)
def build_consensus(study_id: IdParam, body: ConsensusIn, db: SessionDep, user: CurrentUser,
                    store: StoreDep) -> ConsensusOut:
    res = consensus.build(db, store, user, study_id, body.method, body.version_ids, body.message)
    study = review.review_study(db, user, study_id)
    return ConsensusOut(version=version_public(res["version"], study), method=res["method"],
                        inputs=res["inputs"], staple=res["staple"])


@router.get("/studies/{study_id}/history", response_model=HistoryOut)
def history(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
            effort: bool = True) -> HistoryOut:
    return HistoryOut(**provenance.history(db, store, user, study_id, effort=effort))
