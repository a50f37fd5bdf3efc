"""Chest radiographs in a CT project: import (CR/DX DICOM, PNG), one-slice label maps,
findings and scores per reader with blinding, agreement (kappa, ICC), exports, audit."""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import add_study, raw_labels
from tests.integration.collab_support import fetch, team
from tests.radiograph_factory import make_radiograph, picture_png

from lunglab.imaging.rater_agreement import cohen_kappa, icc

SHAPE = (1, 256, 320)


def _files(paths: list[Path]) -> list:
    return [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]


def _import(api, pid: int, paths: list[Path]) -> list[dict]:  # type: ignore[no-untyped-def]
    r = api.post(f"/api/projects/{pid}/import", files=_files(paths))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _lungs() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[0, 60:200, 60:140] = 1
    labels[0, 60:200, 180:260] = 1
    labels[0, 150:190, 80:120] = 2
    labels[0, 160:180, 200:230] = 3
    return labels


@pytest.fixture
def project(app, admin_api, make_user, login, tmp_path):  # type: ignore[no-untyped-def]
    pid, apis = team(app, admin_api, make_user, login, readers=("ann", "bob"))
    dx = make_radiograph(tmp_path / "in" / "dx.dcm", modality="DX").path
    cr = make_radiograph(tmp_path / "in" / "cr.dcm", modality="CR",
                         photometric="MONOCHROME1", text=True).path
    png = tmp_path / "in" / "CR.1.2.840.99.png"
    picture_png(png)
    results = _import(admin_api, pid, [dx, cr, png])
    assert [r["status"] for r in results] == ["imported"] * 3, results
    sids = {r["name"].split()[0]: r["study_id"] for r in results}
    return pid, apis, sids


def test_radiographs_are_one_slice_studies_with_their_modality(app, admin_api, project):  # type: ignore[no-untyped-def]
    pid, _, sids = project
    add_study(app, pid, uid="2.25.77")  # a CT next to them
    rows = {s["id"]: s for s in admin_api.get(f"/api/projects/{pid}/studies").json()["data"]}
    assert {rows[sids[m]]["modality"] for m in ("DX", "CR", "XR")} == {"DX", "CR", "XR"}
    assert "CT" in {s["modality"] for s in rows.values()}
    assert rows[sids["DX"]]["shape"] == list(SHAPE) and rows[sids["DX"]]["slice_count"] == 1
    view = admin_api.get(f"/api/studies/{sids['CR']}/radiograph").json()
    assert view["text_regions"] and not view["text_blacked_out"]
    assert view["ai"] == {"available": False, "model": None, "message": view["ai"]["message"]}
    assert "No AI model for radiographs yet" in view["ai"]["message"]
    ct = next(s["id"] for s in rows.values() if s["modality"] == "CT")
    assert admin_api.get(f"/api/studies/{ct}/radiograph").status_code == 422


def test_label_map_versions_work_on_one_slice(app, admin_api, project):  # type: ignore[no-untyped-def]
    _, _, sids = project
    sid = sids["DX"]
    r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(_lungs())},
                       data={"format": "raw", "base_version_id": ""})
    assert r.status_code == 201, r.text
    v1 = r.json()
    np.testing.assert_array_equal(fetch(admin_api, f"/api/versions/{v1['id']}/labels.nii.gz"),
                                  _lungs())
    edited = _lungs()
    edited[0, 100:110, 100:110] = 3
    r = admin_api.post(f"/api/studies/{sid}/versions", files={
        "file": ("s.raw.gz", gzip.compress(edited[0].tobytes()), "application/octet-stream")},
        data={"format": "slices", "slices": "0", "base_version_id": str(v1["id"])})
    assert r.status_code == 201, r.text
    np.testing.assert_array_equal(
        fetch(admin_api, f"/api/versions/{r.json()['id']}/labels.nii.gz"), edited)


def _read(api, sid: int, category: str, brixia: list[int] | None, rale: list[int] | None):  # type: ignore[no-untyped-def]
    return api.put(f"/api/studies/{sid}/radiograph/reading",
                   json={"category": category, "brixia": brixia, "rale": rale})


def test_readers_record_findings_blinded_then_agreement_kappa_and_icc(app, admin_api, project):  # type: ignore[no-untyped-def]
    pid, apis, sids = project
    ann, bob, rev = apis["ann"], apis["bob"], apis["rev"]
    order = [sids["DX"], sids["CR"], sids["XR"]]
    r = admin_api.post(f"/api/projects/{pid}/assignments/bulk",
                       json={"study_ids": order, "usernames": ["ann", "bob"]})
    assert r.status_code == 201, r.text
    plan = {"ann": [("typical", [1, 2, 3, 1, 2, 3], [2, 3]), ("normal", [0] * 6, [0, 0]),
                    ("indeterminate", [1, 1, 1, 0, 0, 0], [1, 0])],
            "bob": [("typical", [2, 2, 3, 1, 2, 2], [3, 3]), ("normal", [0] * 6, [0, 1]),
                    ("atypical", [1, 1, 0, 0, 0, 0], [1, 1])]}
    for name, api in (("ann", ann), ("bob", bob)):
        for sid, (cat, brixia, rale) in zip(order, plan[name], strict=True):
            r = _read(api, sid, cat, brixia, rale)
            assert r.status_code == 200, r.text
            assert r.json()["brixia_total"] == sum(brixia)
    # blinded: a reader sees only their own reading; the reviewer sees both
    view = ann.get(f"/api/studies/{sids['DX']}/radiograph").json()
    assert [x["reader"] for x in view["readings"]] == ["ann"]
    assert view["my_reading"]["category"] == "typical"
    assert sorted(x["reader"] for x in rev.get(
        f"/api/studies/{sids['DX']}/radiograph").json()["readings"]) == ["ann", "bob"]
    # readers cannot see the project's agreement; bad input is refused
    assert ann.get(f"/api/projects/{pid}/radiograph-agreement").status_code == 403
    assert _read(ann, sids["DX"], "maybe", None, None).status_code == 422
    assert _read(ann, sids["DX"], "typical", [4, 0, 0, 0, 0, 0], None).status_code == 422
    assert _read(ann, sids["DX"], "typical", [1, 0], None).status_code == 422

    agreement = rev.get(f"/api/projects/{pid}/radiograph-agreement").json()
    assert agreement["studies_compared"] == 3
    cats = ["normal", "typical", "indeterminate", "atypical"]
    a = [cats.index(c) for c, _, _ in plan["ann"]]
    b = [cats.index(c) for c, _, _ in plan["bob"]]
    (pair,) = agreement["category"]["pairs"]
    assert pair["cohen_kappa"] == pytest.approx(cohen_kappa(a, b, 4), abs=1e-4)
    assert pair["agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert agreement["category"]["fleiss_kappa"] is not None
    scores = np.array([[sum(x[1]) for x in plan[n]] for n in ("ann", "bob")]).T
    assert agreement["brixia"]["icc"] == pytest.approx(icc(scores), abs=1e-4)
    assert agreement["brixia"]["studies"] == 3 and agreement["brixia"]["readers"] == ["ann", "bob"]
    assert agreement["rale"]["icc"] is not None

    # a submitted reading is frozen
    sid = sids["DX"]
    assert ann.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(_lungs())},
                    data={"format": "raw", "base_version_id": ""}).status_code == 201
    aid = next(x["id"] for x in ann.get("/api/me/assignments").json()["data"]
               if x["study_id"] == sid)
    assert ann.post(f"/api/assignments/{aid}/start").status_code == 200
    assert ann.post(f"/api/assignments/{aid}/submit", json={}).status_code == 200
    assert _read(ann, sid, "normal", None, None).status_code == 409
    assert ann.get(f"/api/studies/{sid}/radiograph").json()["can_edit"] is False

    # every save is audited with its values
    from lunglab.db.models import AuditEvent
    from lunglab.db.session import session_scope

    with session_scope(app.state.settings.resolved_database_url) as db:
        saves = db.query(AuditEvent).filter(AuditEvent.action == "radiograph.reading_save").all()
        assert len(saves) == 6 and {e.actor for e in saves} == {"ann", "bob"}

    # CSV of findings and scores (admins)
    text = admin_api.get(f"/api/projects/{pid}/exports/radiograph-findings.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    first = next(r for r in rows if r["reader"] == "bob" and int(r["study_id"]) == order[0])
    assert first["category"] == "typical" and first["brixia_total"] == "12"
    assert first["brixia_A"] == "2" and first["rale_left"] == "3"
    assert ann.get(f"/api/projects/{pid}/exports/radiograph-findings.csv").status_code == 403


def test_mask_png_and_dicom_seg_exports(app, admin_api, project, tmp_path):  # type: ignore[no-untyped-def]
    import highdicom as hd
    from PIL import Image

    _, _, sids = project
    vids = {}
    for key in ("DX", "XR"):
        r = admin_api.post(f"/api/studies/{sids[key]}/versions",
                           files={"file": raw_labels(_lungs())},
                           data={"format": "raw", "base_version_id": ""})
        vids[key] = r.json()["id"]
    png = admin_api.get(f"/api/exports/versions/{vids['XR']}/mask.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png.content))), _lungs()[0])
    seg = admin_api.get(f"/api/exports/versions/{vids['DX']}/radiograph-seg.dcm")
    assert seg.status_code == 200, seg.text
    path = tmp_path / "seg.dcm"
    path.write_bytes(seg.content)
    s = hd.seg.segread(path)
    assert s.Modality == "SEG" and len(s.SegmentSequence) == 3
    lung = s.get_pixels_by_source_instance(
        [s.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID],
        segment_numbers=[1]) if hasattr(s, "get_pixels_by_source_instance") else None
    if lung is not None:
        assert lung[0, ..., 0].sum() == int((_lungs()[0] > 0).sum())
    for marker in (b"Doe", b"PAT-0042", b"General Hospital"):
        assert marker not in seg.content
    assert admin_api.get(
        f"/api/exports/versions/{vids['XR']}/radiograph-seg.dcm").status_code == 422


def test_radiographs_train_the_radiograph_model_never_the_ct_one(app, admin_api, project):  # type: ignore[no-untyped-def]
    from lunglab.db.session import session_scope
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.training.data import approved_versions

    pid, _, sids = project
    with session_scope(app.state.settings.resolved_database_url) as db:
        save_version(db, app.state.store, None, sids["DX"], _lungs(), base_version_id=None,
                     kind="imported", check_base=False)
    with session_scope(app.state.settings.resolved_database_url) as db:
        assert sids["DX"] not in approved_versions(db, pid)
        assert list(approved_versions(db, pid, "xr")) == [sids["DX"]]  # the radiograph recipe's


def test_black_out_setting_and_no_ai_job_on_import(app, admin_api, tmp_path):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "bo", "settings": {
        "radiograph_black_out_text": True, "auto_segment_on_import": True}}).json()["id"]
    r = make_radiograph(tmp_path / "t.dcm", text=True)
    (res,) = _import(admin_api, pid, [r.path])
    view = admin_api.get(f"/api/studies/{res['study_id']}/radiograph").json()
    assert view["text_blacked_out"] is True
    assert any("blacked out" in w for w in res["warnings"])
    jobs = admin_api.get("/api/queue").json()
    assert not any(j.get("study_id") == res["study_id"] for q in jobs["queues"].values()
                   for j in q)
