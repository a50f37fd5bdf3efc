"""Label maps stored as content-addressed axial slices.

A label-map version is a list of slice digests (its *manifest*), one per z. Each slice is
stored once per study as a gzip file named by the SHA-256 of its raw uint8 bytes
(``labelchunks/<study>/<d[:2]>/<digest>.gz``). A save that changed ten slices writes ten small
files and a manifest, never the whole volume again; every version stays complete and
immutable, and unchanged slices are shared between versions.

The version's digest (``labels_digest``) is the SHA-256 of the concatenated slice digests: two
versions with the same voxels have the same digest, whatever the encoding.

Example:
    >>> digests = put_volume(store, 12, labels)        # doctest: +SKIP
    >>> labels_again = read_volume(store, 12, digests, (141, 512, 512))  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
from isal import igzip

from lunglab.io.store import VolumeStore

PREFIX = "labelchunks"


class ChunkError(ValueError):
    """A stored slice is missing or does not hold what its digest says."""


def slice_digest(plane: np.ndarray) -> str:
    """SHA-256 (hex) of a slice's raw uint8 bytes."""
    return hashlib.sha256(np.ascontiguousarray(plane, np.uint8).data).hexdigest()


def chunk_key(study_id: int, digest: str) -> str:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a slice digest: {digest!r}")
    return f"{PREFIX}/{int(study_id)}/{digest[:2]}/{digest}.gz"


def labels_digest(digests: Sequence[str]) -> str:
    """The version's content digest: SHA-256 over its slice digests in z order."""
    h = hashlib.sha256()
    for d in digests:
        h.update(bytes.fromhex(d))
    return h.hexdigest()


def put_slices(store: VolumeStore, study_id: int, planes: Iterable[np.ndarray]) -> list[str]:
    """Store each slice unless an identical one is already there; return their digests.

    Every write is atomic and fsynced (``VolumeStore.put_bytes``), so a digest returned here
    names a complete file once the call returns.
    """
    out = []
    for plane in planes:
        raw = np.ascontiguousarray(plane, np.uint8)
        digest = slice_digest(raw)
        key = chunk_key(study_id, digest)
        if not store.exists(key):
            store.put_bytes(key, igzip.compress(raw.data, 1))
        out.append(digest)
    return out


def put_volume(store: VolumeStore, study_id: int, labels: np.ndarray,
               known: Sequence[str] | None = None) -> list[str]:
    """Store a whole ``[z, y, x]`` label map slice by slice; return the manifest.

    Args:
        known: a manifest of the same study (the base version): slices equal to it are only
            hashed, not looked up or written again.
    """
    digests = []
    for z in range(labels.shape[0]):
        plane = np.ascontiguousarray(labels[z], np.uint8)
        d = slice_digest(plane)
        if known is None or z >= len(known) or known[z] != d:
            d = put_slices(store, study_id, [plane])[0]
        digests.append(d)
    return digests


def read_slice(store: VolumeStore, study_id: int, digest: str,
               shape_yx: tuple[int, int], *, verify: bool = False) -> np.ndarray:
    """One stored slice as uint8 ``[y, x]``.

    Raises:
        ChunkError: missing, unreadable, of the wrong size, or (with ``verify``) not matching
            its digest.
    """
    key = chunk_key(study_id, digest)
    try:
        with store.open(key) as fh:
            raw = igzip.decompress(fh.read())
    except FileNotFoundError:
        raise ChunkError(f"slice {digest[:12]} of study {study_id} is missing") from None
    except (OSError, EOFError, ValueError) as exc:
        raise ChunkError(f"slice {digest[:12]} of study {study_id} is unreadable ({exc})") from None
    if len(raw) != shape_yx[0] * shape_yx[1]:
        raise ChunkError(f"slice {digest[:12]} of study {study_id} has {len(raw)} bytes, "
                         f"expected {shape_yx[0] * shape_yx[1]}")
    if verify and hashlib.sha256(raw).hexdigest() != digest:
        raise ChunkError(f"slice {digest[:12]} of study {study_id} does not match its digest")
    return np.frombuffer(raw, np.uint8).reshape(shape_yx)


def read_volume(store: VolumeStore, study_id: int, digests: Sequence[str],
                shape: tuple[int, int, int], *, verify: bool = False) -> np.ndarray:
    """The whole label map ``[z, y, x]`` from its manifest (each distinct slice read once)."""
    if len(digests) != shape[0]:
        raise ChunkError(f"manifest has {len(digests)} slices, the study has {shape[0]}")
    out = np.empty(shape, np.uint8)
    seen: dict[str, int] = {}
    for z, d in enumerate(digests):
        if d in seen:
            out[z] = out[seen[d]]
            continue
        out[z] = read_slice(store, study_id, d, (shape[1], shape[2]), verify=verify)
        seen[d] = z
    return out


def referenced_keys(study_id: int, digests: Iterable[str]) -> set[str]:
    return {chunk_key(study_id, d) for d in digests}
