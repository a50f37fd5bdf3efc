"""Re-export of domain errors for service callers."""
from __future__ import annotations

from lunglab.domain.errors import (  # noqa: F401
    Conflict,
    Forbidden,
    InvalidInput,
    LungLabError,
    NotFound,
    TooLarge,
)


class Unauthorized(LungLabError):
    """Not logged in, or bad credentials (HTTP 401)."""


class RateLimited(LungLabError):
    """Too many failed log-ins (HTTP 429)."""
