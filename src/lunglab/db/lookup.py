"""Fetch a row by primary key or fail with :class:`~lunglab.domain.errors.NotFound` (HTTP 404)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from lunglab.domain.errors import NotFound

T = TypeVar("T")


def get_or_404(db: Session, model: type[T], row_id: Any, what: str, *,
               where: Callable[[T], bool] | None = None, context: str = "") -> T:
    """The row of ``model`` with primary key ``row_id``.

    Args:
        db: an open session.
        model: the table class.
        row_id: the primary key.
        what: how the error names the row (``"study"``, ``"model version"``).
        where: a condition the row must also meet (e.g. belong to the study at hand);
            a row that fails it is reported as not found, like a missing one.
        context: words appended to the message (``" for this study"``).

    Raises:
        NotFound: ``"<what> <row_id> not found<context>"``.

    Example:
        >>> study = get_or_404(db, Study, study_id, "study")  # doctest: +SKIP
    """
    row = db.get(model, row_id)
    if row is None or (where is not None and not where(row)):
        raise NotFound(f"{what} {row_id} not found{context}")
    return row
