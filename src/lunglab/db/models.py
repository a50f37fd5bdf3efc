"""SQLAlchemy 2.0 tables. Schema changes go through Alembic (``db/migrations``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lunglab.db.base import Base, utcnow

TS = DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class AuthSession(Base):
    """A browser log-in. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TS)


class ApiToken(Base):
    """A bearer token for scripts. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class LoginFailure(Base):
    """One failed log-in, for rate limiting. The client address is hashed."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    label_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pseudonym_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | annotator | reviewer
    user: Mapped[User] = relationship(lazy="joined")


class Study(Base):
    """One de-identified CT series (LungLab's unit of annotation)."""

    __tablename__ = "studies"
    __table_args__ = (UniqueConstraint("project_id", "series_uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    study_uid: Mapped[str] = mapped_column(String(64), index=True)  # pseudonym
    series_uid: Mapped[str] = mapped_column(String(64))  # pseudonym
    patient_key: Mapped[str] = mapped_column(String(64), index=True)  # pseudonym
    source_kind: Mapped[str] = mapped_column(String(16))  # dicom | nifti | dataset
    shape: Mapped[list[int]] = mapped_column(JSON)  # z, y, x
    spacing: Mapped[list[float]] = mapped_column(JSON)  # x, y, z
    origin: Mapped[list[float]] = mapped_column(JSON)
    direction: Mapped[list[float]] = mapped_column(JSON)
    slice_count: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str | None] = mapped_column(String(16), nullable=True)
    manufacturer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kernel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kvp: Mapped[float | None] = mapped_column(Float, nullable=True)
    series_description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    volume_key: Mapped[str] = mapped_column(String(200))
    volume_checksum: Mapped[str] = mapped_column(String(64))
    volume_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    ai_status: Mapped[str] = mapped_column(String(16), default="none")
    ai_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow, onupdate=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every save


class Assignment(Base):
    """A study given to a reader. States: assigned, in_progress, submitted, returned, approved."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="assigned")
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class LabelMapVersion(Base):
    """An immutable label map. Saving never overwrites: it adds a version naming its parent."""

    __tablename__ = "labelmap_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ai | human | consensus | imported
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    model_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("labelmap_versions.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    checksum: Mapped[str] = mapped_column(String(64))
    # where the version's NIfTI is (or will be, for slice-stored versions: written on first use)
    file_key: Mapped[str] = mapped_column(String(200))
    # {"shape": [z, y, x], "slices": [digest per z], "counts": [[n1, n2, n3] per z]}
    # (services/labelslices); None for versions stored as one NIfTI file (saved before
    # slice storage existed)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    voxel_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[User | None] = relationship(lazy="joined")


class LabelMapSlice(Base):
    """One axial slice of label map voxels (gzip), named by the SHA-256 of its raw bytes.

    Versions list their slices by digest (``LabelMapVersion.manifest``); a slice is stored once
    per study however many versions share it. Rows are only ever added, in the transaction of
    the version that first needs them.
    """

    __tablename__ = "labelmap_slices"
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"),
                                          primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Job(Base):
    """A background job. State lives here so jobs survive restarts."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    runner: Mapped[str] = mapped_column(String(16), default="local")
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True
    )
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), nullable=True, index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    requested_by: Mapped[User | None] = relationship(lazy="joined")


class AuditEvent(Base):
    """Append-only: the database refuses UPDATE and DELETE (triggers in the migration)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
