"""Model versions: list, detail with lineage, gated promotion, rollback, export."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse

from lunglab.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from lunglab.api.presenters import model_public
from lunglab.api.schemas.fields import IdParam
from lunglab.api.schemas.training import (
    ModelVersionPublic,
    ModelVersionsPublic,
    PromoteIn,
    RollbackIn,
    ShippedModelPublic,
)
from lunglab.services.training import model_versions as svc
from lunglab.services.training.model_export import export_version

router = APIRouter(tags=["models"])


@router.get("/projects/{project_id}/models", response_model=ModelVersionsPublic)
def list_models(project_id: IdParam, db: SessionDep, user: CurrentUser) -> ModelVersionsPublic:
    rows = svc.list_versions(db, user, project_id)
    active = next((m for m in rows if m.state == "active" and m.modality == "ct"), None)
    active_xr = next((m for m in rows if m.state == "active" and m.modality == "xr"), None)
    v0 = svc.shipped_version(db, project_id)
    shipped = ShippedModelPublic(name=v0.name, state=v0.state, arch=v0.arch,  # type: ignore[arg-type]
                                 card=v0.card)
    return ModelVersionsPublic(data=[model_public(db, m) for m in rows], count=len(rows),
                               active_id=active.id if active else None, shipped=shipped,
                               active_radiograph_id=active_xr.id if active_xr else None,
                               active_name=active.name if active else v0.name)


@router.get("/models/{version_id}", response_model=ModelVersionPublic)
def get_model(version_id: IdParam, db: SessionDep, user: CurrentUser) -> ModelVersionPublic:
    return model_public(db, svc.get_version(db, user, version_id))


@router.post("/models/{version_id}/promote", response_model=ModelVersionPublic)
def promote(version_id: IdParam, body: PromoteIn, db: SessionDep,
            user: CurrentUser) -> ModelVersionPublic:
    mv = svc.promote(db, user, version_id, override=body.override, reason=body.reason)
    return model_public(db, mv)


@router.post("/models/{version_id}/rollback", response_model=ModelVersionPublic)
def rollback_to(version_id: IdParam, db: SessionDep, user: CurrentUser) -> ModelVersionPublic:
    mv = svc.get_version(db, user, version_id, roles=("admin",))
    target = svc.rollback(db, user, mv.project_id, version_id)
    assert target is not None
    return model_public(db, target)


@router.post("/projects/{project_id}/models/rollback", response_model=ModelVersionPublic | None)
def rollback(project_id: IdParam, body: RollbackIn, db: SessionDep,
             user: CurrentUser) -> ModelVersionPublic | None:
    target = svc.rollback(db, user, project_id, body.version_id, body.modality)
    return model_public(db, target) if target else None


@router.get("/models/{version_id}/export", response_class=FileResponse)
def export(version_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
           settings: SettingsDep,
           format: Literal["bundle", "torchscript", "onnx"] = "bundle") -> FileResponse:
    path = export_version(db, user, store, settings.data_dir, version_id, format)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
