"""Resumable uploads: a client sends each file in chunks at byte offsets, then commits.

An upload lives in ``<data_dir>/uploads/<uuid>/`` with a ``manifest.json``; file parts are
named by their index, never by the client's file name. A dropped connection resumes at the
offset the server reports.
"""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from lunglab.core.settings import Settings
from lunglab.db.models import User
from lunglab.services.errors import Conflict, InvalidInput, NotFound, TooLarge
from lunglab.services.ingest.importer import safe_suffix

MAX_NAME = 1024


def _part(folder: Path, index: int, name: str) -> Path:
    return folder / f"part-{index}{safe_suffix(name)}"


def _root(settings: Settings) -> Path:
    path = settings.data_dir / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dir(settings: Settings, upload_id: str) -> Path:
    try:
        uid = uuid.UUID(upload_id).hex
    except ValueError:
        raise NotFound("upload not found") from None
    return _root(settings) / uid


def create(settings: Settings, user: User, project_id: int, files: list[dict[str, Any]]) -> dict:
    """Open an upload for ``files`` (name, size); refuse it at once if too large."""
    if not files:
        raise InvalidInput("an upload needs at least one file")
    total = sum(int(f["size"]) for f in files)
    if total > settings.max_upload_bytes:
        raise TooLarge(f"upload of {total} bytes exceeds the limit of "
                       f"{settings.max_upload_bytes} bytes")
    upload_id = uuid.uuid4().hex
    d = _root(settings) / upload_id
    d.mkdir()
    manifest = {"user_id": user.id, "project_id": project_id,
                "files": [{"name": str(f["name"])[:MAX_NAME], "size": int(f["size"])}
                          for f in files]}
    (d / "manifest.json").write_text(json.dumps(manifest))
    return status(settings, user, upload_id)


def _manifest(settings: Settings, user: User, upload_id: str) -> tuple[Path, dict]:
    d = _dir(settings, upload_id)
    mf = d / "manifest.json"
    if not mf.exists():
        raise NotFound("upload not found")
    manifest = json.loads(mf.read_text())
    if manifest["user_id"] != user.id:
        raise NotFound("upload not found")
    return d, manifest


def status(settings: Settings, user: User, upload_id: str) -> dict:
    d, manifest = _manifest(settings, user, upload_id)
    files = []
    for i, f in enumerate(manifest["files"]):
        part = _part(d, i, f["name"])
        files.append({"index": i, "name": f["name"], "size": f["size"],
                      "received": part.stat().st_size if part.exists() else 0})
    return {"upload_id": uuid.UUID(upload_id).hex, "files": files,
            "project_id": manifest["project_id"]}


def write_chunk(settings: Settings, user: User, upload_id: str, index: int, offset: int,
                data: bytes) -> int:
    """Append ``data`` at ``offset`` of file ``index``; return the bytes received so far.

    Raises:
        Conflict: ``offset`` differs from what was received (the client resumes from there).
        TooLarge: more bytes than announced.
    """
    d, manifest = _manifest(settings, user, upload_id)
    if not 0 <= index < len(manifest["files"]):
        raise NotFound(f"file {index} is not part of this upload")
    part = _part(d, index, manifest["files"][index]["name"])
    received = part.stat().st_size if part.exists() else 0
    if offset != received:
        raise Conflict(f"expected offset {received}, got {offset}", received=received)
    if received + len(data) > manifest["files"][index]["size"]:
        raise TooLarge(f"file {index} is larger than announced")
    with open(part, "ab") as fh:
        fh.write(data)
    return received + len(data)


def complete_files(settings: Settings, user: User,
                   upload_id: str) -> tuple[int, list[tuple[str, Path]], Path]:
    """The finished files of an upload (name, path), its project and its folder."""
    d, manifest = _manifest(settings, user, upload_id)
    out = []
    for i, f in enumerate(manifest["files"]):
        part = _part(d, i, f["name"])
        got = part.stat().st_size if part.exists() else 0
        if got != f["size"]:
            raise Conflict(f"{f['name']}: {got} of {f['size']} bytes received; "
                           "resume the upload first", received=got)
        out.append((f["name"], part))
    return manifest["project_id"], out, d


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
