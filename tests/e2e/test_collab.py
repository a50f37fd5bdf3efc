"""Issue 4 in the browser: assignment board, two blinded readers, review with the disagreement
map, a STAPLE consensus approved, the reader sees the decision, and the agreement dashboard."""
from __future__ import annotations

import gzip

import numpy as np

from .support import (PASSWORD, Server, current_slice, login, open_study, save_and_wait, screenshot,
                      set_brush, stroke, use_single_axial)


def import_cropped(server: Server, pid: int, z0: int, z1: int, name: str) -> int:
    """Imports slices z0..z1 of the real series (as NIfTI) into project pid: a small real study."""
    import nibabel as nib

    api = server.api()
    raw = api.get(f"/api/studies/{server.study_id}/volume.nii.gz").content
    img = nib.Nifti1Image.from_bytes(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    data = np.asarray(img.dataobj)[:, :, z0:z1]
    aff = img.affine.copy()
    aff[:3, 3] = aff[:3, 3] + aff[:3, 2] * z0
    out = nib.Nifti1Image(data.astype(np.int16), aff)
    body = gzip.compress(out.to_bytes(), 1)
    r = api.post_ok(f"/api/projects/{pid}/import",
                    files=[("files", (f"{name}.nii.gz", body, "application/gzip"))])
    res = [x for x in r.json()["results"] if x["status"] == "imported"]
    assert res, r.json()
    return int(res[0]["study_id"])


def new_project(server: Server, name: str, annotators: tuple[str, ...] = ()) -> int:
    api = server.api()
    pid = api.post_ok("/api/projects", json={"name": name, "description": "e2e"}).json()["id"]
    for u in annotators:
        api.post_ok(f"/api/projects/{pid}/members", json={"username": u, "role": "annotator"})
    return int(pid)


def reader_page(chromium, server: Server, user: str):
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    login(pg, server, user)
    return ctx, pg, errors


def csp_violations(chromium, server: Server, urls: list[str], ready: str) -> list[str]:
    """Opens pages as admin with the server's CSP enforced; returns CSP console errors."""
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    bad: list[str] = []
    pg.on("console", lambda m: bad.append(m.text) if "Content Security Policy" in m.text else None)
    pg.on("pageerror", lambda e: bad.append(str(e)))
    try:
        login(pg, server, "admin")
        for url in urls:
            pg.goto(server.base + url)
            pg.wait_for_selector(ready, timeout=120_000)
            pg.wait_for_timeout(500)
    finally:
        ctx.close()
    return bad


def annotate_and_submit(pg, server: Server, sid: int, y: int, x0: int, x1: int,
                        reopen: bool = True) -> int:
    if reopen:
        open_study(pg, server, sid)
        pg.locator("#assignment-state").wait_for()
        assert "in progress" in pg.inner_text("#assignment-state")
    use_single_axial(pg)
    set_brush(pg, "b", 2, 4)
    z = current_slice(pg)
    stroke(pg, z, y, x0, x1)
    for _ in range(3):  # a few seconds of activity, then one heartbeat
        pg.mouse.move(600, 400 + _)
        pg.wait_for_timeout(700)
    pg.evaluate("window.__lunglab.heartbeat()")
    vid = save_and_wait(pg)
    pg.click("#submit-assignment")
    pg.wait_for_function("document.querySelector('#assignment-state').textContent.includes('submitted')")
    return vid


def test_two_blinded_readers_review_staple_and_dashboard(page, chromium, server: Server) -> None:
    pid = new_project(server, "Collab e2e", ("anna", "bob"))
    sid = import_cropped(server, pid, 60, 76, "collab-crop")
    sid2 = import_cropped(server, pid, 100, 104, "collab-crop-2")
    api = server.api()

    # --- the admin assigns the study to both readers on the board
    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{pid}/board")
    page.locator(f'#board-table tr[data-study-id="{sid}"]').wait_for()
    page.check(f'#board-table tr[data-study-id="{sid}"] input.pick')
    page.check('#board-readers input[data-reader="anna"]')
    page.check('#board-readers input[data-reader="bob"]')
    page.click("#assign-selected")
    row = page.locator(f'#board-table tr[data-study-id="{sid}"]')
    page.wait_for_function("document.querySelectorAll("
                           f"'#board-table tr[data-study-id=\"{sid}\"] .badge').length === 2")
    assert "anna: assigned" in row.inner_text() and "bob: assigned" in row.inner_text()
    # automatic: one reader per study for the rest (the reader with the fewest assignments;
    # ties by name)
    page.fill("#auto-n", "1")
    page.fill("#auto-top", "2")
    page.click("#auto-assign-uncertain")  # the two most uncertain unannotated studies
    page.wait_for_function(
        "document.querySelector('#board-msg').textContent.includes('Auto-assigned 1')")
    page.wait_for_function("document.querySelectorAll("
                           f"'#board-table tr[data-study-id=\"{sid2}\"] .badge').length === 1")
    assert "anna: assigned" in page.inner_text(f'#board-table tr[data-study-id="{sid2}"]')
    screenshot(page, "assignment-board")

    # --- both readers work in parallel, each blind to the other
    ctx_a, pa, err_a = reader_page(chromium, server, "anna")
    ctx_b, pb, err_b = reader_page(chromium, server, "bob")
    try:
        pa.goto(f"{server.base}/projects/{pid}")
        pa.locator(f'#my-assignments tr[data-study-id="{sid}"]').wait_for()
        assert "assigned" in pa.inner_text(f'#my-assignments tr[data-study-id="{sid}"]')
        va = annotate_and_submit(pa, server, sid, 240, 290, 320)
        vb = annotate_and_submit(pb, server, sid, 244, 300, 336)
        # blinding: neither sees the other's version or name
        pa.reload()
        pa.wait_for_function("window.__lunglab && window.__lunglab.ready === true")
        pa.locator("#versions li[data-version]").first.wait_for()
        assert pa.locator(f'#versions li[data-version="{vb}"]').count() == 0
        assert "bob" not in pa.inner_text("#versions")
        assert pb.locator(f'#versions li[data-version="{va}"]').count() == 0
        rows = api.get(f"/api/projects/{pid}/assignments?study_id={sid}").json()["data"]
        mine = {a["username"]: a for a in rows}
        assert mine["anna"]["state"] == "submitted" and mine["bob"]["state"] == "submitted"
        assert mine["anna"]["submitted_version_id"] == va
        assert mine["bob"]["submitted_version_id"] == vb
        assert mine["anna"]["active_seconds"] > 0, mine["anna"]

        # --- the reviewer sees both readings with the disagreement map
        page.goto(f"{server.base}/studies/{sid}/review")
        page.wait_for_function("window.__review && window.__review.ready === true", timeout=120_000)
        assert page.locator("#review-readers tbody tr").count() == 2
        assert page.locator(".review-canvas").count() == 2  # side by side
        assert page.evaluate("window.__review.disagreementVoxels") > 0
        assert "voxels where readers differ" in page.inner_text("#disagreement-info")
        page.locator("#agreement-table").wait_for(timeout=180_000)
        page.select_option("#review-mode", "overlay")
        assert page.locator(".review-canvas").count() == 1
        page.select_option("#review-mode", "side")

        # --- return bob's reading with a note anchored to a slice + position; bob fixes and
        # resubmits
        canvas = page.locator(f'.review-canvas[data-layer="v{vb}"]')
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
        assert "Anchor: slice" in page.inner_text("#anchor-text")
        page.select_option("#return-target", label="bob")
        page.fill("#return-comment", "Lesion extends further laterally")
        page.fill("#anchor-note", "check this edge")
        page.click("#return-btn")
        page.wait_for_function(
            "document.querySelector('#review-msg').textContent.includes('Returned')")
        open_study(pb, server, sid)
        pb.locator("#assignment-state").wait_for()
        assert "returned" in pb.inner_text("#assignment-state")
        notes = pb.inner_text("#assignment-comments")
        assert "Lesion extends further laterally" in notes
        assert "check this edge" in notes and "slice" in notes
        vb = annotate_and_submit(pb, server, sid, 250, 300, 340, reopen=False)
        page.reload()
        page.wait_for_function("window.__review && window.__review.ready === true", timeout=120_000)
        assert page.locator(f'#review-readers tr[data-version="{vb}"]').count() == 1
        assert "check this edge" in page.inner_text("#review-comments")

        # --- STAPLE consensus, approved
        page.click("#consensus-staple")
        cons = page.locator('#other-versions li[data-kind="consensus"]')
        cons.first.wait_for()
        cid = int(cons.first.get_attribute("data-version"))
        cons.first.locator("button.approve-other").click()
        try:
            page.wait_for_function("document.querySelector('#final-info').textContent"
                                   f".includes('version {cid}')")
        except Exception as exc:
            decisions = api.get(f"/api/studies/{sid}/review").json()["decisions"]
            raise AssertionError(page.inner_text("#review-msg") + " / "
                                 + page.inner_text("#final-info") + str(decisions)) from exc
        review = api.get(f"/api/studies/{sid}/review").json()
        assert review["final_version_id"] == cid
        assert {r["state"] for r in review["readers"]} == {"approved"}
        # provenance: the chain from the readers' edits to the approved consensus, with effort
        page.wait_for_function(
            "document.querySelectorAll('#history-effort tbody tr').length === 2")
        page.wait_for_function(
            "document.querySelector('#history-chain').textContent.includes('approved')")
        assert "consensus" in page.inner_text("#history-chain")
        assert "voxels changed" in page.inner_text("#history-effort")
        screenshot(page, "review")

        # --- "edit a copy and approve": the reviewer edits the consensus and approves the
        # copy
        page.goto(f"{server.base}/studies/{sid}?review_copy_of={cid}")
        page.wait_for_function("window.__lunglab && window.__lunglab.ready === true",
                               timeout=120_000)
        page.locator("#review-copy-bar").wait_for()
        use_single_axial(page)
        set_brush(page, "b", 3, 3)
        stroke(page, current_slice(page), 200, 250, 262)
        page.click("#save")
        page.wait_for_function(
            "/review copy|failed/.test(document.querySelector('#study-msg').textContent)")
        assert 'review copy' in page.inner_text('#study-msg'), page.inner_text('#study-msg')
        review = api.get(f"/api/studies/{sid}/review").json()
        copy = [v for v in review["other_versions"] if v["id"] == review["final_version_id"]]
        assert review["final_version_id"] != cid and copy and copy[0]["kind"] == "human"

        # --- the reader sees the decision
        open_study(pa, server, sid)
        pa.locator("#assignment-state").wait_for()
        assert "approved" in pa.inner_text("#assignment-state")
        assert "approved by admin" in pa.inner_text("#assignment-comments")
    finally:
        ctx_a.close()
        ctx_b.close()
    assert not err_a and not err_b, (err_a, err_b)

    # --- the agreement dashboard shows the Dice
    page.goto(f"{server.base}/projects/{pid}/agreement")
    page.locator("#dash-points tbody tr").first.wait_for(timeout=180_000)
    dash = page.evaluate("window.__dashboard")
    assert dash["studies"] == 1
    infection = next(p for p in dash["points"] if p["label"] == "2")
    assert infection["mean_dice"] is not None and 0 < infection["mean_dice"] < 1
    assert f"{infection['mean_dice']:.3f}" in page.inner_text("#dash-points")
    assert page.locator("#chart-by-label").count() == 1
    assert page.locator("#chart-label-time path").count() >= 1
    screenshot(page, "agreement-dashboard")
    # the screens work under the server's CSP (no inline scripts, no eval; SVG charts)
    screens = [f"/projects/{pid}/agreement", f"/studies/{sid}/review", f"/projects/{pid}/board"]
    assert not csp_violations(chromium, server, screens,
                              "svg.chart, .review-canvas, #board-table"), "CSP violations"
    assert PASSWORD  # the readers logged in with the shared test password
