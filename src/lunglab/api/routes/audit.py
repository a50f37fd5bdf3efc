"""The audit log (site admins)."""
from __future__ import annotations

from fastapi import APIRouter, Query

from lunglab.api.deps import AdminUser, SessionDep
from lunglab.api.schemas.fields import Offset
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import AuditEventPublic
from lunglab.services.access import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic])
def list_audit(db: SessionDep, admin: AdminUser, offset: Offset = 0,
               limit: int = Query(100, ge=1, le=1000), actor: str | None = None,
               action: str | None = None) -> Page[AuditEventPublic]:
    rows, count = audit.list_events(db, offset=offset, limit=limit, actor=actor, action=action)
    return Page[AuditEventPublic](data=[AuditEventPublic.model_validate(e) for e in rows],
                                  count=count)
