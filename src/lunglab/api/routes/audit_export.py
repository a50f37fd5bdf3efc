"""Audit log export for site administrators: the filters of ``GET /api/audit`` and more, as CSV."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response

from lunglab.api.deps import AdminUser, SessionDep
from lunglab.api.responses import CSVResponse
from lunglab.services.access import audit_export

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/export.csv", response_class=CSVResponse)
def export_csv(db: SessionDep, admin: AdminUser, actor: str | None = Query(None, max_length=64),
               action: str | None = Query(None, max_length=64),
               action_prefix: str | None = Query(None, max_length=64),
               object_type: str | None = Query(None, max_length=32),
               object_id: str | None = Query(None, max_length=64),
               since: datetime | None = None, until: datetime | None = None) -> Response:
    text = audit_export.export_csv(db, admin, actor=actor, action=action,
                                   action_prefix=action_prefix, object_type=object_type,
                                   object_id=object_id, since=since, until=until)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="lunglab-audit.csv"',
        "Cache-Control": "no-store"})
