"""Issue 16, Done when: the seed's whole loop in Chromium, walked by one admin, from a fresh data
folder with the demo import (`lunglab demo import`).

1 log in; 2 run AI on a study and correct it with the brush; 3 submit and approve it; 4 train
from the UI with a short budget, watching the live curve; 5 promote the candidate; 6 run AI
again with it; 7 open the report; 8 download the DICOM SEG. A screenshot per step goes to
test-results/ (ignored) and, with LUNGLAB_UPDATE_SCREENSHOTS=1, to docs/screenshots/loop-*.png.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lunglab.ml.checkpoints import DEFAULT_MODEL
from .support import (
    PASSWORD,
    SHARED_DATA,
    Api,
    free_port,
    lunglab_cmd,
    missing_prerequisite,
    save_and_wait,
    screenshot,
    set_brush,
    stroke,
)


@pytest.fixture(scope="module")
def demo_server() -> Iterator[tuple[str, Path]]:
    """A fresh data folder: one admin, `lunglab demo import`, then `lunglab serve`."""
    reason = missing_prerequisite()
    if reason or not (SHARED_DATA / "covid-ny-sbu-slices").is_dir():
        pytest.skip(reason or "no NY-SBU slices in the shared data")
    data_dir = Path(tempfile.mkdtemp(prefix="lunglab-loop-"))
    env = {**os.environ, "LUNGLAB_DATA_DIR": str(data_dir),
           "LUNGLAB_AUTO_SEGMENT_ON_IMPORT": "false", "LUNGLAB_LOGIN_MAX_FAILURES": "1000"}
    env.pop("LUNGLAB_DATABASE_URL", None)
    cmd = lunglab_cmd()
    subprocess.run([*cmd, "users", "add", "admin", "--admin"], input=PASSWORD + "\n", text=True,
                   env=env, check=True, capture_output=True)
    out = subprocess.run([*cmd, "demo", "import", "--from", str(SHARED_DATA), "--medseg", "3"],
                         env=env, check=True, capture_output=True, text=True).stdout
    assert "3 reference label maps approved" in out, out
    port = free_port()
    with open(data_dir / "server.log", "w") as log:  # the server keeps its own copy of the fd
        proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(240):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text()[-2000:])
            time.sleep(0.5)
        yield base, data_dir
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


def shot(page, step: int, name: str) -> None:
    screenshot(page, f"loop-{step}-{name}")


def open_study(page, base: str, sid: int) -> None:
    page.goto(f"{base}/studies/{sid}?layout=1x1")
    page.wait_for_function("window.__lunglab && window.__lunglab.ready === true", timeout=120_000)


def run_ai(page, api: Api, sid: int) -> dict:
    """Click Run AI, wait until the proposal is saved; returns the new AI version."""
    before = {v["id"] for v in api.get(f"/api/studies/{sid}/versions").json()["data"]}
    page.click("#run-ai")
    page.wait_for_function("document.querySelector('#ai-job-status') && "
                           "document.querySelector('#ai-job-status').textContent"
                           ".includes('AI proposal saved')",
                           timeout=600_000)
    new = [v for v in api.get(f"/api/studies/{sid}/versions").json()["data"]
           if v["id"] not in before and v["kind"] == "ai"]
    assert new, "Run AI saved no AI version"
    return max(new, key=lambda v: v["id"])


def test_one_admin_walks_the_whole_loop(demo_server, chromium) -> None:  # type: ignore[no-untyped-def]
    base, _ = demo_server
    api = Api(base, "admin")
    pid = next(p["id"] for p in api.get("/api/projects").json()["data"] if p["name"] == "Demo")
    studies = api.get(f"/api/projects/{pid}/studies").json()["data"]
    sid = next(s["id"] for s in studies if s["name"].startswith("NY-SBU A002304"))
    assert sum("reference (MedSeg expert lesions)" in s["name"] for s in studies) == 3

    # the package-wide browser: a second sync_playwright() inside it would fail
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True,
                              accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. log in; the Demo project's worklist says what each study is
    page.goto(base + "/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.goto(f"{base}/projects/{pid}")
    page.get_by_text("reference (MedSeg expert lesions)").first.wait_for()
    shot(page, 1, "worklist")

    # 2. run AI on an NY-SBU slice, correct it with the brush, save
    open_study(page, base, sid)
    ai = run_ai(page, api, sid)
    assert ai["model_name"] == DEFAULT_MODEL
    open_study(page, base, sid)
    assert page.evaluate("window.__lunglab.baseVersionId") == ai["id"]
    page.evaluate("document.activeElement && document.activeElement.blur()")
    set_brush(page, "b", 2, 6.0)
    z = int(page.evaluate("window.__lunglab.viewer.cursor[2]"))
    st = api.get(f"/api/studies/{sid}").json()
    _, ny, nx = st["shape"]
    stroke(page, z, ny // 2, nx // 3, nx // 3 + 40)
    mine = save_and_wait(page)
    shot(page, 2, "ai-and-brush")

    # 3. submit the reading, approve it on the review page (same person, said so)
    page.click("#submit-assignment")
    page.wait_for_function("document.querySelector('#assignment-state') && "
                           "document.querySelector('#assignment-state').textContent.includes('submitted')")
    page.goto(f"{base}/studies/{sid}/review")
    page.locator(f'#review-readers tr[data-version="{mine}"]').wait_for()
    assert "same person" in page.inner_text("#review-readers")
    page.click(f'#review-readers tr[data-version="{mine}"] .approve-reader')
    page.wait_for_function("document.querySelector('#final-info').textContent.includes('Approved')")
    assert "same person" in page.inner_text("#review-comments")
    shot(page, 3, "approved")
    assert api.get(f"/api/projects/{pid}/training/data").json()["count"] == 4

    # 4. train from the UI with a small budget, watching the live curve
    page.goto(f"{base}/projects/{pid}/models")
    page.locator("#model-v0").wait_for()
    assert page.locator("#rollback-default").is_disabled()
    assert page.locator("#rollback-previous").is_disabled()
    page.click("#train-btn")
    page.locator("#train-dialog").wait_for()
    for sel, v in (("#train-epochs", "2"), ("#train-budget", "120"), ("#train-slices", "4"),
                   ("#train-val-slices", "2")):
        page.fill(sel, v)
    page.select_option("#train-device", "cpu")
    page.click("#train-start")
    page.wait_for_url("**/training/jobs/*")
    page.wait_for_function("window.__training && window.__training.run && "
                           "window.__training.run.curves.epoch.length >= 1", timeout=600_000)
    page.locator("#chart-loss path").first.wait_for()
    page.wait_for_function("document.querySelector('#run-state').textContent.startsWith('succeeded')",
                           timeout=600_000)
    page.locator("#comparison").wait_for(timeout=120_000)
    log = page.inner_text("#run-log")  # the Smart click step ran (on by default)
    assert "smart click: fine-tuned on" in log or "smart click: no lesion slices" in log, log
    shot(page, 4, "training")

    # 5. promote the candidate (with a written reason if the tiny run fails the gate)
    run = page.evaluate("window.__training.run")
    mid = run["model_version_id"]
    model = api.get(f"/api/models/{mid}").json()
    page.click("#promote")
    if not model["comparison"]["gate"]["passed"]:
        page.locator("#override-dialog").wait_for()
        page.fill("#override-reason", "seed loop: promote the first fine-tuned version")
        page.click("#override-confirm")
    page.wait_for_function("document.querySelector('#promote').disabled")
    page.goto(f"{base}/projects/{pid}/models")
    page.locator(f'#models-table tr[data-model="{mid}"][data-state="active"]').wait_for()
    assert model["name"] in page.inner_text("#active-model")
    assert not page.locator("#rollback-default").is_disabled()
    shot(page, 5, "promoted")

    # 6. run AI again: the promoted version makes the proposal
    open_study(page, base, sid)
    ai2 = run_ai(page, api, sid)
    assert ai2["model_name"] == model["name"], ai2
    open_study(page, base, sid)
    shot(page, 6, "ai-again")

    # 7. the report, from the study's Results menu
    page.click("#results-menu summary")
    href = page.get_attribute("#res-report-html", "href")
    assert href
    page.goto(base + href if href.startswith("/") else href)
    page.get_by_text("research use only", exact=False).first.wait_for()
    shot(page, 7, "report")

    # 8. download the DICOM SEG of the newest version
    open_study(page, base, sid)
    page.click("#results-menu summary")
    with page.expect_download(timeout=120_000) as dl:
        page.click("#res-seg")
    path = dl.value.path()
    data = Path(path).read_bytes()
    assert data[128:132] == b"DICM"
    import pydicom

    seg = pydicom.dcmread(path)
    assert seg.Modality == "SEG"
    segments = [s.SegmentLabel.lower() for s in seg.SegmentSequence]
    assert any("lung" in s for s in segments), segments
    page.evaluate("(n) => { const d = document.createElement('div'); d.id = 'seg-done';"
                  "d.className = 'card'; d.textContent = `Downloaded ${n}`;"
                  "document.querySelector('#results-menu').after(d); }",
                  f"{dl.value.suggested_filename}: DICOM SEG, {len(segments)} segments "
                  f"({', '.join(segments)})")
    shot(page, 8, "seg-download")
    ctx.close()
    assert not errors, errors
