"""Radiograph readings: one reader's study-level findings on a chest radiograph.

Created by migration ``0500_radiograph_readings``. The label map of a radiograph is an ordinary
one-slice label-map version (``models.LabelMapVersion``); this table holds only the form.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lunglab.db.base import Base, utcnow
from lunglab.db.models import User
from lunglab.domain.radiograph import RADIOGRAPH_MODALITIES

TS = DateTime(timezone=True)


class RadiographReading(Base):
    """A reader's RSNA category and severity scores for one radiograph (one row per reader,
    updated in place until the reading is submitted; every change is an audit event)."""

    __tablename__ = "radiograph_readings"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))  # domain.radiograph.CATEGORIES
    brixia: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)  # 6 zones, 0-3
    rale: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)  # right, left, 0-4
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow, onupdate=utcnow)
    user: Mapped[User] = relationship(lazy="joined")


def not_radiograph(modality_column: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping CT studies (modality CT or unknown) and leaving out radiographs."""
    return or_(modality_column.is_(None), modality_column.notin_(sorted(RADIOGRAPH_MODALITIES)))
