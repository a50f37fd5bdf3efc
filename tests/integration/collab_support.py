"""Builders shared by the collaboration tests: a project with readers, label maps, AI proposals."""
from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
from tests.helpers import add_study, raw_labels

SHAPE = (4, 24, 28)
SPACING = (0.8, 0.8, 2.5)  # x, y, z of tests.helpers.synthetic_volume


def team(app, admin_api, make_user, login, *, readers=("ann", "bob"), reviewer="rev",
         settings=None):  # type: ignore[no-untyped-def]
    """A project with annotators ``readers`` and one reviewer; returns (pid, {name: Api})."""
    pid = admin_api.post("/api/projects", json={"name": "collab",
                                                "settings": settings or {}}).json()["id"]
    apis = {}
    for name, role in [*[(r, "annotator") for r in readers], (reviewer, "reviewer")]:
        make_user(name)
        r = admin_api.post(f"/api/projects/{pid}/members", json={"username": name, "role": role})
        assert r.status_code == 201, r.text
        apis[name] = login(name)
    return pid, apis


def study(app, pid, uid="2.25.7"):  # type: ignore[no-untyped-def]
    return add_study(app, pid, uid=uid, shape=SHAPE)


def save(api, sid, labels, base=None):  # type: ignore[no-untyped-def]
    return api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                    data={"base_version_id": "" if base is None else str(base), "format": "raw",
                          "message": "edit"})


def fetch(api, url) -> np.ndarray:  # type: ignore[no-untyped-def]
    r = api.get(url)
    assert r.status_code == 200, r.text
    data = np.asarray(nib.Nifti1Image.from_bytes(gzip.decompress(r.content)).dataobj)
    return np.transpose(data, (2, 1, 0))


def add_ai_version(app, sid, labels) -> int:  # type: ignore[no-untyped-def]
    """Store an ``ai`` proposal the way the ai-segment job does."""
    from lunglab.db.session import session_scope
    from lunglab.services.labels.labelmaps import save_version

    with session_scope(app.state.settings.resolved_database_url) as db:
        v = save_version(db, app.state.store, None, sid, labels, base_version_id=None,
                         kind="ai", model_name="test-model", check_base=False)
        return int(v.id)


def box(value: int, z=slice(1, 3), y=slice(4, 12), x=slice(4, 12)) -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[z, 2:20, 2:26] = 1
    labels[z, y, x] = value
    return labels


def delete(api, url):  # type: ignore[no-untyped-def]
    """DELETE with the CSRF header (the shared ``Api`` wrapper has no ``delete``)."""
    return api.client.delete(url, headers={"X-CSRF-Token": api.client.cookies.get("lunglab_csrf")})
