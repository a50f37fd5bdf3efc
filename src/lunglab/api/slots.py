"""Per-process slots: a semaphore per event loop, sized on first use.

Saves (``routes/versions.py``) and large downloads (``responses.py``) each take one of a few
slots, so a crowd of them cannot starve the rest of the server of CPU. A semaphore belongs to
one event loop; a process running several (tests, a restarted server) gets one per loop.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable


class LoopSlots:
    """The semaphore of the running event loop, made with ``size()`` slots the first time."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def get(self, size: Callable[[], int]) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._by_loop.get(loop)
        if slots is None:
            slots = self._by_loop[loop] = asyncio.Semaphore(size())
        return slots

    def clear(self) -> None:
        self._by_loop.clear()
