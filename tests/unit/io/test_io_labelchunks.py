"""Content-addressed slice storage of label maps."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lunglab.io import labelchunks
from lunglab.io.store import LocalVolumeStore


@pytest.fixture()
def store(tmp_path):  # type: ignore[no-untyped-def]
    return LocalVolumeStore(tmp_path / "store")


def _files(store) -> list:  # type: ignore[no-untyped-def]
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def test_volume_roundtrip_and_shared_slices(store):
    labels = np.random.default_rng(0).integers(0, 4, (5, 16, 12), dtype=np.uint8)
    labels[3] = labels[1]  # two equal slices are stored once
    digests = labelchunks.put_volume(store, 7, labels)
    assert len(digests) == 5 and digests[1] == digests[3]
    assert len(_files(store)) == 4
    assert np.array_equal(labelchunks.read_volume(store, 7, digests, labels.shape), labels)
    assert digests[0] == hashlib.sha256(labels[0].tobytes()).hexdigest()
    # the same map again writes nothing new; another study keeps its own files
    assert labelchunks.put_volume(store, 7, labels, known=digests) == digests
    assert len(_files(store)) == 4
    labelchunks.put_volume(store, 8, labels)
    assert len(_files(store)) == 8


def test_labels_digest_depends_on_voxels_and_order(store):
    a = np.zeros((3, 4, 4), np.uint8)
    b = a.copy()
    b[2, 1, 1] = 1
    da, db_ = labelchunks.put_volume(store, 1, a), labelchunks.put_volume(store, 1, b)
    assert labelchunks.labels_digest(da) != labelchunks.labels_digest(db_)
    assert labelchunks.labels_digest(da) == labelchunks.labels_digest(list(da))
    assert labelchunks.labels_digest(db_) != labelchunks.labels_digest(db_[::-1])


def test_damaged_or_missing_slices_are_named(store):
    labels = np.ones((2, 8, 8), np.uint8)
    labels[1] = 2
    d = labelchunks.put_volume(store, 3, labels)
    path = store.local_path(labelchunks.chunk_key(3, d[1]))
    import gzip

    path.write_bytes(gzip.compress(bytes(64)))  # readable, wrong content
    assert labelchunks.read_slice(store, 3, d[1], (8, 8)).max() == 0  # not checked by default
    with pytest.raises(labelchunks.ChunkError, match="does not match its digest"):
        labelchunks.read_slice(store, 3, d[1], (8, 8), verify=True)
    path.write_bytes(b"not gzip")
    with pytest.raises(labelchunks.ChunkError, match="unreadable"):
        labelchunks.read_volume(store, 3, d, (2, 8, 8))
    path.unlink()
    with pytest.raises(labelchunks.ChunkError, match="missing"):
        labelchunks.read_volume(store, 3, d, (2, 8, 8))
    with pytest.raises(labelchunks.ChunkError, match="has 64 bytes, expected 63"):
        labelchunks.read_slice(store, 3, d[0], (7, 9))
    with pytest.raises(labelchunks.ChunkError, match="manifest has 2 slices"):
        labelchunks.read_volume(store, 3, d, (3, 8, 8))


def test_chunk_keys_are_never_built_from_arbitrary_text():
    with pytest.raises(ValueError):
        labelchunks.chunk_key(1, "../../etc/passwd")
    with pytest.raises(ValueError):
        labelchunks.chunk_key(1, "A" * 64)
