"""Append-only audit events. Never log patient identifiers here: they never reach LungLab."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lunglab.db.models import AuditEvent, User


def record(
    db: Session,
    actor: User | None,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    **details: Any,
) -> None:
    """Add an audit event to the current transaction."""
    db.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            actor=actor.username if actor else None,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            details=details,
        )
    )


def list_events(
    db: Session, *, offset: int = 0, limit: int = 100, actor: str | None = None,
    action: str | None = None,
) -> tuple[list[AuditEvent], int]:
    """Events newest first, filtered by actor name and action."""
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    count = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(q.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), int(count)
