"""Label-map versions: list, fetch, save a new one."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse

from lunglab.db.lookup import get_or_404
from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.responses import LargeFileResponse
from lunglab.api.schemas.fields import IdParam
from lunglab.api.presenters import version_public
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import VersionPublic
from lunglab.api.slots import LoopSlots
from lunglab.db.models import LabelMapVersion
from lunglab.services.access import audit
from lunglab.services.labels import formats as label_formats
from lunglab.services.labels import labelmaps
from lunglab.services.access import projects
from lunglab.services.errors import InvalidInput, NotFound

router = APIRouter(tags=["label maps"])
MAX_LABELMAP_BYTES = 2 * 1024**3


@router.get("/studies/{study_id}/versions", response_model=Page[VersionPublic])
def list_versions(study_id: IdParam, db: SessionDep, user: CurrentUser) -> Page[VersionPublic]:
    study, role = projects.get_study(db, user, study_id)
    rows = labelmaps.visible_versions(db, user, study, role)
    return Page[VersionPublic](data=[version_public(v, study) for v in rows], count=len(rows))


@router.get("/versions/{version_id}/labels.nii.gz", response_class=FileResponse)
def get_labels(version_id: IdParam, db: SessionDep, user: CurrentUser,
               store: StoreDep) -> FileResponse:
    v = get_or_404(db, LabelMapVersion, version_id, "version")
    study, role = projects.get_study(db, user, v.study_id)
    if not any(x.id == v.id for x in labelmaps.visible_versions(db, user, study, role)):
        raise NotFound(f"version {version_id} not found")
    audit.record(db, user, "labelmap.view", "version", v.id)
    db.commit()
    return LargeFileResponse(labelmaps.materialize(store, v, study),
                             media_type="application/gzip", filename=f"labels-{v.id}.nii.gz",
                             headers={"Cache-Control": "private, max-age=86400, immutable",
                                      "X-Labels-Digest": v.checksum})


_save_slots = LoopSlots()


async def save_slot(request: Request) -> AsyncIterator[None]:
    """One of the process's save slots, taken on the event loop before the request's database
    session is opened: a waiting save holds neither a thread nor a pooled connection, and
    waiters go in arrival order."""
    slots = _save_slots.get(lambda: labelmaps.save_slots(request.app.state.settings.save_slots))
    t0 = time.perf_counter()
    async with slots:
        request.state.slot_wait_ms = (time.perf_counter() - t0) * 1000
        yield


@router.post("/studies/{study_id}/versions", response_model=VersionPublic, status_code=201)
def save_version(study_id: IdParam, _slot: Annotated[None, Depends(save_slot)], db: SessionDep,
                 user: CurrentUser, store: StoreDep, file: UploadFile, request: Request,
                 response: Response,
                 base_version_id: str = Form(""), message: str = Form("", max_length=2000),
                 format: str = Form("nifti", max_length=8),
                 slices: str = Form("", max_length=50_000),
                 edit_counts: str = Form("", max_length=2000)) -> VersionPublic:
    """Save a new version: the whole map (``nifti`` or ``raw``) or, with ``format=slices``,
    only the axial slices that changed against ``base_version_id`` (raw uint8 ``[k, y, x]``,
    gzip when the file name ends ``.gz``; their z indices in ``slices``, comma-separated).
    ``edit_counts`` (JSON, e.g. ``{"smart_clicks": 3, "brush_strokes": 2}``) says how the edit
    was made; it is kept with the version for the correction-effort figures.

    ``Server-Timing`` tells how long the save waited for a slot and how long it took."""
    t0 = time.perf_counter()
    access = projects.get_study(db, user, study_id)
    study = access[0]
    if format not in ("nifti", "raw", "slices"):
        raise InvalidInput("format must be 'nifti', 'raw' or 'slices'")
    # a plain ``def`` route runs in the thread pool: decoding and gzip release the GIL, so
    # concurrent saves use every core instead of queueing on the event loop
    data = file.file.read(MAX_LABELMAP_BYTES + 1)
    if len(data) > MAX_LABELMAP_BYTES:
        raise InvalidInput("label map file too large")
    base = int(base_version_id) if base_version_id.strip().isdigit() else None
    if base_version_id.strip() and base is None:
        raise InvalidInput("base_version_id must be a version id or empty")
    if format == "slices":
        edit = label_formats.parse_slice_edit(data, file.filename or "slices", slices, study)
        v = labelmaps.save_version(db, store, user, study_id, edit=edit, access=access,
                                   base_version_id=base, kind="human", message=message,
                                   details=label_formats.edit_counts_details(edit_counts))
    else:
        labels = label_formats.parse_upload(data, file.filename or "labels", format, study)
        v = labelmaps.save_version(db, store, user, study_id, labels, base_version_id=base,
                                   kind="human", message=message, access=access,
                                   details=label_formats.edit_counts_details(edit_counts))
    wait = getattr(request.state, "slot_wait_ms", 0.0)
    response.headers["Server-Timing"] = (f"slot;dur={wait:.1f}, "
                                         f"save;dur={(time.perf_counter() - t0) * 1000:.1f}")
    return version_public(v, study)
