"""Issue 5 in the browser: approved label maps -> Train (tiny budget) -> live progress ->
comparison -> Promote -> the next pre-annotation uses the new version -> roll back."""
from __future__ import annotations

import numpy as np

from tests.helpers import wait_job

from .support import Server, login, open_study, screenshot
from .test_collab import csp_violations, import_cropped, new_project


def reference_labels(api, sid: int, shape: tuple[int, int, int]) -> np.ndarray:
    """A plausible label map from the real CT: lungs (air inside the body) and lesion-range HU."""
    from scipy import ndimage

    from .support import nifti_zyx

    hu = nifti_zyx(api.get(f"/api/studies/{sid}/volume.nii.gz").content).astype(np.int16)
    assert hu.shape == shape
    lab = np.zeros(shape, np.uint8)
    for z in range(shape[0]):
        air = hu[z] < -400
        outside, _ = ndimage.label(air)
        edges = np.concatenate([outside[0], outside[-1], outside[:, 0], outside[:, -1]])
        border = set(np.unique(edges))
        lung = air & ~np.isin(outside, list(border))
        lung = ndimage.binary_opening(lung, iterations=2)
        lab[z][lung] = 1
        filled = ndimage.binary_fill_holes(lung) & ~lung
        lab[z][filled & (hu[z] > -750) & (hu[z] < -300)] = 2
        lab[z][filled & (hu[z] >= -300) & (hu[z] < 100)] = 3
    return lab


def test_train_compare_promote_preannotate_rollback(page, chromium, server: Server) -> None:
    api = server.api()
    pid = new_project(server, "Training e2e")
    studies = [import_cropped(server, pid, z0, z0 + 6, f"train-{z0}") for z0 in (50, 80, 110)]
    # approve a label map for each study (review decision on the admin's version)
    for sid in studies:
        st = api.get(f"/api/studies/{sid}").json()
        lab = reference_labels(api, sid, tuple(st["shape"]))
        r = api.save_raw(sid, lab, st["latest_version_id"])
        assert r.status_code == 201, r.text
        api.post_ok(f"/api/studies/{sid}/approve", json={"version_id": r.json()["id"]})
    assert api.get(f"/api/projects/{pid}/training/data").json()["count"] == 3

    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{pid}")
    page.click("#train-btn")
    page.locator("#train-dialog").wait_for()
    assert "3 studies with an approved label map" in page.inner_text("#train-dialog")
    # a tiny budget: the machine is a shared 2-core box
    for sel, v in (("#train-epochs", "2"), ("#train-budget", "120"), ("#train-slices", "4"),
                   ("#train-val-slices", "2")):
        page.fill(sel, v)
    page.select_option("#train-device", "cpu")
    assert page.is_checked("#train-smartclick")  # on by default; this run leaves it out
    page.uncheck("#train-smartclick")
    page.click("#train-start")
    page.wait_for_url("**/training/jobs/*")
    page.locator("#run-state").wait_for()
    # live progress: the page updates while the job runs, the curves fill in
    page.wait_for_function("window.__training && window.__training.run"
                           " && window.__training.run.curves.epoch.length >= 1", timeout=600_000)
    page.locator("#chart-loss path").first.wait_for()
    assert page.locator("#chart-dice").count() == 1
    page.wait_for_function(
        "document.querySelector('#run-state').textContent.startsWith('succeeded')",
        timeout=600_000)
    # the page polled while the job ran and again when it ended, without a reload (the
    # fine-tuning of the v2 UNet can finish between two polls, so two updates are the least)
    assert page.evaluate("window.__training.updates") >= 2
    seen = page.evaluate("window.__training.seen")
    assert len(seen) >= 2, seen
    assert seen[0].split(":")[0] in ("queued", "running") and seen[-1].startswith("succeeded"), seen
    page.locator("#sample-img").wait_for()
    page.locator("#comparison").wait_for(timeout=120_000)
    comp = page.inner_text("#comparison")
    assert "lung" in comp and "improved" in comp and "worsened" in comp
    assert "epoch" in page.inner_text("#run-log").lower()
    assert "smart click: not fine-tuned" in page.inner_text("#run-log")
    run = page.evaluate("window.__training.run")
    mid = run["model_version_id"]
    model = api.get(f"/api/models/{mid}").json()
    screenshot(page, "training-job")

    # promote (with an override when the gate fails: a tiny run may well be worse)
    page.click("#promote")
    if not model["comparison"]["gate"]["passed"]:
        page.locator("#override-dialog").wait_for()
        page.fill("#override-reason", "e2e test of the promotion override path")
        page.click("#override-confirm")
    page.wait_for_function("document.querySelector('#promote').disabled")
    assert api.get(f"/api/models/{mid}").json()["state"] == "active"

    # the next pre-annotation uses the new version
    sid = studies[0]
    job = api.post_ok("/api/jobs",
                      json={"kind": "ai-segment", "study_id": sid, "params": {}}).json()
    assert wait_job(api, job["id"], timeout=600, poll=1)["state"] == "succeeded"
    open_study(page, server, sid)
    page.locator("#versions li[data-version]").first.wait_for()
    assert f"ai ({model['name']})" in page.inner_text("#versions li[data-version] >> nth=0")

    # models page: versions, lineage, metrics, export links; then roll back
    page.goto(f"{server.base}/projects/{pid}/models")
    row = page.locator(f'#models-table tr[data-model="{mid}"]')
    row.wait_for()
    assert row.get_attribute("data-state") == "active" and "admin" in row.inner_text()
    assert row.locator("a", has_text="onnx").count() == 1
    detail = row.text_content()
    assert "Trained on" in detail and "Frozen validation studies" in detail and '"seed"' in detail
    assert all(f"{d['study_id']}→v{d['version_id']}" in detail for d in model["data_snapshot"])
    assert model["name"] in page.inner_text("#active-model")
    screenshot(page, "models")
    # the first promoted version has no predecessor: the button is disabled and says why
    assert page.locator("#rollback-previous").is_disabled()
    assert "No earlier promoted version" in page.inner_text("#models-page")
    page.click("#rollback-default")
    page.wait_for_function(
        "document.querySelector('#active-model').textContent.includes('shipped default')")
    assert page.locator("#rollback-default").is_disabled()  # version 0 is already active
    assert api.get(f"/api/models/{mid}").json()["state"] != "active"
    assert api.get(f"/api/projects/{pid}/models").json()["active_id"] is None

    # the queue view and the admin's "annotate next" list
    page.goto(f"{server.base}/queue")
    page.locator("#queue-running").wait_for()
    page.goto(f"{server.base}/projects/{pid}")
    page.locator("#annotate-next").wait_for()
    page.click("#annotate-next-refresh")
    page.wait_for_function("/Scoring (succeeded|failed)/.test("
                           "document.querySelector('#annotate-next-status').textContent)",
                           timeout=300_000)
    assert "succeeded" in page.inner_text("#annotate-next-status")
    # the training screens work under the server's CSP
    screens = [f"/training/jobs/{run['job_id']}", f"/projects/{pid}/models", "/queue"]
    assert not csp_violations(chromium, server, screens,
                              "#chart-loss, #models-table, #queue-running")
