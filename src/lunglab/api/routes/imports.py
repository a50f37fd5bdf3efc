"""Uploads: one-shot multipart import and resumable chunked uploads."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lunglab.api.deps import CurrentUser, RunnerDep, SessionDep, SettingsDep, StoreDep
from lunglab.api.schemas.fields import IdParam, Offset
from lunglab.api.schemas.resources import (
    ImportResult,
    ImportResults,
    ReceivedOut,
    UploadCreate,
    UploadStatus,
)
from lunglab.services.ingest import importer as ingest
from lunglab.services.access import projects
from lunglab.services.ingest import uploads
from lunglab.services.errors import TooLarge

router = APIRouter(tags=["import"])
IMPORT_ROLES = ("admin", "annotator")
MAX_CHUNK_BYTES = 64 * 1024**2


def _results(outcomes: list[ingest.ImportOutcome]) -> ImportResults:
    return ImportResults(results=[ImportResult(**o.as_dict()) for o in outcomes])


@router.post("/projects/{project_id}/import", response_model=ImportResults)
async def import_files(project_id: IdParam, request: Request, db: SessionDep, user: CurrentUser,
                       store: StoreDep, settings: SettingsDep,
                       runner: RunnerDep) -> ImportResults:
    project = projects.require_role(db, user, project_id, *IMPORT_ROLES)
    length = int(request.headers.get("content-length") or 0)
    if length > settings.max_upload_bytes:
        raise TooLarge(f"upload of {length} bytes exceeds the limit of "
                       f"{settings.max_upload_bytes} bytes; nothing was stored")
    form = await request.form(max_files=50_000, max_fields=100)
    # request.form() yields starlette's UploadFile (fastapi's is a subclass of it) or str
    parts = [(f.filename or "upload", f.file) for f in form.getlist("files")
             if isinstance(f, UploadFile)]
    try:
        # the import itself is blocking work: keep it off the event loop
        outcomes = await run_in_threadpool(
            ingest.import_streams, db, store, settings, project, user, parts,
            submit=runner.submit)
    finally:
        await form.close()
    return _results(outcomes)


@router.post("/projects/{project_id}/uploads", response_model=UploadStatus, status_code=201)
def create_upload(project_id: IdParam, body: UploadCreate, db: SessionDep, user: CurrentUser,
                  settings: SettingsDep) -> UploadStatus:
    projects.require_role(db, user, project_id, *IMPORT_ROLES)
    return UploadStatus(**uploads.create(settings, user, project_id,
                                         [f.model_dump() for f in body.files]))


@router.get("/uploads/{upload_id}", response_model=UploadStatus)
def upload_status(upload_id: str, user: CurrentUser, settings: SettingsDep) -> UploadStatus:
    return UploadStatus(**uploads.status(settings, user, upload_id))


@router.put("/uploads/{upload_id}/files/{index}", response_model=ReceivedOut)
async def upload_chunk(upload_id: str, index: Offset, request: Request, user: CurrentUser,
                       settings: SettingsDep, offset: Offset = 0) -> ReceivedOut:
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_CHUNK_BYTES:
        raise TooLarge(f"chunks are at most {MAX_CHUNK_BYTES} bytes")
    data = await request.body()
    if len(data) > MAX_CHUNK_BYTES:
        raise TooLarge(f"chunks are at most {MAX_CHUNK_BYTES} bytes")
    return ReceivedOut(received=uploads.write_chunk(settings, user, upload_id, index, offset,
                                                    data))


@router.post("/uploads/{upload_id}/commit", response_model=ImportResults)
def commit_upload(upload_id: str, db: SessionDep, user: CurrentUser, store: StoreDep,
                  settings: SettingsDep, runner: RunnerDep) -> ImportResults:
    project_id, files, folder = uploads.complete_files(settings, user, upload_id)
    project = projects.require_role(db, user, project_id, *IMPORT_ROLES)
    try:
        outcomes = ingest.import_files(db, store, settings, project, user, files)
        ingest.queue_pre_annotation(db, project, user, outcomes,
                                    runner.submit)
    finally:
        uploads.discard(folder)
    return _results(outcomes)
