"""Two blinded readers, review, agreement (Dice/HD95/volumes), disagreement map, STAPLE and
majority consensus, approval, provenance with correction effort, and the project dashboard.

The label maps are boxes whose overlaps are known, so the metrics are checked exactly.
"""
from __future__ import annotations

import time

import numpy as np
from tests.integration.collab_support import add_ai_version, box, fetch, save, study, team

ANN = box(2, x=slice(4, 10))  # GGO 2x8x6 = 96 voxels
BOB = box(2, x=slice(6, 12))  # GGO 96 voxels, 64 shared with ann
AI = box(2, x=slice(4, 12))  # GGO 128 voxels


def _two_readers(app, admin_api, make_user, login):  # type: ignore[no-untyped-def]
    pid, apis = team(app, admin_api, make_user, login)
    sid = study(app, pid)
    ai = add_ai_version(app, sid, AI)
    r = admin_api.post(f"/api/projects/{pid}/assignments/bulk",
                       json={"study_ids": [sid], "usernames": ["ann", "bob"]})
    ids = {a["username"]: a["id"] for a in r.json()["data"]}
    return pid, sid, ai, ids, apis


def test_blinded_readers_review_agreement_consensus_history(app, admin_api, make_user, login):
    pid, sid, ai, aid, apis = _two_readers(app, admin_api, make_user, login)
    ann, bob, rev = apis["ann"], apis["bob"], apis["rev"]
    va = save(ann, sid, ANN, base=ai).json()["id"]
    vb = save(bob, sid, BOB, base=ai).json()["id"]
    # blinding: each reader sees the AI proposal and their own work only, never the other's
    assert [v["id"] for v in ann.get(f"/api/studies/{sid}/versions").json()["data"]] == [va, ai]
    assert ann.get(f"/api/versions/{vb}/labels.nii.gz").status_code == 404
    for listed in (ann.get(f"/api/studies/{sid}").json(),
                   ann.get(f"/api/projects/{pid}/studies").json()["data"][0]):
        assert (listed["latest_version_id"], listed["version_count"]) == (va, 2)
    assert rev.get(f"/api/studies/{sid}").json()["version_count"] == 3
    assert ann.get(f"/api/studies/{sid}/review").status_code == 403
    assert ann.get(f"/api/studies/{sid}/agreement").status_code == 403
    assert ann.get(f"/api/studies/{sid}/disagreement.nii.gz").status_code == 403
    assert bob.post(f"/api/studies/{sid}/comments", json={"text": "hi"}).status_code == 403
    # before anything is submitted, the reviewer has nothing to compare
    assert rev.get(f"/api/studies/{sid}/review").json()["readers"] == []
    assert rev.get(f"/api/studies/{sid}/agreement").status_code == 422
    for name in ("ann", "bob"):
        assert apis[name].post(f"/api/assignments/{aid[name]}/submit",
                               json={}).status_code == 200
    o = rev.get(f"/api/studies/{sid}/review").json()
    assert [(r["username"], r["version"]["id"]) for r in o["readers"]] == [("ann", va),
                                                                           ("bob", vb)]
    assert o["readers"][0]["version"]["voxel_counts"]["2"] == 96
    # agreement per label, checked against the known overlaps
    ag = rev.get(f"/api/studies/{sid}/agreement").json()
    by = {lab["label"]: lab for lab in ag["labels"]}
    ggo = by["2"]["pairs"][0]
    assert ggo["dice"] == round(2 * 64 / 192, 4)
    assert ggo["volume_diff_ml"] == 0.0 and ggo["volume_a_ml"] == round(96 * 1.6e-3, 3)
    assert ggo["hd95_mm"] == 1.6  # the boxes' x faces are 2 voxels of 0.8 mm apart
    assert by["1"]["pairs"][0]["dice"] == round(2 * 736 / 1536, 4)
    assert by["2+3"]["mean_dice"] == by["2"]["mean_dice"]
    assert by["3"]["pairs"][0]["dice"] is None  # nobody marked consolidation
    sens = [r["labels"]["2"]["sensitivity"] for r in ag["readers"]]
    assert sens[0] == sens[1] and 0 < sens[0] <= 1  # symmetric readers
    # disagreement map: exactly the voxels where the two readers differ
    dmap = fetch(rev, f"/api/studies/{sid}/disagreement.nii.gz")
    assert np.array_equal(dmap, (ANN != BOB).astype(np.uint8))
    # consensus by STAPLE and by majority vote, stored with their inputs
    st = rev.post(f"/api/studies/{sid}/consensus", json={"method": "staple"})
    assert st.status_code == 201, st.text
    assert st.json()["version"]["kind"] == "consensus"
    assert [i["version_id"] for i in st.json()["inputs"]] == [va, vb]
    assert set(st.json()["staple"]) == {"1", "2", "3", "2+3"}
    mv = rev.post(f"/api/studies/{sid}/consensus", json={"method": "majority"}).json()
    assert np.array_equal(fetch(rev, f"/api/versions/{mv['version']['id']}/labels.nii.gz"),
                          np.minimum(ANN, BOB))  # ties go to the lower label
    assert rev.post(f"/api/studies/{sid}/consensus",
                    json={"method": "vote"}).status_code == 422
    assert rev.post(f"/api/studies/{sid}/consensus",
                    json={"version_ids": [va]}).status_code == 422
    ag = rev.get(f"/api/studies/{sid}/agreement").json()
    assert ag["consensus"]["version_id"] == mv["version"]["id"]
    assert ag["readers"][0]["labels"]["2"]["dice_vs_consensus"] == 0.8  # 2*64/(96+64)
    # approve the consensus: both assignments approved, readers see the decision
    r = rev.post(f"/api/studies/{sid}/approve", json={"version_id": mv["version"]["id"],
                                                      "comment": "majority is fine"})
    assert r.status_code == 200, r.text
    seen = ann.get(f"/api/assignments/{aid['ann']}").json()
    assert seen["state"] == "approved" and seen["decisions"][-1]["comment"] == "majority is fine"
    # provenance: AI -> reader edit (submitted) -> approved consensus, with correction effort
    h = rev.get(f"/api/studies/{sid}/history").json()
    assert h["final_version_id"] == mv["version"]["id"] and h["ai_version_id"] == ai
    steps = {v["id"]: v["step"] for v in h["versions"]}
    assert steps == {ai: "ai", va: "submitted", vb: "submitted",
                     st.json()["version"]["id"]: "consensus", mv["version"]["id"]: "approved"}
    assert next(v for v in h["versions"] if v["id"] == mv["version"]["id"])["inputs"] == [va, vb]
    r_ann = next(r for r in h["readers"] if r["reader"] == "ann")
    assert r_ann["chain"] == [ai, va] and r_ann["start_from"] == "ai"
    eff = r_ann["effort"]["vs_ai"]
    assert eff["removed"] == {"1": 0, "2": 32, "3": 0}
    assert eff["added"] == {"1": 32, "2": 0, "3": 0} and eff["changed_voxels"] == 32
    # the annotator's history is blinded: only their own chain, no consensus inputs
    ha = ann.get(f"/api/studies/{sid}/history").json()
    assert [r["reader"] for r in ha["readers"]] == ["ann"]
    assert vb not in {v["id"] for v in ha["versions"]}
    assert all(v["inputs"] is None for v in ha["versions"])
    # dashboard: mean Dice by label, per reader, flags below the threshold
    d = rev.get(f"/api/projects/{pid}/agreement", params={"threshold": 0.7}).json()
    assert d["studies"] == 1
    assert {f["label"] for f in d["flagged"]} == {"2", "2+3"}
    lab = {x["label"]: x["mean_dice"] for x in d["by_label"]}
    assert lab["2"] == round(2 * 64 / 192, 4)
    ann_ggo = next(x for x in d["by_reader"] if x["reader"] == "ann" and x["label"] == "2")
    assert ann_ggo["mean_dice_vs_consensus"] == 0.8
    assert ann.get(f"/api/projects/{pid}/agreement").status_code == 403


def test_review_copy_approve_and_refusals(app, admin_api, make_user, login):
    pid, sid, ai, aid, apis = _two_readers(app, admin_api, make_user, login)
    ann, bob, rev = apis["ann"], apis["bob"], apis["rev"]
    va = save(ann, sid, ANN, base=ai).json()["id"]
    vb = save(bob, sid, BOB, base=ai).json()["id"]  # bob does not submit
    ann.post(f"/api/assignments/{aid['ann']}/submit", json={})
    # a reader's unsubmitted draft cannot be approved; a reader cannot approve at all
    assert rev.post(f"/api/studies/{sid}/approve", json={"version_id": vb}).status_code == 409
    assert ann.post(f"/api/studies/{sid}/approve", json={"version_id": va}).status_code == 403
    # the reviewer edits a copy of ann's version and approves it in one step
    fixed = ANN.copy()
    fixed[2, 4:12, 4:12] = 3
    from tests.helpers import raw_labels

    r = rev.post(f"/api/studies/{sid}/review-copies", files={"file": raw_labels(fixed)},
                 data={"base_version_id": str(va), "format": "raw", "approve": "true",
                       "message": "consolidation added"})
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["parent_id"] == va and copy["author"] == "rev"
    assert np.array_equal(fetch(rev, f"/api/versions/{copy['id']}/labels.nii.gz"), fixed)
    o = rev.get(f"/api/studies/{sid}/review").json()
    assert o["final_version_id"] == copy["id"]
    assert [v["id"] for v in o["other_versions"]] == [copy["id"]]
    states = {a["username"]: a["state"] for a in
              admin_api.get(f"/api/projects/{pid}/assignments").json()["data"]}
    assert states == {"ann": "approved", "bob": "in_progress"}
    h = rev.get(f"/api/studies/{sid}/history", params={"effort": "false"}).json()
    assert {v["id"]: v["step"] for v in h["versions"]}[copy["id"]] == "approved"
    # returning work that is not submitted is a conflict
    assert rev.post(f"/api/assignments/{aid['bob']}/return",
                    json={"comment": "x"}).status_code == 409


def test_second_submission_computes_agreement_in_the_background(app, admin_api, make_user,
                                                                login):
    from sqlalchemy import func, select

    from lunglab.db.models import Job
    from lunglab.db.models_collab import AgreementResult
    from lunglab.db.session import session_scope

    _pid, sid, ai, aid, apis = _two_readers(app, admin_api, make_user, login)
    url = app.state.settings.resolved_database_url
    save(apis["ann"], sid, ANN, base=ai)
    save(apis["bob"], sid, BOB, base=ai)

    def agreement_jobs() -> list:  # type: ignore[type-arg]
        with session_scope(url) as db:
            return list(db.execute(select(Job.id, Job.state).where(Job.kind == "agreement")))

    assert apis["ann"].post(f"/api/assignments/{aid['ann']}/submit", json={}).status_code == 200
    assert agreement_jobs() == []  # one submitted version: nothing to compare yet
    assert apis["bob"].post(f"/api/assignments/{aid['bob']}/submit", json={}).status_code == 200
    end = time.time() + 120
    while time.time() < end and [s for _, s in agreement_jobs()] != ["succeeded"]:
        assert all(s in ("queued", "running", "succeeded") for _, s in agreement_jobs())
        time.sleep(0.2)
    assert [s for _, s in agreement_jobs()] == ["succeeded"]
    with session_scope(url) as db:
        assert db.scalar(select(func.count()).select_from(AgreementResult)) == 1
    # the reviewer's first look is served from the cache: no second computation
    ag = apis["rev"].get(f"/api/studies/{sid}/agreement").json()
    assert {lab["label"] for lab in ag["labels"]} >= {"1", "2"}
    with session_scope(url) as db:
        assert db.scalar(select(func.count()).select_from(AgreementResult)) == 1
