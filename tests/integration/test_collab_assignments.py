"""Assignment board (by hand, bulk, automatic with N readers and quota), the reader's state
machine, the freeze after submit, start from AI or empty, and active-time heartbeats."""
from __future__ import annotations

from collections import Counter

from tests.integration.collab_support import add_ai_version, box, delete, save, study, team


def test_auto_assign_balances_load_and_respects_quota(app, admin_api, make_user, login):
    pid, apis = team(app, admin_api, make_user, login, readers=("ann", "bob", "cat"))
    sids = [study(app, pid, uid=f"2.25.{i}") for i in range(5)]
    # by hand first: ann already has study 0
    r = admin_api.post(f"/api/projects/{pid}/assignments/bulk",
                       json={"study_ids": [sids[0]], "usernames": ["ann"]})
    assert r.status_code == 201 and r.json()["count"] == 1
    r = admin_api.post(f"/api/projects/{pid}/assignments/auto", json={"readers_per_study": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["created"]) == 9 and body["unfilled"] == []
    rows = admin_api.get(f"/api/projects/{pid}/assignments").json()["data"]
    per_study = Counter(a["study_id"] for a in rows)
    assert all(per_study[s] == 2 for s in sids)
    load = Counter(a["username"] for a in rows)
    assert sorted(load.values()) == [3, 3, 4]  # 10 over 3 readers, never more than 1 apart
    assert all(len({a["username"] for a in rows if a["study_id"] == s}) == 2 for s in sids)
    # a quota leaves studies unfilled instead of overloading readers
    more = [study(app, pid, uid=f"2.25.9{i}") for i in range(2)]
    r = admin_api.post(f"/api/projects/{pid}/assignments/auto",
                       json={"readers_per_study": 3, "study_ids": more, "quota": 4})
    assert r.status_code == 201, r.text
    body = r.json()
    load = Counter(a["username"] for a in
                   admin_api.get(f"/api/projects/{pid}/assignments").json()["data"])
    assert max(load.values()) == 4
    assert sum(u["missing"] for u in body["unfilled"]) == 6 - len(body["created"])
    # validation and rights
    bad = admin_api.post(f"/api/projects/{pid}/assignments/auto", json={"readers_per_study": 6})
    assert bad.status_code == 422
    bad = admin_api.post(f"/api/projects/{pid}/assignments/bulk",
                         json={"study_ids": [sids[0]], "usernames": ["rev"]})
    assert bad.status_code == 422 and "blinded" in bad.json()["detail"]
    assert apis["ann"].post(f"/api/projects/{pid}/assignments/auto",
                            json={"readers_per_study": 1}).status_code == 403
    # blinding: an annotator lists only their own assignments and never others' names
    mine = apis["ann"].get(f"/api/projects/{pid}/assignments").json()["data"]
    assert mine and {a["username"] for a in mine} == {"ann"}
    other = next(a for a in rows if a["username"] == "bob")
    assert apis["ann"].get(f"/api/assignments/{other['id']}").status_code == 404
    assert apis["rev"].get(f"/api/assignments/{other['id']}").status_code == 200
    # an untouched assignment can be removed (by a project admin only)
    assert delete(apis["rev"], f"/api/assignments/{other['id']}").status_code == 403
    assert delete(admin_api, f"/api/assignments/{other['id']}").status_code == 204
    assert apis["rev"].get(f"/api/assignments/{other['id']}").status_code == 404


def test_reader_state_machine_freeze_return_and_time(app, admin_api, make_user, login):
    pid, apis = team(app, admin_api, make_user, login, readers=("ann",))
    sid = study(app, pid)
    ai = add_ai_version(app, sid, box(2))
    a = admin_api.post(f"/api/projects/{pid}/assignments",
                       json={"study_id": sid, "username": "ann"}).json()
    ann, rev = apis["ann"], apis["rev"]
    assert ann.get("/api/me/assignments").json()["data"][0]["state"] == "assigned"
    # nothing to submit yet; others cannot start or submit for the reader
    assert ann.post(f"/api/assignments/{a['id']}/submit", json={}).status_code == 409
    assert rev.post(f"/api/assignments/{a['id']}/start").status_code == 403
    started = ann.post(f"/api/assignments/{a['id']}/start").json()
    assert started["state"] == "in_progress"
    assert started["start_from"] == "ai" and started["start_version_id"] == ai
    # active time: capped per heartbeat and by the wall-clock since the previous one
    r = ann.post(f"/api/assignments/{a['id']}/heartbeat", json={"seconds": 500})
    assert r.status_code == 200 and r.json()["active_seconds"] == 60.0
    r = ann.post(f"/api/assignments/{a['id']}/heartbeat", json={"seconds": 30})
    assert 60.0 <= r.json()["active_seconds"] <= 63.0
    assert ann.post(f"/api/assignments/{a['id']}/heartbeat",
                    json={"seconds": -1}).status_code == 422
    v1 = save(ann, sid, box(3), base=ai)
    assert v1.status_code == 201, v1.text
    sub = ann.post(f"/api/assignments/{a['id']}/submit", json={})
    assert sub.status_code == 200 and sub.json()["state"] == "submitted"
    assert sub.json()["submitted_version_id"] == v1.json()["id"]
    # frozen: a further save is refused with a clear 409 and nothing is stored
    r = save(ann, sid, box(1), base=v1.json()["id"])
    assert r.status_code == 409
    assert r.json()["detail"]["assignment_state"] == "submitted"
    assert "frozen" in r.json()["detail"]["message"]
    assert len(ann.get(f"/api/studies/{sid}/versions").json()["data"]) == 2
    assert ann.post(f"/api/assignments/{a['id']}/heartbeat",
                    json={"seconds": 5}).status_code == 409
    assert ann.post(f"/api/assignments/{a['id']}/submit", json={}).status_code == 409
    # the reviewer returns it with a comment anchored to slice 2 at (x=5, y=6)
    r = rev.post(f"/api/assignments/{a['id']}/return", json={
        "comment": "GGO missed in the right lower lobe",
        "anchors": [{"text": "here", "slice_index": 2, "position": [5, 6]}]})
    assert r.status_code == 200 and r.json()["state"] == "returned"
    assert ann.post(f"/api/assignments/{a['id']}/return",
                    json={"comment": "no"}).status_code == 403
    bad = rev.post(f"/api/studies/{sid}/comments",
                   json={"text": "x", "assignment_id": a["id"], "slice_index": 99})
    assert bad.status_code == 422
    seen = ann.get(f"/api/assignments/{a['id']}").json()
    assert seen["decisions"][0]["decision"] == "return"
    assert seen["decisions"][0]["comment"] == "GGO missed in the right lower lobe"
    assert seen["comments"][0]["slice_index"] == 2 and seen["comments"][0]["position"] == [5, 6]
    # the reader replies on their own assignment and edits again
    assert ann.post(f"/api/studies/{sid}/comments",
                    json={"text": "fixed", "assignment_id": a["id"]}).status_code == 201
    v2 = save(ann, sid, box(2), base=v1.json()["id"])
    assert v2.status_code == 201, v2.text
    assert ann.get(f"/api/assignments/{a['id']}").json()["state"] == "in_progress"
    assert ann.post(f"/api/assignments/{a['id']}/submit",
                    json={"version_id": v2.json()["id"]}).json()["state"] == "submitted"
    r = rev.post(f"/api/studies/{sid}/approve", json={"version_id": v2.json()["id"]})
    assert r.status_code == 200, r.text
    final = ann.get(f"/api/assignments/{a['id']}").json()
    assert final["state"] == "approved"
    assert [d["decision"] for d in final["decisions"]] == ["return", "approve"]
    assert save(ann, sid, box(1), base=v2.json()["id"]).status_code == 409
    assert delete(admin_api, f"/api/assignments/{a['id']}").status_code == 409  # has work


def test_reader_start_empty_is_recorded(app, admin_api, make_user, login):
    pid, apis = team(app, admin_api, make_user, login, readers=("ann",),
                     settings={"reader_start": "empty"})
    sid = study(app, pid)
    add_ai_version(app, sid, box(2))
    a = admin_api.post(f"/api/projects/{pid}/assignments",
                       json={"study_id": sid, "username": "ann"}).json()
    got = apis["ann"].post(f"/api/assignments/{a['id']}/start").json()
    assert got["start_from"] == "empty" and got["start_version_id"] is None
