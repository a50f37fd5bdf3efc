"""Domain errors. Routes map them to HTTP codes; the CLI prints them."""
from __future__ import annotations


class LungLabError(Exception):
    """Base class of errors whose message is meant for the user."""


class InvalidInput(LungLabError):
    """An input file or request is malformed (HTTP 400/422).

    Args:
        message: what is wrong.
        source: the file name (never a full path from the user) the problem is in, if any.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class TooLarge(LungLabError):
    """An upload or expanded archive exceeds the configured limit (HTTP 413)."""


class NotFound(LungLabError):
    """The object does not exist or the user may not know it exists (HTTP 404)."""


class Forbidden(LungLabError):
    """The user is known but lacks the role (HTTP 403)."""


class Conflict(LungLabError):
    """A stale edit or a duplicate (HTTP 409).

    Args:
        message: what happened and what the user can do.
        **details: machine-readable facts for the client (e.g. ``latest_version_id``).
    """

    def __init__(self, message: str, **details: object) -> None:
        self.details = details
        super().__init__(message)
