"""Error bodies and the ``responses=`` each router documents.

Every error is ``{"detail": ...}``:

- 400, 401, 403, 404, 413, 429, 507: ``detail`` is a message (string);
- 409: a message, or ``{"message": ..., <facts>}`` (e.g. ``latest_version_id``,
  ``received``);
- 422: FastAPI's array of ``{loc, msg, type}`` when the request does not fit the schema,
  or a message when the service refuses a value the schema cannot express (a label map of
  the wrong shape, an unknown job kind);
- 405: ``{"detail": "Method Not Allowed"}`` with an ``Allow`` header.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    detail: str = Field(description="what went wrong, for people")


class ConflictDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: str


class ConflictOut(BaseModel):
    detail: str | ConflictDetail


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class UnprocessableOut(BaseModel):
    detail: list[ValidationIssue] | str = Field(
        description="the schema's complaints (array), or the service's message (string)")


_MODELS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ErrorOut, "Bad request"),
    401: (ErrorOut, "Not logged in, or bad credentials"),
    403: (ErrorOut, "Not allowed (role), or missing CSRF token on a cookie-authenticated write"),
    404: (ErrorOut, "No such object, or not visible to this user"),
    405: (ErrorOut, "Method not allowed on this path (see the Allow header)"),
    409: (ConflictOut, "Conflict with the current state"),
    413: (ErrorOut, "Too large (JSON bodies: at most 1 MiB with a stated length)"),
    422: (UnprocessableOut, "Invalid input"),
    429: (ErrorOut, "Too many failed log-ins"),
    507: (ErrorOut, "The server's storage is full; nothing was stored"),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` dict documenting the given error codes with their bodies."""
    return {code: {"model": _MODELS[code][0], "description": _MODELS[code][1]}
            for code in codes}


AUTHENTICATED = errors(401, 403, 404, 413, 422)
"""What any route behind log-in may answer: not logged in, not allowed (or CSRF), not found,
JSON body too large, invalid input."""
