"""Volume and label-map storage behind a small ``VolumeStore`` protocol.

Keys are built by LungLab (``studies/12/ct.nii.gz``), never from user input. Writes are atomic:
a temporary file in the same folder, fsync, then ``os.replace``; a crash leaves either the old
state or the new one, never a half-written file.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from lunglab.core.settings import Settings

_KEY = re.compile(r"^[a-z0-9_]+(/[A-Za-z0-9_.-]+)*$")


class VolumeStore(Protocol):
    """Where study volumes and label maps live."""

    def put_file(self, key: str, src: Path) -> str:
        """Store a copy of ``src`` under ``key`` atomically; return its SHA-256."""
        ...

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` atomically; return its SHA-256."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading."""
        ...

    def local_path(self, key: str) -> Path:
        """A local file path with the object's bytes (for libraries that need a path)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def checksum(self, key: str) -> str:
        """SHA-256 of the stored bytes, recomputed."""
        ...


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class LocalVolumeStore:
    """A ``VolumeStore`` in a local folder (``<data_dir>/store``).

    Example:
        >>> store = LocalVolumeStore(Path("/tmp/lunglab-store"))
        >>> digest = store.put_bytes("studies/1/ct.nii.gz", b"...")
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def _atomic_write(self, key: str, write) -> str:  # type: ignore[no-untyped-def]
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh, h)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return h.hexdigest()

    def put_bytes(self, key: str, data: bytes) -> str:
        def write(fh, h):  # type: ignore[no-untyped-def]
            fh.write(data)
            h.update(data)

        return self._atomic_write(key, write)

    def put_file(self, key: str, src: Path) -> str:
        def write(fh, h):  # type: ignore[no-untyped-def]
            with open(src, "rb") as sf:
                while block := sf.read(1 << 20):
                    fh.write(block)
                    h.update(block)

        return self._atomic_write(key, write)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def checksum(self, key: str) -> str:
        return sha256_file(self._path(key))

    def remove_temporaries(self, max_age_s: float = 3600) -> int:
        """Delete ``.tmp-*`` leftovers of writes interrupted by a crash; return how many.

        Only temporaries not modified for ``max_age_s`` seconds are removed: a younger one may
        be a write in flight in another process (a CLI import while the server starts).
        """
        n = 0
        cutoff = time.time() - max_age_s
        for tmp in self.root.rglob(".tmp-*"):
            try:
                if tmp.stat().st_mtime >= cutoff:
                    continue
                tmp.unlink()
            except FileNotFoundError:  # renamed or removed by its writer meanwhile
                continue
            n += 1
        return n


STORES = {"local": LocalVolumeStore}


def store_for(settings: Settings) -> VolumeStore:
    """The store of a LungLab installation: ``<data_dir>/store`` on the local disk."""
    return make_store("local", settings.data_dir / "store")


def make_store(kind: str, root: Path) -> VolumeStore:
    """Build the configured store (``local``; an S3-compatible one can be registered later)."""
    try:
        return STORES[kind](root)
    except KeyError:
        raise ValueError(f"unknown volume store {kind!r}; known: {sorted(STORES)}") from None
