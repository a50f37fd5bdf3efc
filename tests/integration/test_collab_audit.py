"""Audit of the collaboration workflow: views, submissions, reviews and role changes are logged;
an admin filters and exports the log as CSV; the log cannot be changed through the database."""
from __future__ import annotations

import csv
import io
import json

import pytest
from tests.integration.collab_support import add_ai_version, box, save, study, team


def test_audit_records_workflow_and_exports_csv(app, admin_api, make_user, login):
    pid, apis = team(app, admin_api, make_user, login, readers=("ann",))
    sid = study(app, pid)
    ai = add_ai_version(app, sid, box(2))
    a = admin_api.post(f"/api/projects/{pid}/assignments",
                       json={"study_id": sid, "username": "ann"}).json()["id"]
    ann, rev = apis["ann"], apis["rev"]
    ann.get(f"/api/studies/{sid}/volume.nii.gz")
    v = save(ann, sid, box(3), base=ai).json()["id"]
    ann.post(f"/api/assignments/{a}/submit", json={})
    rev.get(f"/api/studies/{sid}/review")
    rev.post(f"/api/assignments/{a}/return", json={"comment": "redo"})
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "rev", "role": "admin"})
    # reviewers cannot read or export the log
    assert rev.get("/api/audit/export.csv").status_code == 403
    r = admin_api.get("/api/audit/export.csv", params={"object_type": "study",
                                                       "object_id": str(sid)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    actions = [(row["actor"], row["action"]) for row in rows][::-1]  # oldest first
    for expected in [("admin", "study.assign"), ("ann", "study.view"),
                     ("ann", "labelmap.save"), ("ann", "assignment.submit"),
                     ("rev", "review.view"), ("rev", "review.return")]:
        assert expected in actions, expected
    assert all(row["object_id"] == str(sid) for row in rows)
    submit = next(row for row in rows if row["action"] == "assignment.submit")
    assert json.loads(submit["details"]) == {"assignment": a, "version": v}
    # filter by actor and action prefix; the role change is there with the new role
    r = admin_api.get("/api/audit/export.csv", params={"action_prefix": "project.member"})
    roles = [json.loads(row["details"]) for row in csv.DictReader(io.StringIO(r.text))]
    assert {"user": "rev", "role": "admin", "previous_role": "reviewer"} in roles
    r = admin_api.get("/api/audit/export.csv", params={"actor": "ann", "action_prefix": "assign"})
    assert [row["action"] for row in csv.DictReader(io.StringIO(r.text))] == [
        "assignment.submit"]
    # the export itself is audited
    listed = admin_api.get("/api/audit", params={"action": "audit.export"}).json()
    assert listed["count"] == 3


def test_audit_log_is_append_only_in_the_database(app, admin_api):
    from sqlalchemy import text

    from lunglab.db.session import get_engine

    admin_api.post("/api/projects", json={"name": "p"})
    engine = get_engine(app.state.settings.resolved_database_url)
    for stmt in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() > 0
