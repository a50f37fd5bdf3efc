"""The report of the real CT series, rendered by Chromium from a running server.

Saves ``test-results/report.png`` (and ``docs/screenshots/report.png`` with
LUNGLAB_UPDATE_SCREENSHOTS=1). The label map comes from LungLab's AI model when a
model is shipped; otherwise from the classical lung mask with an HU-threshold demonstration of
lesion labels (stored as an ``imported`` version whose message says so: not a diagnosis).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lunglab import RESEARCH_USE_NOTICE
from tests.conftest import PASSWORD, need_real_series

CHROMIUM = Path(os.environ.get("LUNGLAB_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
# test-results/ is ignored: `make test` leaves the work tree clean; LUNGLAB_UPDATE_SCREENSHOTS=1
# also refreshes the README's copy in docs/screenshots/
SCREENSHOT = REPO / "test-results" / "report.png"
README_SCREENSHOT = REPO / "docs" / "screenshots" / "report.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage"]

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def label_real_series(volume):  # type: ignore[no-untyped-def]
    """``(labels, kind, model_name, message)`` for the real series (see the module doc)."""
    try:
        from lunglab.ml import segment_volume

        labels, info = segment_volume(volume, device="cpu")
        return labels, "ai", str(info.get("model", "lunglab model")), "AI segmentation"
    except (ImportError, FileNotFoundError):
        pass
    from lunglab.imaging import lung_mask

    lung = lung_mask(volume.array, volume.spacing)
    labels = lung.astype(np.uint8)
    labels[lung & (volume.array > -700) & (volume.array <= -300)] = 2
    labels[lung & (volume.array > -300)] = 3
    return labels, "imported", None, ("HU-threshold demonstration labels inside the classical "
                                      "lung mask (no AI model shipped); not a diagnosis")


def test_real_series_report_in_chromium(tmp_path: Path) -> None:
    series = need_real_series()
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    import uvicorn

    from lunglab.api.app import create_app
    from lunglab.core.settings import Settings
    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts
    from lunglab.services.ingest import importer as ingest
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.access.projects import create_project
    from lunglab.services.access.studies import load_volume

    settings = Settings(data_dir=tmp_path / "data", database_url=None)
    app = create_app(settings, start_runner=False, web_dist=Path("/nonexistent"))
    url = settings.resolved_database_url
    with session_scope(url) as db:
        admin = accounts.create_user(db, "admin", PASSWORD, is_admin=True)
        project = create_project(db, "Real", actor=admin)
        outcomes = ingest.import_paths(db, app.state.store, settings, project, admin, [series])
        sid = next(o.study_id for o in outcomes if o.status == "imported")
    with session_scope(url) as db:
        from lunglab.db.models import Study

        volume = load_volume(app.state.store, db.get(Study, sid))
    labels, kind, model, message = label_real_series(volume)
    with session_scope(url) as db:
        version = save_version(db, app.state.store, None, sid, labels, base_version_id=None,
                               kind=kind, model_name=model, message=message, check_base=False)
        vid = version.id

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            r = context.request.post(f"{base}/api/auth/login",
                                     data={"username": "admin", "password": PASSWORD})
            assert r.ok, r.text()
            page = context.new_page()
            resp = page.goto(f"{base}/api/studies/{sid}/report.html?version_id={vid}",
                             wait_until="load", timeout=120_000)
            assert resp is not None and resp.status == 200
            assert RESEARCH_USE_NOTICE in page.inner_text("#research-notice")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert len(widths) == 3 and all(w > 100 for w in widths), widths
            assert "%" in page.inner_text("#involvement")
            made_by = page.inner_text("#provenance")
            assert (model or kind) in made_by
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            if os.environ.get("LUNGLAB_UPDATE_SCREENSHOTS") == "1":
                README_SCREENSHOT.write_bytes(SCREENSHOT.read_bytes())
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert SCREENSHOT.stat().st_size > 50_000
