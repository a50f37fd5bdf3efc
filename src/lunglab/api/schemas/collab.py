"""Request and response schemas of the collaboration endpoints (assignment, review, agreement)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lunglab.api.schemas.resources import VersionPublic
from lunglab.api.schemas.fields import Count, DbId, UtcDateTime


class AssignmentOut(BaseModel):
    id: int
    study_id: int
    project_id: int | None
    study_name: str
    user_id: int
    username: str | None
    state: str
    created_at: UtcDateTime | None
    start_from: str | None
    start_version_id: int | None
    submitted_version_id: int | None
    active_seconds: float
    started_at: UtcDateTime | None
    submitted_at: UtcDateTime | None
    decided_at: UtcDateTime | None



class CommentOut(BaseModel):
    id: int
    study_id: int
    assignment_id: int | None
    version_id: int | None
    author: str | None
    text: str
    slice_index: int | None
    position: list[float] | None
    created_at: UtcDateTime | None


class DecisionOut(BaseModel):
    id: int
    study_id: int
    assignment_id: int | None
    version_id: int | None
    decision: str
    comment: str
    reviewer: str | None
    created_at: UtcDateTime | None
    same_person: bool = Field(False, description="an approval by the reader of the approved "
                              "version (one person read and reviewed)")


class AssignmentDetailOut(AssignmentOut):
    comments: list[CommentOut]
    decisions: list[DecisionOut]


class BulkAssignIn(BaseModel):
    study_ids: list[DbId] = Field(min_length=1, max_length=10_000)
    usernames: list[str] = Field(min_length=1, max_length=100)


class AutoAssignIn(BaseModel):
    readers_per_study: int = Field(ge=1, le=5, strict=True)
    usernames: list[str] | None = Field(default=None, max_length=1000)
    study_ids: list[DbId] | None = Field(default=None, max_length=100_000)
    quota: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)


class UnfilledOut(BaseModel):
    study_id: int
    missing: int


class AutoAssignOut(BaseModel):
    created: list[AssignmentOut]
    unfilled: list[UnfilledOut]


class HeartbeatIn(BaseModel):
    seconds: float = Field(ge=0, le=3600)


class HeartbeatOut(BaseModel):
    assignment_id: int
    active_seconds: float


class SubmitIn(BaseModel):
    version_id: DbId | None = None


class AnchorIn(BaseModel):
    text: str = Field(max_length=5000)
    slice_index: Count | None = None
    position: list[float] | None = Field(default=None, min_length=2, max_length=2)


class CommentIn(AnchorIn):
    assignment_id: DbId | None = None
    version_id: DbId | None = None


class ReturnIn(BaseModel):
    comment: str = Field(max_length=5000)
    anchors: list[AnchorIn] = Field(default_factory=list, max_length=200)


class ApproveIn(BaseModel):
    version_id: DbId
    comment: str = Field(default="", max_length=5000)


class ReviewReaderOut(BaseModel):
    assignment_id: int
    username: str | None
    state: str
    version: VersionPublic | None
    active_seconds: float
    submitted_at: UtcDateTime | None
    start_from: str | None


class ReviewOut(BaseModel):
    study_id: int
    study_name: str
    readers: list[ReviewReaderOut]
    other_versions: list[VersionPublic]
    comments: list[CommentOut]
    decisions: list[DecisionOut]
    final_version_id: int | None


class ConsensusIn(BaseModel):
    method: str = Field(default="staple", max_length=16)
    version_ids: list[DbId] | None = Field(default=None, max_length=20)
    message: str = Field(default="", max_length=2000)


class ConsensusOut(BaseModel):
    version: VersionPublic
    method: str
    inputs: list[dict[str, Any]]
    staple: dict[str, list[dict[str, float | None]]]


class AgreementOut(BaseModel):
    study_id: int
    at: str | None
    versions: list[dict[str, Any]]
    consensus: dict[str, Any]
    labels: list[dict[str, Any]]
    readers: list[dict[str, Any]]


class DashboardOut(BaseModel):
    project_id: int
    threshold: float
    studies: int
    points: list[dict[str, Any]]
    by_label: list[dict[str, Any]]
    by_reader: list[dict[str, Any]]
    flagged: list[dict[str, Any]]


class HistoryOut(BaseModel):
    study_id: int
    ai_version_id: int | None
    final_version_id: int | None
    versions: list[dict[str, Any]]
    readers: list[dict[str, Any]]
    decisions: list[DecisionOut]
