"""Pydantic request and response schemas. ORM objects never leave the services unconverted."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from lunglab.api.schemas.fields import Count, DbId, UtcDateTime


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    is_admin: bool



class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64,
                          description="letters, digits, '.', '-' or '_'")
    password: str = Field(min_length=10, max_length=256,
                          description="at least 10 characters, at least 4 different ones, "
                                      "not only digits")
    is_admin: bool = False


class TokenCreate(BaseModel):
    name: str = Field(default="script", max_length=100)


class TokenOut(BaseModel):
    token: str


class LabelSpecOut(BaseModel):
    value: int
    name: str
    color: str


class ProjectCreate(BaseModel):
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=5000)
    settings: dict[str, Any] = Field(default_factory=dict)


class ProjectUpdate(BaseModel):
    settings: dict[str, Any] = Field(default_factory=dict)


class ProjectPublic(BaseModel):
    id: int
    name: str
    description: str
    label_schema: list[LabelSpecOut]
    settings: dict[str, Any]
    my_role: str
    created_at: UtcDateTime



class MemberIn(BaseModel):
    username: str = Field(max_length=64)
    role: Literal["admin", "annotator", "reviewer"]


class MemberPublic(BaseModel):
    user_id: int
    username: str
    role: str



class AssignmentIn(BaseModel):
    study_id: DbId
    username: str = Field(max_length=64)


class AssignmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    study_id: int
    user_id: int
    state: str


class StudyPublic(BaseModel):
    id: int
    project_id: int
    name: str
    shape: list[int]
    spacing: list[float]
    origin: list[float]
    direction: list[float]
    slice_count: int
    modality: str | None
    manufacturer: str | None
    kernel: str | None
    kvp: float | None
    series_description: str | None
    patient_key: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    ai_status: str
    ai_summary: dict[str, Any] | None
    latest_version_id: int | None
    version_count: int
    warnings: list[str]



class ImportResult(BaseModel):
    name: str
    status: str
    study_id: int | None = None
    reason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    slice_count: int = 0


class ImportResults(BaseModel):
    results: list[ImportResult]


class UploadFileIn(BaseModel):
    name: str = Field(max_length=1024)
    size: Count


class UploadCreate(BaseModel):
    files: list[UploadFileIn] = Field(max_length=50_000)


class UploadFileStatus(BaseModel):
    index: int
    name: str
    size: int
    received: int


class UploadStatus(BaseModel):
    upload_id: str
    files: list[UploadFileStatus]


class ReceivedOut(BaseModel):
    received: int


class VersionPublic(BaseModel):
    id: int
    study_id: int
    kind: str
    author: str | None
    model_name: str | None
    parent_id: int | None
    created_at: UtcDateTime
    checksum: str
    voxel_counts: dict[str, int]
    volumes_ml: dict[str, float]
    message: str



class JobCreate(BaseModel):
    kind: str = Field(max_length=32)
    study_id: DbId | None = None
    project_id: DbId | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class JobPublic(BaseModel):
    id: int
    kind: str
    state: str
    progress: float
    message: str
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    requested_by: str | None
    study_id: int | None
    project_id: int | None
    runner: str
    worker: str | None
    result: dict[str, Any] | None



class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    actor: str | None
    action: str
    object_type: str | None
    object_id: str | None
    at: UtcDateTime
    details: dict[str, Any]

