"""Audit log queries for administrators: filters and CSV export (the log itself is append-only,
enforced by database triggers; nothing here updates or deletes)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lunglab.core.times import utc_iso
from lunglab.db.models import AuditEvent, User
from lunglab.services.access import audit
from lunglab.services.collab.assignments import aware

CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "details")
EXPORT_LIMIT = 1_000_000


def filtered(*, actor: str | None = None, action: str | None = None,
             action_prefix: str | None = None, object_type: str | None = None,
             object_id: str | None = None, since: datetime | None = None,
             until: datetime | None = None) -> Select[AuditEvent]:
    """A query of audit events matching every given filter, newest first."""
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    if action_prefix:
        q = q.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    if object_type:
        q = q.where(AuditEvent.object_type == object_type)
    if object_id:
        q = q.where(AuditEvent.object_id == object_id)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until)
    return q.order_by(AuditEvent.id.desc())


def _cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(db: Session, actor_user: User, **filters: object) -> str:
    """The matching events as CSV text (header first); the export itself is audited."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    q = filtered(**filters).limit(EXPORT_LIMIT)  # type: ignore[arg-type]
    n = 0
    for e in db.scalars(q):
        at = aware(e.at)
        writer.writerow([e.id, utc_iso(at) if at else "", _cell(e.actor), _cell(e.action),
                         _cell(e.object_type), _cell(e.object_id),
                         _cell(json.dumps(e.details or {}, sort_keys=True, default=str))])
        n += 1
    audit.record(db, actor_user, "audit.export", "audit", None, rows=n,
                 filters={k: str(v) for k, v in filters.items() if v})
    return buf.getvalue()
