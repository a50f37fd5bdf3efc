"""Authorization matrix: every endpoint of the app against every role.

Roles: ``admin`` (site admin), ``reviewer`` (project reviewer), ``assigned`` (annotator assigned
to the study under test), ``unassigned`` (annotator of the same project, not assigned to it) and
``anonymous``. Each case writes down the expected status per role. The cases run in order and
roles in the order anonymous, unassigned, reviewer, assigned, admin; where a call changes state
(submit, return, ...) the expectations of later roles say so.

A route of the app that no case covers fails ``test_every_route_has_a_case``: a new endpoint
needs its row here.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.conftest import PASSWORD
from tests.helpers import raw_labels, wait_job
from tests.integration.collab_support import add_ai_version, box, save, study, team

ROLES = ("anonymous", "unassigned", "reviewer", "assigned", "admin")
USER_OF = {"admin": "admin", "reviewer": "rev", "assigned": "ann", "unassigned": "other"}


@dataclass
class Case:
    method: str
    path: str  # route template, filled from the world's ids
    expect: str  # statuses for "admin reviewer assigned unassigned anonymous"; "-" = not run
    body: Callable[[dict, str, Any], dict] | None = None  # (world, role, client) -> request kw
    note: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path parameters overriding the world

    def expected(self) -> dict[str, int | None]:
        codes = self.expect.split()
        assert len(codes) == 5, self.expect
        order = ("admin", "reviewer", "assigned", "unassigned", "anonymous")
        return {r: None if c == "-" else int(c) for r, c in zip(order, codes, strict=True)}


def _json(payload: dict | Callable[[dict, str], dict]) -> Callable[[dict, str, Any], dict]:
    def build(w: dict, role: str, client: Any) -> dict:
        return {"json": payload(w, role) if callable(payload) else payload}
    return build


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _save_body(w: dict, role: str, client: Any) -> dict:
    """A valid save on top of the newest version this role can see."""
    r = client.get(f"/api/studies/{w['study_id']}/versions")
    base = r.json()["data"][0]["id"] if r.status_code == 200 and r.json()["data"] else w["ai"]
    return {"files": {"file": raw_labels(box(1))},
            "data": {"base_version_id": str(base), "format": "raw"}}


def _copy_body(w: dict, role: str, client: Any) -> dict:
    return {"files": {"file": raw_labels(box(3))},
            "data": {"base_version_id": str(w["vb"]), "format": "raw"}}


CASES: list[Case] = [
    Case("GET", "/api/health", "200 200 200 200 200"),
    Case("POST", "/api/auth/login", "200 200 200 200 401",
         _json(lambda w, r: {"username": USER_OF.get(r, "nobody"), "password": PASSWORD}),
         note="anonymous sends unknown credentials"),
    Case("GET", "/api/auth/me", "200 200 200 200 401"),
    Case("POST", "/api/auth/tokens", "201 201 201 201 401", _json({"name": "script"})),
    Case("GET", "/api/users", "200 403 403 403 401"),
    Case("POST", "/api/users", "201 403 403 403 401",
         _json(lambda w, r: {"username": _unique("u"), "password": PASSWORD})),
    Case("GET", "/api/projects", "200 200 200 200 401"),
    Case("POST", "/api/projects", "201 403 403 403 401",
         _json(lambda w, r: {"name": _unique("p")})),
    Case("GET", "/api/projects/{project_id}", "200 200 200 200 401"),
    Case("GET", "/api/projects/{project_id}", "200 404 404 404 401",
         params={"project_id": "other_project"},
         note="a project they are not members of: no existence leak (site admins see all)"),
    Case("PATCH", "/api/projects/{project_id}", "200 403 403 403 401",
         _json({"settings": {"reader_start": "ai"}})),
    Case("GET", "/api/projects/{project_id}/members", "200 200 200 200 401"),
    Case("POST", "/api/projects/{project_id}/members", "201 403 403 403 401",
         _json({"username": "newbie", "role": "annotator"})),
    Case("POST", "/api/projects/{project_id}/assignments", "201 403 403 403 401",
         _json(lambda w, r: {"study_id": w["study3"], "username": "newbie"})),
    Case("GET", "/api/projects/{project_id}/studies", "200 200 200 200 401"),
    Case("GET", "/api/studies/{study_id}", "200 200 200 404 401"),
    Case("GET", "/api/studies/{study_id}/volume.nii.gz", "200 200 200 404 401"),
    Case("POST", "/api/projects/{project_id}/import", "200 403 200 200 401",
         lambda w, r, c: {"files": {"files": ("notes.txt", b"not a scan", "text/plain")}},
         note="reviewers do not import"),
    Case("POST", "/api/projects/{project_id}/uploads", "201 403 201 201 401",
         _json({"files": [{"name": "a.dcm", "size": 4}]})),
    Case("GET", "/api/uploads/{upload_id}", "200 404 404 404 401", note="uploads are private"),
    Case("PUT", "/api/uploads/{upload_id}/files/{index}", "200 404 404 404 401",
         lambda w, r, c: {"content": b"abcd", "params": {"offset": 0}}),
    Case("POST", "/api/uploads/{upload_id}/commit", "200 404 404 404 401"),
    Case("GET", "/api/studies/{study_id}/versions", "200 200 200 404 401"),
    Case("GET", "/api/versions/{version_id}/labels.nii.gz", "200 200 200 404 401",
         params={"version_id": "va"}),
    Case("GET", "/api/versions/{version_id}/labels.nii.gz", "200 200 404 404 401",
         params={"version_id": "vb"}, note="blinding: another reader's version"),
    Case("POST", "/api/studies/{study_id}/versions", "201 201 201 404 401", _save_body),
    Case("POST", "/api/jobs", "201 403 403 403 401",
         _json(lambda w, r: {"kind": "integrity-check", "project_id": w["project_id"],
                             "params": {"project_id": w["project_id"]}})),
    Case("GET", "/api/jobs", "200 200 200 200 401"),
    Case("GET", "/api/jobs/{job_id}", "200 200 404 404 401"),
    Case("GET", "/api/jobs/{job_id}/log", "200 200 404 404 401"),
    Case("POST", "/api/jobs/{job_id}/cancel", "409 409 404 404 401",
         note="the setup job has finished by now: a conflict for whoever may cancel it"),
    Case("GET", "/api/audit", "200 403 403 403 401"),
    Case("GET", "/api/audit/export.csv", "200 403 403 403 401"),
    # --- assignments
    Case("GET", "/api/projects/{project_id}/assignments", "200 200 200 200 401"),
    Case("POST", "/api/projects/{project_id}/assignments/bulk", "201 403 403 403 401",
         _json(lambda w, r: {"study_ids": [w["study3"]], "usernames": ["newbie"]})),
    Case("POST", "/api/projects/{project_id}/assignments/auto", "201 403 403 403 401",
         _json(lambda w, r: {"readers_per_study": 1, "study_ids": [w["study3"]]})),
    Case("GET", "/api/me/assignments", "200 200 200 200 401"),
    Case("GET", "/api/assignments/{assignment_id}", "200 200 200 404 401"),
    Case("GET", "/api/assignments/{assignment_id}", "200 200 404 200 401",
         params={"assignment_id": "a_other"}, note="blinding: another reader's assignment"),
    Case("DELETE", "/api/assignments/{assignment_id}", "204 403 404 404 401",
         params={"assignment_id": "a_del"}),
    Case("POST", "/api/assignments/{assignment_id}/start", "403 403 200 404 401"),
    Case("POST", "/api/assignments/{assignment_id}/heartbeat", "403 403 200 404 401",
         _json({"seconds": 5})),
    Case("POST", "/api/assignments/{assignment_id}/submit", "403 403 200 404 401",
         _json({})),
    Case("POST", "/api/studies/{study_id}/versions", "- - 409 - -", _save_body,
         note="the reader's version is frozen after submit"),
    # --- review
    Case("GET", "/api/studies/{study_id}/review", "200 200 403 404 401"),
    Case("POST", "/api/studies/{study_id}/comments", "201 201 201 404 401",
         _json(lambda w, r: {"text": "look at slice 2", "assignment_id": w["assignment_id"],
                             "slice_index": 2, "position": [5, 6]})),
    Case("POST", "/api/studies/{study_id}/consensus", "201 201 403 404 401",
         _json({"method": "majority"})),
    Case("GET", "/api/studies/{study_id}/agreement", "200 200 403 404 401"),
    Case("GET", "/api/studies/{study_id}/disagreement.nii.gz", "200 200 403 404 401"),
    Case("GET", "/api/projects/{project_id}/agreement", "200 200 403 403 401"),
    Case("GET", "/api/studies/{study_id}/history", "200 200 200 404 401"),
    Case("POST", "/api/assignments/{assignment_id}/return", "409 200 403 404 401",
         _json({"comment": "please redo"}),
         note="the reviewer returns it first; the admin's second return finds it returned"),
    Case("POST", "/api/studies/{study_id}/review-copies", "201 201 403 404 401", _copy_body),
    Case("POST", "/api/studies/{study_id}/approve", "200 200 403 404 401",
         _json(lambda w, r: {"version_id": w["vb"]})),
    Case("POST", "/api/studies/{study_id}/submit", "200 200 403 404 401", _json({}),
         note="one person submits their own reading (admin and reviewer saved one above); "
              "an annotator submits their assignment instead"),
    # --- reports and quantification (viewing follows study access; files are admin-only)
    Case("GET", "/api/studies/{study_id}/quantification", "200 200 200 404 401"),
    Case("GET", "/api/studies/{study_id}/change", "200 200 404 404 401",
         lambda w, r, c: {"params": {"baseline": w["study_same_patient"]}},
         note="the baseline study is not assigned to the annotator"),
    Case("GET", "/api/studies/{study_id}/report.html", "200 200 200 404 401"),
    Case("GET", "/api/studies/{study_id}/report.pdf", "200 403 403 404 401"),
    Case("GET", "/api/projects/{project_id}/summary.csv", "200 403 403 403 401"),
    Case("GET", "/api/projects/{project_id}/summary.html", "200 403 403 403 401"),
    # --- exports and PACS: project admins only (members without the role get 403 before the
    # study check, so the unassigned annotator sees 403 rather than 404)
    Case("GET", "/api/exports/versions/{version_id}/labels.nii.gz", "200 403 403 403 401",
         params={"version_id": "va"}),
    Case("GET", "/api/exports/versions/{version_id}/seg.dcm", "200 403 403 403 401",
         params={"version_id": "va"}),
    Case("GET", "/api/exports/studies/{study_id}/ct.nii.gz", "200 403 403 403 401"),
    Case("GET", "/api/exports/studies/{study_id}/dicom.zip", "200 403 403 403 401"),
    Case("POST", "/api/projects/{project_id}/exports/dataset", "200 403 403 403 401"),
    Case("GET", "/api/projects/{project_id}/dicomweb", "200 403 403 403 401"),
    Case("GET", "/api/projects/{project_id}/dicomweb/studies", "422 403 403 403 401",
         note="no PACS configured"),
    Case("POST", "/api/projects/{project_id}/dicomweb/import", "422 403 403 403 401",
         _json({"study_uid": "1.2.3"}), note="no PACS configured"),
    Case("POST", "/api/versions/{version_id}/dicomweb/push", "422 403 403 403 401",
         params={"version_id": "va"}, note="no PACS configured"),
    Case("PUT", "/api/projects/{project_id}/dicomweb", "200 403 403 403 401",
         _json({"url": "http://127.0.0.1:9/dicom-web"})),
    # --- radiographs (the study under test is a CT: who may ask is told it is no radiograph)
    Case("GET", "/api/studies/{study_id}/radiograph", "422 422 422 404 401"),
    Case("PUT", "/api/studies/{study_id}/radiograph/reading", "422 422 422 404 401",
         _json({"category": "typical"})),
    Case("GET", "/api/projects/{project_id}/radiograph-agreement", "200 200 403 403 401"),
    Case("GET", "/api/projects/{project_id}/exports/radiograph-findings.csv",
         "200 403 403 403 401"),
    Case("GET", "/api/exports/versions/{version_id}/mask.png", "422 403 403 403 401",
         params={"version_id": "va"}),
    Case("GET", "/api/exports/versions/{version_id}/radiograph-seg.dcm", "422 403 403 403 401",
         params={"version_id": "va"}),
    # --- smart click: study access first, then the slices (z 999 is outside the study)
    Case("POST", "/api/studies/{study_id}/smart-click/warm", "200 200 200 404 401"),
    Case("POST", "/api/studies/{study_id}/smart-click", "422 422 422 404 401",
         lambda w, r, c: {"files": {"file": ("slices.raw", b"\0", "application/octet-stream")},
                          "data": {"slices": "999", "clicks": "[]"}}),
    # --- training, model versions, queue, active learning (project admins; reviewers read)
    Case("GET", "/api/projects/{project_id}/training/data", "200 200 403 403 401"),
    Case("GET", "/api/projects/{project_id}/training/runs", "200 200 403 403 401"),
    Case("POST", "/api/projects/{project_id}/training", "422 403 403 403 401",
         _json({"epochs": 1}), note="too few approved studies to train on"),
    Case("GET", "/api/training/runs/{run_id}", "200 200 403 403 401"),
    Case("GET", "/api/training/jobs/{job_id}", "200 200 404 404 401",
         params={"job_id": "train_job"}, note="annotators may not see project jobs"),
    Case("POST", "/api/training/runs/{run_id}/resume", "409 403 403 403 401",
         note="the run has finished"),
    Case("GET", "/api/training/runs/{run_id}/samples/{epoch}.png", "404 404 403 403 401",
         note="no sample images for this run"),
    Case("GET", "/api/queue", "200 200 200 200 401"),
    Case("GET", "/api/projects/{project_id}/annotate-next", "200 403 403 403 401"),
    Case("POST", "/api/projects/{project_id}/annotate-next/refresh", "201 403 403 403 401"),
    Case("GET", "/api/projects/{project_id}/models", "200 200 403 403 401"),
    Case("GET", "/api/models/{version_id}", "200 200 403 403 401",
         params={"version_id": "model"}),
    Case("POST", "/api/models/{version_id}/promote", "409 403 403 403 401", _json({}),
         params={"version_id": "model"}, note="the candidate was never evaluated: gate fails"),
    Case("POST", "/api/models/{version_id}/rollback", "200 403 403 403 401",
         params={"version_id": "model"}),
    Case("POST", "/api/projects/{project_id}/models/rollback", "200 403 403 403 401",
         _json({"version_id": 0})),
    Case("GET", "/api/models/{version_id}/export", "200 403 403 403 401",
         params={"version_id": "model"}),
    Case("POST", "/api/auth/logout", "204 204 204 204 401", note="last: it ends the sessions"),
]


def api_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every (method, path) under /api, including routes of included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI >= 0.160 keeps included routers
                walk(r.original_router.routes, prefix + r.include_context.prefix)
            elif isinstance(r, APIRoute):
                found.update((m, prefix + r.path) for m in r.methods - {"HEAD"})

    walk(app.routes)
    for path, ops in app.openapi()["paths"].items():  # and whatever the schema lists
        found.update((m.upper(), path) for m in ops)
    return {(m, p) for m, p in found if p.startswith("/api")}


def test_every_route_has_a_case(app):
    covered = {(c.method, c.path) for c in CASES}
    missing = sorted(api_routes(app) - covered)
    assert not missing, f"routes without an authorization-matrix case: {missing}"


def _world(app, admin_api, make_user, login) -> tuple[dict, dict]:
    pid, apis = team(app, admin_api, make_user, login, readers=("ann", "bob", "other"))
    make_user("newbie")
    sid, s2, s3 = (study(app, pid, uid=u) for u in ("2.25.1", "2.25.2", "2.25.3"))
    same_patient = _same_patient_study(app, pid, sid)
    ai = add_ai_version(app, sid, box(2))
    made = admin_api.post(f"/api/projects/{pid}/assignments/bulk",
                          json={"study_ids": [sid], "usernames": ["ann", "bob"]}).json()["data"]
    a = {x["username"]: x["id"] for x in made}
    a_other = admin_api.post(f"/api/projects/{pid}/assignments",
                             json={"study_id": s2, "username": "other"}).json()["id"]
    a_del = admin_api.post(f"/api/projects/{pid}/assignments",
                           json={"study_id": s3, "username": "bob"}).json()["id"]
    va = save(apis["ann"], sid, box(2, x=slice(4, 10)), base=ai).json()["id"]
    vb = save(apis["bob"], sid, box(2, x=slice(6, 12)), base=ai).json()["id"]
    assert apis["bob"].post(f"/api/assignments/{a['bob']}/submit", json={}).status_code == 200
    other_pid = admin_api.post("/api/projects", json={"name": "elsewhere"}).json()["id"]
    job = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid,
                                            "params": {"project_id": pid}}).json()["id"]
    upload = admin_api.post(f"/api/projects/{pid}/uploads",
                            json={"files": [{"name": "a.dcm", "size": 4}]}).json()["upload_id"]
    wait_job(admin_api, job, timeout=30, poll=0.1)
    model, run, train_job = _model_and_run(app, pid)
    world = {"project_id": pid, "study_id": sid, "study3": s3, "ai": ai, "va": va, "vb": vb,
             "assignment_id": a["ann"], "a_other": a_other, "a_del": a_del, "job_id": job,
             "upload_id": upload, "index": 0, "other_project": other_pid,
             "study_same_patient": same_patient, "model": model, "run_id": run, "epoch": 1,
             "train_job": train_job}
    clients = {"admin": admin_api, "reviewer": apis["rev"], "assigned": apis["ann"],
               "unassigned": apis["other"]}
    return world, clients


def _same_patient_study(app, pid: int, sid: int) -> int:  # type: ignore[no-untyped-def]
    """Another study of the study ``sid``'s pseudonymous patient (a follow-up scan)."""
    from lunglab.db.models import Study
    from lunglab.db.session import session_scope

    other = study(app, pid, uid="2.25.4")
    with session_scope(app.state.settings.resolved_database_url) as db:
        db.get(Study, other).patient_key = db.get(Study, sid).patient_key
    add_ai_version(app, other, box(2))
    return other


def _model_and_run(app, pid: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A finished training run, its (failed) train job and the candidate model version it
    registered: rows only, no training."""
    from lunglab.db.models_training import ModelVersion, TrainingRun
    from lunglab.db.session import session_scope

    import io
    import json

    import torch

    from dataclasses import asdict

    from lunglab.ml import build_model
    from lunglab.ml.train import TrainConfig

    buf = io.BytesIO()  # a real (untrained) checkpoint in the format ml.train writes
    meta = {"config": asdict(TrainConfig(arch="unet2d-small"))}
    torch.save({"state_dict": build_model("unet2d-small").state_dict(),
                "meta_json": json.dumps(meta)}, buf)
    weights = app.state.store.put_bytes("models/test/weights.pt", buf.getvalue())
    from lunglab.db.models import Job

    with session_scope(app.state.settings.resolved_database_url) as db:
        run = TrainingRun(project_id=pid, state="done")
        db.add(run)
        db.flush()
        job = Job(kind="train", state="failed", project_id=pid, params={"run_id": run.id})
        db.add(job)
        db.flush()
        run.job_id, run.job_ids = job.id, [job.id]
        mv = ModelVersion(project_id=pid, number=1, name="p-v1", arch="unet2d-small",
                          weights_key="models/test/weights.pt", weights_checksum=weights,
                          run_id=run.id)
        db.add(mv)
        db.flush()
        return mv.id, run.id, job.id


def _request(client: Any, method: str, url: str, kw: dict) -> int:
    headers = dict(kw.pop("headers", {}) or {})
    csrf = client.cookies.get("lunglab_csrf")
    if csrf:
        headers["X-CSRF-Token"] = csrf
    return client.request(method, url, headers=headers, **kw).status_code


def test_authorization_matrix(app, admin_api, make_user, login):
    world, apis = _world(app, admin_api, make_user, login)
    anonymous = TestClient(app)
    mismatches = []
    present = api_routes(app)
    for case in CASES:
        if (case.method, case.path) not in present:
            continue  # a route being added or removed in parallel; the coverage test guards
        ids = {k: world[v] for k, v in case.params.items()}
        url = case.path.format(**{**world, **ids})
        for role in ROLES:
            want = case.expected()[role]
            if want is None:
                continue
            client = anonymous if role == "anonymous" else apis[role].client
            kw = case.body(world, role, client) if case.body else {}
            got = _request(client, case.method, url, kw)
            if got != want:
                mismatches.append(f"{case.method} {case.path} {case.params or ''} as {role}: "
                                  f"expected {want}, got {got}")
    anonymous.close()
    assert not mismatches, "\n".join(mismatches)
