"""Smart click endpoint (issue 18): changed slices back, bad input refused, clicks in provenance.

The model is replaced by a stand-in that draws a disc around a positive click and clears the
lesion around a negative one, so these tests check the plumbing; tests/unit/ml/test_interactive.py
checks the shipped network itself.
"""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from tests.helpers import add_study, raw_labels

SHAPE = (6, 32, 40)


class DiscModel:
    meta = {"name": "disc-stand-in"}

    def correct(self, hu, lesion, spacing_yx, clicks):  # type: ignore[no-untyped-def]
        yy, xx = np.mgrid[0:lesion.shape[0], 0:lesion.shape[1]]
        out = lesion.astype(bool).copy()
        c = clicks[-1]
        disc = (yy - c.y) ** 2 + (xx - c.x) ** 2 <= 9
        out[disc] = c.positive
        return out


@pytest.fixture
def disc_model(monkeypatch):  # type: ignore[no-untyped-def]
    from lunglab.services.labels import smart_click

    monkeypatch.setattr(smart_click, "click_model", lambda: DiscModel())


def _click(api, sid, planes, zs, clicks, three_d=True):  # type: ignore[no-untyped-def]
    return api.post(f"/api/studies/{sid}/smart-click", files={"file": raw_labels(planes)},
                    data={"slices": ",".join(map(str, zs)), "clicks": json.dumps(clicks),
                          "three_d": "true" if three_d else "false"})


def test_positive_click_returns_changed_slices_and_save_counts_clicks(app, admin_api, disc_model):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    labels = np.zeros(SHAPE, np.uint8)
    labels[:, 6:26, 5:18] = 1  # lung
    v0 = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                        data={"base_version_id": "", "format": "raw"}).json()["id"]
    zs = [1, 2, 3, 4]
    # in aerated lung (-850 HU) the answer stays on its slice: the walk needs lesion density
    r = _click(admin_api, sid, labels[1:5], zs, [{"x": 10, "y": 15, "z": 2, "positive": True}])
    assert r.status_code == 200, r.text
    assert r.headers["X-Slices"] == "2"
    plane = np.frombuffer(gzip.decompress(r.content), np.uint8).reshape(SHAPE[1:])
    assert plane[15, 10] == 2  # new lesion in aerated lung: GGO by its mean HU
    assert (plane != labels[2]).sum() <= 29  # only the disc changed
    # between the lungs (soft tissue, 40 HU) it is dense: consolidation, carried to every slice
    r = _click(admin_api, sid, labels[1:5], zs, [{"x": 20, "y": 15, "z": 2, "positive": True}])
    assert r.status_code == 200, r.text
    assert r.headers["X-Model"] == "disc-stand-in" and "model;dur=" in r.headers["Server-Timing"]
    changed = [int(z) for z in r.headers["X-Slices"].split(",")]
    assert changed == zs
    planes = np.frombuffer(gzip.decompress(r.content), np.uint8).reshape(len(changed), *SHAPE[1:])
    assert all(p[15, 20] == 3 for p in planes)
    new = labels.copy()
    for z, p in zip(changed, planes, strict=True):
        new[z] = p
    # a save says how it was made; the history counts clicks next to brush strokes
    r = admin_api.post(f"/api/studies/{sid}/versions",
                       files={"file": raw_labels(new[changed])},
                       data={"base_version_id": str(v0), "format": "slices",
                             "slices": ",".join(map(str, changed)),
                             "edit_counts": json.dumps({"smart_clicks": 1, "brush_strokes": 2})})
    assert r.status_code == 201, r.text
    hist = admin_api.get(f"/api/studies/{sid}/history").json()
    mine = next(v for v in hist["versions"] if v["id"] == r.json()["id"])
    assert mine["edit_counts"] == {"smart_clicks": 1, "brush_strokes": 2}


def test_negative_click_clears_lesion_on_one_slice(app, admin_api, disc_model):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    labels = np.zeros(SHAPE, np.uint8)
    labels[:, 6:26, 5:18] = 1
    labels[2, 12:18, 8:13] = 2
    r = _click(admin_api, sid, labels[2:3], [2], [{"x": 10, "y": 15, "z": 2, "positive": False}],
               three_d=False)
    assert r.status_code == 200, r.text
    assert r.headers["X-Slices"] == "2"
    plane = np.frombuffer(gzip.decompress(r.content), np.uint8).reshape(SHAPE[1:])
    assert plane[15, 10] == 1 and plane[12, 8] == 2  # inside the disc lung again, outside kept


@pytest.mark.parametrize("clicks, zs, why", [
    ([], [2], "1 to"),
    ([{"x": 10, "y": 15, "z": 4}], [2], "clicked slice"),
    ([{"x": 99, "y": 15, "z": 2}], [2], "outside"),
    ([{"x": 1, "y": 1, "z": 2}, {"x": 1, "y": 1, "z": 3}], [2, 3], "clicked slice"),
    ("not json", [2], "JSON"),
    ([{"x": 10, "y": 15, "z": 2}], [1, 3], "consecutive"),
])
def test_bad_clicks_are_422(app, admin_api, disc_model, clicks, zs, why):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    planes = np.zeros((len(zs), *SHAPE[1:]), np.uint8)
    r = admin_api.post(f"/api/studies/{sid}/smart-click", files={"file": raw_labels(planes)},
                       data={"slices": ",".join(map(str, zs)),
                             "clicks": clicks if isinstance(clicks, str) else json.dumps(clicks)})
    assert r.status_code == 422, r.text
    assert why in r.text


def test_bad_edit_counts_are_422(app, admin_api):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    for bad in ('{"smart_clicks": -1}', '{"hacks": 1}', "[1]", "{", '{"smart_clicks": true}'):
        r = admin_api.post(f"/api/studies/{sid}/versions",
                           files={"file": raw_labels(np.zeros(SHAPE, np.uint8))},
                           data={"base_version_id": "", "format": "raw", "edit_counts": bad})
        assert r.status_code == 422, (bad, r.text)


def test_warm_loads_the_model_and_ct(app, admin_api, make_user, login, disc_model):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    r = admin_api.post(f"/api/studies/{sid}/smart-click/warm", json={})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "disc-stand-in" and r.json()["ms"] >= 0
    make_user("outsider")
    assert login("outsider").post(f"/api/studies/{sid}/smart-click/warm",
                                  json={}).status_code in (403, 404)


def test_other_projects_study_is_hidden(app, admin_api, make_user, login, disc_model):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=SHAPE)
    make_user("stranger")
    r = _click(login("stranger"), sid, np.zeros((1, *SHAPE[1:]), np.uint8), [2],
               [{"x": 10, "y": 15, "z": 2}])
    assert r.status_code in (403, 404)
