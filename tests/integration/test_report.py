"""Quantification API, change over time, HTML/PDF reports and the project summary."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from lunglab import RESEARCH_USE_NOTICE
from tests.helpers import raw_labels, synthetic_volume

SHAPE = (6, 32, 40)


def add_patient_study(app, project_id: int, uid: str, patient_key: str,  # type: ignore[no-untyped-def]
                      name: str | None = None) -> int:
    """A synthetic study of a given pseudonymous patient, through the real ingest path."""
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest.importer import register_series

    series = ParsedSeries(volume=synthetic_volume(SHAPE), study_uid_pseudo=uid + ".0",
                          series_uid_pseudo=uid, patient_key=patient_key,
                          name=name or f"study {uid}",
                          source_names=[], meta={"Modality": "CT"}, slice_count=SHAPE[0],
                          kind="nifti")
    with session_scope(app.state.settings.resolved_database_url) as db:
        outcome = register_series(db, app.state.store, db.get(Project, project_id), None,
                                  series)
    return int(outcome.study_id)


def lungs(ggo_rows: int) -> np.ndarray:
    """Lungs at the phantom's dark columns; GGO in the first ``ggo_rows`` rows of the right."""
    lab = np.zeros(SHAPE, np.uint8)
    lab[:, 6:26, 5:18] = 1
    lab[:, 6:26, 22:35] = 1
    lab[:, 6:6 + ggo_rows, 5:18] = 2
    lab[0, 20:24, 24:30] = 3
    return lab


@pytest.fixture
def two_visits(app, admin_api):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "R", "description": ""}).json()["id"]
    first = add_patient_study(app, pid, "2.25.501", "patient-a")
    second = add_patient_study(app, pid, "2.25.502", "patient-a")
    other = add_patient_study(app, pid, "2.25.503", "patient-b")
    versions = {}
    for sid, rows in ((first, 4), (second, 10), (other, 0)):
        r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lungs(rows))},
                           data={"format": "raw"})
        assert r.status_code == 201, r.text
        versions[sid] = r.json()["id"]
    return pid, first, second, other, versions


def test_quantification_figures_and_definitions(two_visits, admin_api) -> None:  # type: ignore[no-untyped-def]
    _, first, second, _, versions = two_visits
    r = admin_api.get(f"/api/studies/{first}/quantification")
    assert r.status_code == 200, r.text
    q = r.json()
    voxel_ml = 0.8 * 0.8 * 2.5 / 1000
    f = q["figures"]["lungs"]
    assert f["right"]["lung_ml"] == pytest.approx(6 * 20 * 13 * voxel_ml, abs=1e-3)
    assert f["right"]["ggo_ml"] == pytest.approx(6 * 4 * 13 * voxel_ml, abs=1e-3)
    assert f["left"]["consolidation_ml"] == pytest.approx(24 * voxel_ml, abs=1e-3)
    assert q["figures"]["density"]["lung"]["mean_hu"] == pytest.approx(-850, abs=25)
    assert q["version"]["version_id"] == versions[first]
    assert q["version"]["made_by"] == "reader admin"
    assert "involvement_pct" in q["definitions"]
    assert [s["id"] for s in q["related_studies"]] == [second]
    again = admin_api.get(f"/api/studies/{first}/quantification",
                          params={"version_id": versions[first]}).json()
    assert again["figures"] == q["figures"]  # cached figures are the same
    assert admin_api.get(f"/api/studies/{first}/quantification",
                         params={"version_id": versions[second]}).status_code == 404


def test_change_over_time_same_patient_only(two_visits, admin_api) -> None:  # type: ignore[no-untyped-def]
    _, first, second, other, _ = two_visits
    r = admin_api.get(f"/api/studies/{second}/change", params={"baseline": first})
    assert r.status_code == 200, r.text
    ch = r.json()["change"]
    voxel_ml = 0.8 * 0.8 * 2.5 / 1000
    right = ch["lungs"]["right"]
    assert right["ggo_ml"]["change"] == pytest.approx(6 * 6 * 13 * voxel_ml, abs=1e-3)
    assert ch["direction"] == "more"
    assert right["involvement_pct"]["change"] == pytest.approx(100 * 6 / 20, abs=0.01)
    bad = admin_api.get(f"/api/studies/{second}/change", params={"baseline": other})
    assert bad.status_code == 422 and "different patients" in bad.json()["detail"]


def test_html_report_renders_for_readers_and_pdf_is_admin_only(  # type: ignore[no-untyped-def]
        two_visits, admin_api, make_user, login) -> None:
    pid, first, second, _, versions = two_visits
    make_user("rita")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "rita", "role": "reviewer"})
    rita = login("rita")
    r = rita.get(f"/api/studies/{second}/report.html", params={"baseline": first})
    assert r.status_code == 200, r.text
    html = r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "img-src data:" in r.headers["content-security-policy"]
    assert RESEARCH_USE_NOTICE in html and html.count("data:image/png;base64,") == 3
    assert f"version {versions[second]}" in html and "reader admin" in html
    assert 'id="change"' in html and "Change since study" in html
    assert 'title="Lesion volume / lung volume' in html  # hover help carries the definition
    assert rita.get(f"/api/studies/{second}/report.pdf").status_code == 403
    assert rita.get(f"/api/studies/{second}/report.html",
                    params={"download": "true"}).status_code == 403
    pdf = admin_api.get(f"/api/studies/{second}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"Research use only" in pdf.content and len(pdf.content) > 20_000
    assert "attachment" in pdf.headers["content-disposition"]
    events = admin_api.get("/api/audit", params={"action": "export.report"}).json()
    assert events["count"] == 1 and events["data"][0]["details"]["format"] == "pdf"
    views = admin_api.get("/api/audit", params={"action": "report.view"}).json()
    assert views["count"] == 1 and views["data"][0]["actor"] == "rita"


def test_project_summary_csv_and_charts(two_visits, admin_api) -> None:  # type: ignore[no-untyped-def]
    pid, first, second, other, _ = two_visits
    r = admin_api.get(f"/api/projects/{pid}/summary.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == f"# {RESEARCH_USE_NOTICE}"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert [int(x["study_id"]) for x in rows] == [first, second, other]
    by_id = {int(x["study_id"]): x for x in rows}
    assert float(by_id[other]["right_involvement_pct"]) == 0
    assert float(by_id[second]["involvement_pct"]) > float(by_id[first]["involvement_pct"])
    assert int(by_id[second]["right_upper_score"]) >= 0 and by_id[second]["kind"] == "human"
    page = admin_api.get(f"/api/projects/{pid}/summary.html")
    assert page.status_code == 200 and 'id="summary-chart"' in page.text
    assert RESEARCH_USE_NOTICE in page.text


def test_report_without_label_map_is_404(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "E", "description": ""}).json()["id"]
    sid = add_patient_study(app, pid, "2.25.77", "p")
    r = admin_api.get(f"/api/studies/{sid}/report.html")
    assert r.status_code == 404 and "no label map" in r.json()["detail"]
    assert admin_api.get("/api/studies/424242/quantification").status_code == 404


def test_names_cannot_inject_markup_or_formulas(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "X", "description": ""}).json()["id"]
    name = '=HYPERLINK("x")<b>bold</b><script>alert(1)</script>&'
    sid = add_patient_study(app, pid, "2.25.91", "px", name=name)
    assert admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lungs(3))},
                          data={"format": "raw"}).status_code == 201
    html = admin_api.get(f"/api/studies/{sid}/report.html").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    pdf = admin_api.get(f"/api/studies/{sid}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = admin_api.get(f"/api/projects/{pid}/summary.csv").text
    row = next(csv.DictReader(io.StringIO("\n".join(text.splitlines()[1:]))))
    assert row["name"] == "'" + name
