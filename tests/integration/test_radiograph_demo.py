"""The demo radiographs: the 12 Actualmed chest X-rays from ../shared/data next to the CT."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (DATA / "cxr-actualmed" / "images").is_dir(),
                    reason="no ../shared/data/cxr-actualmed (real radiographs)")
def test_demo_radiographs_import_named_and_idempotent(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.services.radiographs.demo import import_demo_radiographs

    pid = admin_api.post("/api/projects", json={"name": "Demo"}).json()["id"]
    settings = app.state.settings
    with session_scope(settings.resolved_database_url) as db:
        first = import_demo_radiographs(db, app.state.store, settings, db.get(Project, pid), DATA)
    assert [o.status for _, o in first] == ["imported"] * 12, [o.reason for _, o in first]
    with session_scope(settings.resolved_database_url) as db:
        again = import_demo_radiographs(db, app.state.store, settings, db.get(Project, pid), DATA)
    assert [o.status for _, o in again] == ["duplicate"] * 12
    studies = admin_api.get(f"/api/projects/{pid}/studies").json()["data"]
    assert len(studies) == 12 and {s["modality"] for s in studies} == {"XR"}
    names = sorted(s["name"] for s in studies)
    assert names[0].startswith("Actualmed chest X-ray") and "(AP)" in " ".join(names)
    assert not any("CR.1.2.840" in s["name"] for s in studies)  # source file names not kept
    described = [s["series_description"] for s in studies]
    assert sum("source label: COVID-19" in d for d in described) == 6
    assert all(s["shape"][0] == 1 and s["shape"][1] > 1000 for s in studies)
    # about half of them carry a suspected burned-in marker or text
    flagged = sum(bool(admin_api.get(f"/api/studies/{s['id']}/radiograph").json()["text_regions"])
                  for s in studies)
    assert flagged >= 6
