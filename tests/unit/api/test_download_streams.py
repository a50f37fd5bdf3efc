"""Large downloads stream a few at a time, queue in order, and never wait long for a slot."""
from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from lunglab.api import responses
from lunglab.api.responses import LargeFileResponse, download_streams


def _scope(streams: int) -> dict:
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(
        download_streams=streams)))
    return {"type": "http", "method": "GET", "path": "/x", "headers": [], "app": app,
            "extensions": {}}


async def _receive() -> dict:
    await asyncio.sleep(3600)
    return {"type": "http.disconnect"}


def _run(streams: int, n: int, path: Path, delay: float) -> tuple[int, list[int], list[bytes]]:
    """Start ``n`` downloads of ``path`` at once; each send takes ``delay`` seconds. Return
    the most streams seen at once, the order they started in, and each one's body."""
    async def main() -> tuple[int, list[int], list[bytes]]:
        active, most, started, bodies = 0, 0, [], [b""] * n
        scope = _scope(streams)

        async def one(i: int) -> None:
            nonlocal active, most

            async def send(message: dict) -> None:
                nonlocal active, most
                if message["type"] == "http.response.start":
                    active += 1
                    most = max(most, active)
                    started.append(i)
                else:
                    bodies[i] += message.get("body", b"")
                    if not message.get("more_body"):
                        active -= 1
                await asyncio.sleep(delay)

            await LargeFileResponse(path)(scope, _receive, send)

        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0)  # arrive in order
        await asyncio.gather(*tasks)
        return most, started, bodies

    responses._download_slots.clear()
    return asyncio.run(main())


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "volume.bin"
    path.write_bytes(bytes(range(256)) * 4096 * 3)  # 3 MiB: three chunks
    return path


def test_streams_are_limited_and_queue_in_order(big_file: Path) -> None:
    most, started, bodies = _run(streams=2, n=6, path=big_file, delay=0.01)
    assert most == 2
    assert set(started[:2]) == {0, 1}  # the first two to arrive hold the slots
    assert sorted(started) == list(range(6))
    assert all(b == big_file.read_bytes() for b in bodies)


def test_a_slow_stream_gives_its_slot_up(big_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responses, "SLOT_HOLD_S", 0.05)
    # each send takes 0.1 s: the first stream is past its hold time after its first chunk
    most, _, bodies = _run(streams=1, n=3, path=big_file, delay=0.1)
    assert most >= 2
    assert all(b == big_file.read_bytes() for b in bodies)


def test_a_download_does_not_wait_long_for_a_slot(big_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responses, "SLOT_WAIT_S", 0.05)
    monkeypatch.setattr(responses, "SLOT_HOLD_S", 60.0)
    most, _, _ = _run(streams=1, n=3, path=big_file, delay=0.1)
    assert most >= 2


def test_default_is_one_per_core_at_least_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert download_streams() == 2
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert download_streams() == 16
    assert download_streams(3) == 3
