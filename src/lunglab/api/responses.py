"""Responses shared by the routes."""
from __future__ import annotations

import asyncio
import os

from fastapi.responses import FileResponse, Response
from starlette.types import Message, Receive, Scope, Send

from lunglab.api.slots import LoopSlots

# A download waits at most this long for a stream slot, and keeps its slot at most this long:
# past either, it streams without one. A slow client (a reader on a VPN) can then delay other
# downloads by seconds at worst, never hold them up for the length of its own download.
SLOT_WAIT_S = 2.0
SLOT_HOLD_S = 2.0

_download_slots = LoopSlots()


def download_streams(configured: int = 0) -> int:
    """How many large downloads one server process streams at once: one per core, at least
    two. Each 39 MB CT costs the server about 25 ms of CPU, nearly all of it moving bytes; fifty
    at once leave a reader's save waiting behind them (``bench/load.py``: with two streams on
    two cores, save p95 went from 0.9-1.1 s to 0.49-0.60 s on SQLite, and the viewers' own
    p50 did not move)."""
    return configured or max(2, os.cpu_count() or 2)


def _configured(scope: Scope) -> int:
    """``download_streams`` of the app's settings (0, the default, where there are none)."""
    settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
    return download_streams(getattr(settings, "download_streams", 0))


class LargeFileResponse(FileResponse):
    """A file (a CT volume, a label map, an export) sent in 1 MiB chunks, a few at a time.

    Chunks: Starlette sends 64 KiB at a time, each chunk one read in the thread pool and one
    send on the event loop; 1 MiB chunks make a 39 MB volume 40 of each instead of 600.

    Slots: the process streams ``download_streams`` files at once and the others queue, in
    arrival order, for at most ``SLOT_WAIT_S``. Files come out at the same total rate, and a
    reader's save is not starved of the CPU by fifty streams at once. A stream gives its slot
    up after ``SLOT_HOLD_S`` even if it is still going.
    """

    chunk_size = 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slots = _download_slots.get(lambda: _configured(scope))
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(slots.acquire(), SLOT_WAIT_S)
            held = True
        except TimeoutError:
            held = False
        deadline = loop.time() + SLOT_HOLD_S

        async def sender(message: Message) -> None:
            nonlocal held
            await send(message)
            if held and loop.time() > deadline:
                held = False
                slots.release()

        # the background task (deleting a temporary export) runs even when the client goes
        # away mid-stream, which would skip it in FileResponse
        background, self.background = self.background, None
        try:
            await super().__call__(scope, receive, sender)
        finally:
            if held:
                slots.release()
            if background is not None:
                await background()


class CSVResponse(Response):
    """A CSV download (``text/csv``), so the schema documents what is sent."""

    media_type = "text/csv"
