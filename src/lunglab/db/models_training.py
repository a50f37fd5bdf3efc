"""Training tables: model versions with lineage, frozen validation splits, training runs and
active-learning scores. Created by migration ``0300_training``."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lunglab.db.base import Base, utcnow
from lunglab.db.models import User

TS = DateTime(timezone=True)
MODEL_STATES = ("candidate", "active", "retired")
MODALITIES = ("ct", "xr")
"""What a model segments: ``ct`` volumes, or ``xr`` chest radiographs (CR, DX, pictures)."""


class ModelVersion(Base):
    """A trained network of one project, with everything needed to reproduce and judge it.

    At most one version per project and modality is ``active`` (a partial unique index);
    pre-annotation of a CT uses the active ``ct`` version, of a radiograph the active ``xr``
    one. Weights live in the ``VolumeStore`` under ``weights_key``.
    """

    __tablename__ = "model_versions"
    __table_args__ = (
        Index("uq_model_versions_active", "project_id", "modality", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the project
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default="candidate")
    modality: Mapped[str] = mapped_column(String(8), default="ct", server_default="ct")
    base_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)
    base_model: Mapped[str | None] = mapped_column(String(200), nullable=True)  # shipped name
    arch: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    data_snapshot: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    val_study_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    weights_key: Mapped[str] = mapped_column(String(300))
    weights_checksum: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL"), nullable=True, unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    promoted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    promotion_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[created_by_id])


class ValidationSplit(Base):
    """The frozen validation studies of a project and modality, fixed by its first training run
    of that modality (CT and radiographs have separate splits)."""

    __tablename__ = "validation_splits"
    __table_args__ = (UniqueConstraint("project_id", "modality",
                                       name="uq_validation_splits_project_id_modality"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(8), default="ct", server_default="ct")
    study_ids: Mapped[list[int]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class TrainingRun(Base):
    """One training run across the jobs that executed it (a resumed run keeps its row).

    ``history`` holds one entry per finished epoch (loss, per-label validation Dice, seconds);
    ``checkpoint_epoch`` is the last epoch saved to ``checkpoint_dir``.
    """

    __tablename__ = "training_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                               nullable=True, index=True)
    job_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data_snapshot: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    val_study_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    checkpoint_dir: Mapped[str] = mapped_column(String(500), default="")
    checkpoint_epoch: Mapped[int] = mapped_column(Integer, default=0)
    resumed_from_epoch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    eta_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow, onupdate=utcnow)


class UncertaintyScore(Base):
    """Model uncertainty of an unannotated study (active learning: annotate the top first)."""

    __tablename__ = "uncertainty_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"),
                                          index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                               nullable=True)
    computed_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
