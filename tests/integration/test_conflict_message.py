"""The 409 of a stale save says who made the newer version, and never prints Python's None."""
from __future__ import annotations

import numpy as np
from tests.helpers import add_study, raw_labels

SHAPE = (3, 16, 20)


def _save(api, sid, labels, base=None):  # type: ignore[no-untyped-def]
    return api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                    data={"base_version_id": "" if base is None else str(base), "format": "raw"})


def test_conflict_names_the_author_and_an_empty_start(app, admin_api):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    a = np.zeros(SHAPE, np.uint8)
    a[0, 1, 1] = 1
    v1 = _save(admin_api, sid, a).json()["id"]
    r = _save(admin_api, sid, a)  # started from an empty map while v1 exists
    assert r.status_code == 409
    d = r.json()["detail"]
    assert "None" not in d["message"]
    assert "empty label map" in d["message"] and f"version {v1}" in d["message"]
    assert "by admin" in d["message"]
    assert d["latest_version_id"] == v1 and d["latest_author"] == "admin"
    assert d["latest_kind"] == "human" and d["latest_model_name"] is None
    v2 = _save(admin_api, sid, a, base=v1).json()["id"]
    d = _save(admin_api, sid, a, base=v1).json()["detail"]
    assert d["message"].startswith(f"version {v1} is no longer the newest; version {v2}")
