"""Downloads of label maps, CT and datasets, and the project's PACS (DICOMweb).

Project admins only; each call is an audit event (see ``lunglab.services.exchange.export``).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from lunglab.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from lunglab.api.responses import LargeFileResponse
from lunglab.api.schemas.fields import IdParam
from lunglab.services.exchange import export
from lunglab.services.exchange import pacs
from lunglab.services.exchange.export import ExportFile
from lunglab.services.ingest.importer import work_dir

router = APIRouter(tags=["exports"])


def _send(f: ExportFile) -> FileResponse:
    return LargeFileResponse(f.path, media_type=f.media_type, filename=f.filename,
                             headers={"Cache-Control": "private, no-store"},
                             background=BackgroundTask(export.discard, f) if f.temporary
                             else None)


@router.get("/exports/versions/{version_id}/labels.nii.gz", response_class=FileResponse)
def labels_nifti(version_id: IdParam, db: SessionDep, user: CurrentUser,
                 store: StoreDep) -> FileResponse:
    return _send(export.export_labels_nifti(db, store, user, version_id))


@router.get("/exports/versions/{version_id}/seg.dcm", response_class=FileResponse)
def labels_seg(version_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
               settings: SettingsDep) -> FileResponse:
    return _send(export.export_seg(db, store, user, version_id, work_dir(settings)))


@router.get("/exports/studies/{study_id}/ct.nii.gz", response_class=FileResponse)
def ct_nifti(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep) -> FileResponse:
    return _send(export.export_ct_nifti(db, store, user, study_id))


@router.get("/exports/studies/{study_id}/dicom.zip", response_class=FileResponse)
def ct_dicom(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
             settings: SettingsDep, seg_version_id: IdParam | None = Query(None)) -> FileResponse:
    """The CT series as DICOM (zip), with the SEG of ``seg_version_id`` if given."""
    return _send(export.export_ct_dicom(db, store, user, study_id, work_dir(settings),
                                        with_seg_version=seg_version_id))


@router.post("/projects/{project_id}/exports/dataset", response_class=FileResponse)
def dataset(project_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
            settings: SettingsDep) -> FileResponse:
    """The project in the nnU-Net / Decathlon layout with its frozen split (zip)."""
    return _send(export.export_dataset_zip(db, store, user, project_id, work_dir(settings)))


class DicomwebConfigIn(BaseModel):
    url: str | None = Field(None, max_length=500)
    username: str | None = Field(None, max_length=100)
    password_env: str | None = Field(None, max_length=64)


class PacsImportIn(BaseModel):
    study_uid: str = Field(..., max_length=64)
    series_uid: str | None = Field(None, max_length=64)


@router.get("/projects/{project_id}/dicomweb")
def get_dicomweb(project_id: IdParam, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return pacs.get_config(db, user, project_id)


@router.put("/projects/{project_id}/dicomweb")
def put_dicomweb(project_id: IdParam, body: DicomwebConfigIn, db: SessionDep,
                 user: CurrentUser) -> dict[str, Any]:
    return pacs.set_config(db, user, project_id, body.url, body.username, body.password_env)


@router.get("/projects/{project_id}/dicomweb/studies")
def search_pacs(project_id: IdParam, db: SessionDep, user: CurrentUser,
                patient_id: str | None = Query(None, max_length=64),
                study_date: str | None = Query(None, max_length=20),
                modality: str | None = Query(None, max_length=16),
                limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    rows = pacs.search(db, user, project_id, patient_id=patient_id, study_date=study_date,
                       modality=modality, limit=limit)
    return {"data": rows, "count": len(rows)}


@router.post("/projects/{project_id}/dicomweb/import")
def import_from_pacs(project_id: IdParam, body: PacsImportIn, db: SessionDep, user: CurrentUser,
                     store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    return {"results": pacs.import_study(db, store, settings, user, project_id, body.study_uid,
                                         body.series_uid)}


@router.post("/versions/{version_id}/dicomweb/push")
def push_to_pacs(version_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                 with_ct: bool = Query(True)) -> dict[str, Any]:
    return pacs.push_version(db, store, user, version_id, with_ct=with_ct)
