"""Label maps stored as content-addressed axial slices in the database.

A label-map version is a list of slice digests (its *manifest*), one per z. Each slice is
stored once per study, gzip-compressed, in ``labelmap_slices`` under the SHA-256 of its raw
uint8 bytes. A save that changed eight slices adds at most eight small rows, in the same
transaction as the version that needs them: a version and its slices are committed together
or not at all, and a refused save leaves nothing behind. Label maps are annotations, so they
live in the database (as CVAT keeps its shapes); images stay in the file store.

The version's digest (``labels_digest``) is the SHA-256 of the concatenated slice digests: two
versions with the same voxels have the same digest, whatever the encoding.

Example:
    >>> digests, pending = encode_slices(labels)                 # doctest: +SKIP
    >>> add_slices(db, study_id, pending)                        # doctest: +SKIP
    >>> labels_again = read_volume(db, study_id, digests, labels.shape)  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
from isal import igzip, isal_zlib
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import LabelMapSlice


class SliceError(ValueError):
    """A slice is missing or does not hold what its digest says."""


def slice_digest(plane: np.ndarray) -> str:
    """SHA-256 (hex) of a slice's raw uint8 bytes."""
    return hashlib.sha256(np.ascontiguousarray(plane, np.uint8).data).hexdigest()


def labels_digest(digests: Sequence[str]) -> str:
    """The version's content digest: SHA-256 over its slice digests in z order."""
    h = hashlib.sha256()
    for d in digests:
        h.update(bytes.fromhex(d))
    return h.hexdigest()


def inflate(data: bytes) -> bytes:
    """gzip data inflated. One member (what browsers, gzip and ``encode_slices`` write) goes
    through a decompress object, 2-5x faster than ``igzip.decompress``; several members take
    that slower way.

    Raises:
        ValueError: not gzip data, or truncated.
    """
    try:
        stream = isal_zlib.decompressobj(wbits=31)
        out = stream.decompress(data)
        if not stream.eof:
            raise ValueError("compressed data ended before the end-of-stream marker")
        return out if not stream.unused_data else igzip.decompress(data)
    # isal's stubs declare ``error: Exception`` (an instance); at runtime it is the class
    # IsalError
    except (OSError, EOFError, isal_zlib.error) as exc:  # type: ignore[misc]
        raise ValueError(str(exc)) from None


def encode_slices(planes: Iterable[np.ndarray], known: Iterable[str] = ()
                  ) -> tuple[list[str], dict[str, bytes]]:
    """Digest every slice; compress those not in ``known`` (slices already stored).

    Returns the digests in order and the compressed slices still to be added.
    """
    have = set(known)
    digests: list[str] = []
    pending: dict[str, bytes] = {}
    for plane in planes:
        raw = np.ascontiguousarray(plane, np.uint8)
        d = slice_digest(raw)
        if d not in have and d not in pending:
            pending[d] = igzip.compress(raw.data, 1)
        digests.append(d)
    return digests, pending


def add_slices(db: Session, study_id: int, pending: dict[str, bytes]) -> None:
    """Insert the slices in the caller's transaction; ones already stored are skipped."""
    if not pending:
        return
    rows = [{"study_id": study_id, "digest": d, "data": b} for d, b in pending.items()]
    key = ["study_id", "digest"]
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        db.execute(postgresql.insert(LabelMapSlice).on_conflict_do_nothing(index_elements=key),
                   rows)
    else:
        from sqlalchemy.dialects import sqlite

        db.execute(sqlite.insert(LabelMapSlice).on_conflict_do_nothing(index_elements=key), rows)


def _decode(study_id: int, digest: str, data: bytes | None, shape_yx: tuple[int, int],
            verify: bool) -> np.ndarray:
    if data is None:
        raise SliceError(f"slice {digest[:12]} of study {study_id} is missing")
    try:
        raw = inflate(data)
    except ValueError as exc:
        raise SliceError(f"slice {digest[:12]} of study {study_id} is unreadable ({exc})") from None
    if len(raw) != shape_yx[0] * shape_yx[1]:
        raise SliceError(f"slice {digest[:12]} of study {study_id} has {len(raw)} bytes, "
                         f"expected {shape_yx[0] * shape_yx[1]}")
    if verify and hashlib.sha256(raw).hexdigest() != digest:
        raise SliceError(f"slice {digest[:12]} of study {study_id} does not match its digest")
    return np.frombuffer(raw, np.uint8).reshape(shape_yx)


def read_slices(db: Session, study_id: int, digests: Iterable[str], shape_yx: tuple[int, int],
                *, verify: bool = False) -> dict[str, np.ndarray]:
    """The named slices as uint8 ``[y, x]`` arrays, by digest.

    Raises:
        SliceError: a slice is missing, unreadable, of the wrong size, or (with ``verify``)
            does not match its digest.
    """
    wanted = sorted(set(digests))
    rows: dict[str, bytes] = {}
    for i in range(0, len(wanted), 500):  # bounded IN lists
        rows.update(db.execute(select(LabelMapSlice.digest, LabelMapSlice.data).where(
            LabelMapSlice.study_id == study_id,
            LabelMapSlice.digest.in_(wanted[i:i + 500]))).tuples().all())
    return {d: _decode(study_id, d, rows.get(d), shape_yx, verify) for d in wanted}


def read_volume(db: Session, study_id: int, digests: Sequence[str],
                shape: tuple[int, int, int], *, verify: bool = False) -> np.ndarray:
    """The whole label map ``[z, y, x]`` from its manifest (each distinct slice read once)."""
    if len(digests) != shape[0]:
        raise SliceError(f"manifest has {len(digests)} slices, the study has {shape[0]}")
    planes = read_slices(db, study_id, digests, (shape[1], shape[2]), verify=verify)
    out = np.empty(shape, np.uint8)
    for z, d in enumerate(digests):
        out[z] = planes[d]
    return out
