"""Collaboration tables: assignment progress, viewer activity, review comments and decisions,
cached agreement results. Created by migration ``0200_collab``; ``models.py`` is left as is."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lunglab.db.base import Base, utcnow
from lunglab.db.models import User

TS = DateTime(timezone=True)


class AssignmentProgress(Base):
    """One row per assignment: where the reader started, what they submitted, active time."""

    __tablename__ = "assignment_progress"
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    start_from: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ai | empty | other
    start_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("labelmap_versions.id", ondelete="SET NULL"), nullable=True)
    submitted_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("labelmap_versions.id", ondelete="SET NULL"), nullable=True)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class ActivityHeartbeat(Base):
    """Seconds of active viewer time reported by the client (already capped by the server)."""

    __tablename__ = "activity_heartbeats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    seconds: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class ReviewComment(Base):
    """A comment on a reader's work, optionally anchored to a slice and an in-slice position."""

    __tablename__ = "review_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), nullable=True, index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("labelmap_versions.id", ondelete="SET NULL"), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    slice_index: Mapped[int | None] = mapped_column(Integer, nullable=True)  # z index
    position: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)  # [x, y] voxels
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    author: Mapped[User | None] = relationship(lazy="joined")


class ReviewDecision(Base):
    """A reviewer's decision: ``approve`` a version of the study, or ``return`` an assignment."""

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), nullable=True, index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("labelmap_versions.id", ondelete="SET NULL"), nullable=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    decision: Mapped[str] = mapped_column(String(16))  # approve | return
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    reviewer: Mapped[User | None] = relationship(lazy="joined")


class AgreementResult(Base):
    """Cached agreement metrics of one study for one set of versions (key: sorted ids)."""

    __tablename__ = "agreement_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    version_key: Mapped[str] = mapped_column(String(400))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
