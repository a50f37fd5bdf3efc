"""Download catalog files with httpx: streamed, resumable, sha256-verified.

A download goes to ``<dest>/<name>.part``; when that file exists, the download resumes with an
HTTP Range request (a server answering 200 instead of 206 restarts it). The finished file is
checked against the catalog's sha256; a mismatch deletes it and raises. Files without a known
sha256 are refused unless ``allow_unverified=True``: then the computed sha256 is returned so
that it can be checked against the publisher's page and pinned in ``catalog.json``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx

from lunglab.domain.errors import InvalidInput
from lunglab.io.archive import safe_relative_name
from lunglab.io.catalog.entries import CatalogEntry, CatalogFile

ProgressCallback = Callable[[str, int, int | None], None]
_CHUNK = 1024 * 1024


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tqdm_progress() -> tuple[ProgressCallback, Callable[[], None]]:
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, unit="B", unit_scale=True, desc=name,
                                    initial=done)
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def _fetch(client: httpx.Client, item: CatalogFile, part: Path,
           progress: ProgressCallback | None) -> None:
    start = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={start}-"} if start else {}
    with client.stream("GET", item.url, headers=headers) as response:
        if response.status_code == 416 and start:  # already complete
            return
        if response.status_code not in (200, 206):
            raise InvalidInput(f"download failed: HTTP {response.status_code}", item.name)
        if response.status_code == 200:
            start = 0  # server ignored the Range header: start over
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        done = start
        with part.open("ab" if start else "wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(item.name, done, total)


def download(
    entry: CatalogEntry,
    dest: Path,
    progress: bool | ProgressCallback = True,
    *,
    allow_unverified: bool = False,
    client: httpx.Client | None = None,
    timeout: float = 60.0,
) -> dict[str, str]:
    """Download every file of a catalog entry into ``dest``.

    Args:
        entry: the dataset.
        dest: destination folder (created).
        progress: True for a tqdm bar per file, False for none, or a callback
            ``(file name, bytes done, total bytes or None)``.
        allow_unverified: accept files whose sha256 is not in the catalog.
        client: an httpx client to use (tests, proxies); a new one when None.
        timeout: network timeout in seconds for a new client.

    Returns:
        ``{file name: sha256}`` of the downloaded files.

    Raises:
        InvalidInput: no direct download, unknown checksum (without ``allow_unverified``),
            HTTP errors, or a checksum mismatch (the partial file is deleted).
    """
    if not entry.files:
        raise InvalidInput(f"no direct download: {entry.download_note or entry.homepage}",
                           entry.name)
    unverified = [f.name for f in entry.files if not f.sha256]
    if unverified and not allow_unverified:
        raise InvalidInput("no published sha256 known for " + ", ".join(unverified)
                           + "; pass allow_unverified=True and pin the sha256 it returns",
                           entry.name)
    dest.mkdir(parents=True, exist_ok=True)
    callback, close = (_tqdm_progress() if progress is True
                       else (progress or None, lambda: None))  # type: ignore[assignment]
    own = client is None
    client = client or httpx.Client(follow_redirects=True, timeout=timeout)
    sums: dict[str, str] = {}
    try:
        for item in entry.files:
            target = dest / safe_relative_name(item.name)
            part = target.with_name(target.name + ".part")
            if target.exists() and item.sha256 and _sha256(target) == item.sha256:
                sums[item.name] = item.sha256
                continue
            try:
                _fetch(client, item, part, callback)
            except httpx.HTTPError as exc:
                raise InvalidInput(f"download interrupted ({type(exc).__name__}); "
                                   "run again to resume", item.name) from None
            digest = _sha256(part)
            if item.sha256 and digest != item.sha256.lower():
                part.unlink()
                raise InvalidInput(f"sha256 mismatch: got {digest}, expected {item.sha256}; "
                                   "the download was deleted", item.name)
            part.replace(target)
            sums[item.name] = digest
    finally:
        close()
        if own:
            client.close()
    return sums
