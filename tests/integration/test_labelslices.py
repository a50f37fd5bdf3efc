"""Label maps as content-addressed slices in the database (SQLite and PostgreSQL)."""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update

from tests.helpers import add_study


def _rows(db, study_id=None) -> int:  # type: ignore[no-untyped-def]
    from lunglab.db.models import LabelMapSlice

    q = select(func.count()).select_from(LabelMapSlice)
    if study_id is not None:
        q = q.where(LabelMapSlice.study_id == study_id)
    return int(db.scalar(q))


def test_volume_roundtrip_and_shared_slices(app, admin_api):
    from lunglab.db.session import session_scope
    from lunglab.services.labels import slices as labelslices

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    s1, s2 = add_study(app, pid, shape=(5, 16, 12)), add_study(app, pid, uid="2.25.2",
                                                              shape=(5, 16, 12))
    labels = np.random.default_rng(0).integers(0, 4, (5, 16, 12), dtype=np.uint8)
    labels[3] = labels[1]  # two equal slices are stored once
    with session_scope(app.state.settings.resolved_database_url) as db:
        digests, pending = labelslices.encode_slices(labels)
        assert len(digests) == 5 and digests[1] == digests[3] and len(pending) == 4
        assert digests[0] == hashlib.sha256(labels[0].tobytes()).hexdigest()
        labelslices.add_slices(db, s1, pending)
        db.commit()
        assert np.array_equal(labelslices.read_volume(db, s1, digests, labels.shape), labels)
        # known slices are not compressed again; adding stored ones again is a no-op
        again, pending2 = labelslices.encode_slices(labels, digests)
        assert again == digests and pending2 == {}
        labelslices.add_slices(db, s1, pending)
        db.commit()
        assert _rows(db, s1) == 4
        labelslices.add_slices(db, s2, pending)  # another study keeps its own rows
        db.commit()
        assert (_rows(db, s1), _rows(db, s2)) == (4, 4)


def test_labels_digest_depends_on_voxels_and_order():
    from lunglab.services.labels import slices as labelslices

    a = np.zeros((3, 4, 4), np.uint8)
    b = a.copy()
    b[2, 1, 1] = 1
    da, db_ = labelslices.encode_slices(a)[0], labelslices.encode_slices(b)[0]
    assert labelslices.labels_digest(da) != labelslices.labels_digest(db_)
    assert labelslices.labels_digest(db_) != labelslices.labels_digest(db_[::-1])


def test_damaged_or_missing_slices_are_named(app, admin_api):
    from lunglab.db.models import LabelMapSlice
    from lunglab.db.session import session_scope
    from lunglab.services.labels import slices as labelslices

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(2, 8, 8))
    labels = np.ones((2, 8, 8), np.uint8)
    labels[1] = 2
    with session_scope(app.state.settings.resolved_database_url) as db:
        d, pending = labelslices.encode_slices(labels)
        labelslices.add_slices(db, sid, pending)
        db.commit()

        def set_data(data: bytes) -> None:
            db.execute(update(LabelMapSlice).where(LabelMapSlice.digest == d[1])
                       .values(data=data))
            db.commit()

        set_data(gzip.compress(bytes(64)))  # readable, wrong content
        assert labelslices.read_volume(db, sid, d, (2, 8, 8))[1].max() == 0  # unchecked read
        with pytest.raises(labelslices.SliceError, match="does not match its digest"):
            labelslices.read_volume(db, sid, d, (2, 8, 8), verify=True)
        set_data(b"not gzip")
        with pytest.raises(labelslices.SliceError, match="unreadable"):
            labelslices.read_volume(db, sid, d, (2, 8, 8))
        db.execute(delete(LabelMapSlice).where(LabelMapSlice.digest == d[1]))
        db.commit()
        with pytest.raises(labelslices.SliceError, match="missing"):
            labelslices.read_volume(db, sid, d, (2, 8, 8))
        with pytest.raises(labelslices.SliceError, match="has 64 bytes, expected 63"):
            labelslices.read_slices(db, sid, d[:1], (7, 9))
        with pytest.raises(labelslices.SliceError, match="manifest has 2 slices"):
            labelslices.read_volume(db, sid, d, (3, 8, 8))


def test_deleting_a_study_deletes_its_slices(app, admin_api):
    from lunglab.db.models import Study
    from lunglab.db.session import session_scope
    from lunglab.services.labels import slices as labelslices

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(2, 8, 8))
    with session_scope(app.state.settings.resolved_database_url) as db:
        labelslices.add_slices(db, sid, labelslices.encode_slices(np.ones((2, 8, 8),
                                                                          np.uint8))[1])
        db.commit()
        assert _rows(db, sid) == 1
        db.delete(db.get(Study, sid))
        db.commit()
        assert _rows(db, sid) == 0
