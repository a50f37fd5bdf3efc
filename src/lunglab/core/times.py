"""Timestamps as the API and the exports write them: ISO 8601 in UTC with a ``Z``."""
from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(value: datetime) -> str:
    """``value`` in UTC, ISO 8601 with ``Z``; a naive value is taken as UTC (SQLite returns
    the stored UTC time without its zone).

    Example:
        >>> utc_iso(datetime(2026, 12, 4, 13, 22, 7, 612622))
        '2026-12-04T13:22:07.612622Z'
    """
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")
