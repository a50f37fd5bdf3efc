"""Field types shared by every schema and route: database ids, offsets and counts with the
bounds a database integer has, and UTC timestamps written with ``Z``.

Ids are 1..2^31-1 (the tables' primary keys are SQL ``INTEGER``, 32-bit on PostgreSQL) and
offsets 0..2^31-1: a larger value gets a 422 and never reaches the database (PostgreSQL
refuses to compare an ``INTEGER`` column with a larger number). Counts and sizes are
0..2^63-1. In JSON bodies the id types are strict, so ``false``/``true``, ``"5"`` and
``5.0`` are refused rather than taken as numbers; path and query values arrive as text, so
their types parse digits and still refuse ``true``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

from lunglab.core.times import utc_iso

MAX_DB_INT = 2**63 - 1
"""Largest signed 64-bit integer (``BIGINT``): counts and sizes."""
MAX_ROW_ID = 2**31 - 1
"""Largest ``INTEGER``: every primary key, so every id and offset."""

DbId = Annotated[int, Field(ge=1, le=MAX_ROW_ID, strict=True, examples=[1])]
"""A row id in a JSON body (strict: booleans, strings and floats are refused)."""
IdParam = Annotated[int, Field(ge=1, le=MAX_ROW_ID, examples=[1])]
"""A row id in a path or query parameter."""
Offset = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
"""How many rows to skip (query)."""
Count = Annotated[int, Field(ge=0, le=MAX_DB_INT, strict=True)]
"""A non-negative count or size in a JSON body (strict)."""

UtcDateTime = Annotated[
    datetime,
    PlainSerializer(utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "UTC, ISO 8601 with Z"}, mode="serialization"),
]
"""A timestamp; in JSON always UTC with ``Z`` (``2026-12-04T13:22:07.612622Z``)."""

ShippedOrId = Annotated[int, Field(ge=0, le=MAX_ROW_ID, strict=True)]
"""A model version id, or 0 for the model shipped with LungLab (JSON body, strict)."""
