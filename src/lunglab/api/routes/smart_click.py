"""Smart click (issue 18): the interactive model redraws the lesions around a reader's click."""
from __future__ import annotations

import json

from fastapi import APIRouter, Form, Response, UploadFile
from isal import igzip

from lunglab.api.deps import CurrentUser, SessionDep, StoreDep
from lunglab.api.schemas.fields import IdParam
from lunglab.services.access import projects
from lunglab.services.errors import InvalidInput
from lunglab.services.labels import formats as label_formats
from lunglab.services.labels import smart_click as service

router = APIRouter(tags=["label maps"])
MAX_SLICE_BYTES = 256 * 1024**2


def parse_clicks(text: str) -> list[service.ClickIn]:
    """``[{"x", "y", "z", "positive"}, ...]`` as JSON."""
    try:
        rows = json.loads(text)
        return [service.ClickIn(int(r["x"]), int(r["y"]), int(r["z"]),
                                bool(r.get("positive", True))) for r in rows]
    except (ValueError, TypeError, KeyError):
        raise InvalidInput('clicks must be JSON: [{"x": .., "y": .., "z": .., "positive": true}]'
                           ) from None


@router.post("/studies/{study_id}/smart-click/warm")
def warm_smart_click(study_id: IdParam, db: SessionDep, user: CurrentUser,
                     store: StoreDep) -> dict[str, object]:
    """Load the interactive model and the study's CT now (the first click then answers as fast
    as the next ones). Answers the model's name and how long loading took."""
    return service.warm(db, store, user, study_id)


@router.post("/studies/{study_id}/smart-click", response_class=Response,
             responses={200: {"content": {"application/octet-stream": {}},
                              "description": "changed slices, raw uint8 [k, y, x], gzip"}})
def smart_click(study_id: IdParam, db: SessionDep, user: CurrentUser, store: StoreDep,
                file: UploadFile, slices: str = Form(..., max_length=20_000),
                clicks: str = Form(..., max_length=20_000),
                three_d: bool = Form(True)) -> Response:
    """Run the interactive model on the latest click. ``file``: the client's current label
    slices (raw uint8 ``[k, y, x]``, gzip when the name ends ``.gz``) for the consecutive z
    indices in ``slices``; ``clicks``: this slice's clicks, the latest last. Answers the slices
    that changed (gzip raw ``[k, y, x]``), their z in ``X-Slices``; nothing is saved."""
    study, _ = projects.get_study(db, user, study_id)
    data = file.file.read(MAX_SLICE_BYTES + 1)
    if len(data) > MAX_SLICE_BYTES:
        raise InvalidInput("label slices too large")
    edit = label_formats.parse_slice_edit(data, file.filename or "slices", slices, study)
    changed, info = service.smart_click(db, store, user, study_id, edit, parse_clicks(clicks),
                                        three_d=three_d)
    body = igzip.compress(changed.planes.tobytes(), 1)
    return Response(body, media_type="application/octet-stream", headers={
        "X-Slices": ",".join(str(z) for z in changed.z), "X-Model": str(info["model"]),
        "Server-Timing": f"model;dur={info['ms']}"})
