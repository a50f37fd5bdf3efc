"""The one list envelope of the API: ``{"data": [...], "count": n}``."""
from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: its rows and how many there are.

    ``count`` is the number of rows the query matched, which for a paged list (``offset``,
    ``limit``) may be more than ``len(data)``.

    Example:
        >>> Page[int](data=[1, 2], count=5).model_dump()
        {'data': [1, 2], 'count': 5}
    """

    data: list[T]
    count: int
