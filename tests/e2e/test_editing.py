"""Painting is voxel-exact through save; threshold brush; undo/redo; fill between slices; 3D
view."""
from __future__ import annotations

import numpy as np

from .support import (
    Server,
    brush_union,
    current_slice,
    latest_version,
    login,
    nifti_zyx,
    open_study,
    save_and_wait,
    screenshot,
    set_brush,
    stroke,
    use_single_axial,
)


def test_brush_stroke_saves_exactly_those_voxels(page, server: Server) -> None:
    api = server.api()
    base = latest_version(api, server.study_id)
    login(page, server, "admin")
    open_study(page, server)
    assert page.evaluate("window.__lunglab.baseVersionId") == base
    use_single_axial(page)
    set_brush(page, "b", 2, 3)
    z = current_slice(page)
    y, x0, x1 = 250, 236, 276
    stroke(page, z, y, x0, x1)
    vid = save_and_wait(page)
    before = api.labels(base, server.shape)
    after = api.labels(vid, server.shape)
    assert after.shape == tuple(server.shape)
    painted = brush_union(server.shape, server.spacing, z, y, x0, x1, 3.0)
    expected = painted & (before != 2)
    changed = after != before
    assert expected.sum() > 100
    assert np.array_equal(changed, expected), (
        f"{int((changed & ~expected).sum())} unexpected, "
        f"{int((expected & ~changed).sum())} missing")
    assert np.all(after[changed] == 2)
    v = api.get(f"/api/studies/{server.study_id}/versions").json()["data"][0]
    assert v["id"] == vid and v["parent_id"] == base and v["author"] == "admin"
    # with a base, the client sends only the slices the stroke touched; without, the whole map
    touched = len(np.unique(np.nonzero(changed)[0]))
    sent = page.evaluate("window.__lunglab.lastSave")
    assert sent["slices"] == (server.shape[0] if base is None else touched), sent
    # a second stroke on the saved version: sent as those slices only, and exact again
    stroke(page, z, y + 30, x0, x1)
    vid2 = save_and_wait(page)
    again = api.labels(vid2, server.shape)
    changed2 = again != after
    assert np.array_equal(changed2, brush_union(server.shape, server.spacing, z, y + 30, x0, x1,
                                                3.0) & (after != 2))
    sent = page.evaluate("window.__lunglab.lastSave")
    assert sent["slices"] == len(np.unique(np.nonzero(changed2)[0])) < server.shape[0], sent


def test_threshold_brush_leaves_out_of_range_voxels(page, server: Server) -> None:
    api = server.api()
    ct = api.get(f"/api/studies/{server.study_id}/volume.nii.gz").content
    hu = nifti_zyx(ct).astype(np.int32)
    base = latest_version(api, server.study_id)
    login(page, server, "admin")
    open_study(page, server)
    use_single_axial(page, zoom_steps=5)
    set_brush(page, "t", 3, 8)
    page.click("#hu-ggo")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    z = current_slice(page)
    y, x0, x1 = 300, 120, 200
    stroke(page, z, y, x0, x1)
    vid = save_and_wait(page)
    before, after = api.labels(base, server.shape), api.labels(vid, server.shape)
    painted = brush_union(server.shape, server.spacing, z, y, x0, x1, 8.0)
    in_range = (hu >= -750) & (hu <= -300)
    assert (painted & ~in_range).sum() > 50 and (painted & in_range).sum() > 50, (
        "stroke should cross both")
    changed = after != before
    assert not np.any(changed & ~in_range), "threshold brush painted a voxel outside -750..-300 HU"
    assert np.array_equal(changed, painted & in_range & (before != 3))
    assert np.all(after[changed] == 3)


def test_undo_redo(page, server: Server) -> None:
    login(page, server, "admin")
    open_study(page, server)
    use_single_axial(page)
    set_brush(page, "b", 1, 2)
    z = current_slice(page)
    counts0 = page.evaluate("window.__lunglab.counts()")
    stroke(page, z, 220, 250, 262)
    counts1 = page.evaluate("window.__lunglab.counts()")
    stroke(page, z, 228, 250, 262)
    counts2 = page.evaluate("window.__lunglab.counts()")
    assert counts0 != counts1 != counts2
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__lunglab.counts()") == counts1
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__lunglab.counts()") == counts0
    page.keyboard.press("Control+y")
    assert page.evaluate("window.__lunglab.counts()") == counts1
    page.keyboard.press("Control+y")
    assert page.evaluate("window.__lunglab.counts()") == counts2
    page.click("#undo")
    assert page.evaluate("window.__lunglab.counts()") == counts1
    page.click("#redo")
    assert page.evaluate("window.__lunglab.counts()") == counts2


def test_fill_between_slices(page, server: Server) -> None:
    login(page, server, "admin")
    open_study(page, server)
    use_single_axial(page)
    set_brush(page, "b", 3, 4)
    z0 = current_slice(page) - 20
    page.evaluate(f"window.__lunglab.viewer.setSlice('axial', {z0})")
    count = "window.__lunglab.sliceCount"
    assert all(page.evaluate(f"{count}(3, {z})") == 0 for z in range(z0, z0 + 7))
    stroke(page, z0, 260, 240, 250)
    for _ in range(6):
        page.keyboard.press("ArrowUp")
    assert current_slice(page) == z0 + 6
    stroke(page, z0 + 6, 264, 244, 258)
    page.keyboard.press("f")
    inner = [page.evaluate(f"{count}(3, {z})") for z in range(z0 + 1, z0 + 6)]
    first, last = page.evaluate(f"{count}(3, {z0})"), page.evaluate(f"{count}(3, {z0 + 6})")
    assert all(n > 0 for n in inner), inner
    assert min(first, last) * 0.7 <= min(inner) and max(inner) <= max(first, last) * 1.3, (
        first, inner, last)
    page.keyboard.press("Control+z")
    assert all(page.evaluate(f"{count}(3, {z})") == 0 for z in range(z0 + 1, z0 + 6))


def test_region_grow_labels_and_3d_view(page, server: Server) -> None:
    login(page, server, "admin")
    open_study(page, server)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("1")
    page.keyboard.press("g")
    page.select_option("#brush-mode", "3d")
    page.fill("#hu-lo", "-1024")
    page.fill("#hu-hi", "-400")
    page.dispatch_event("#hu-hi", "change")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    # seed: the darkest voxel near the middle of the right lung on the current axial slice
    z = current_slice(page)
    seed = page.evaluate(f"""(() => {{
      const v = window.__lunglab.viewer, g = v.ct.g; let best = null, bh = 1e9;
      for (let y = 200; y < 320; y++) for (let x = 100; x < 200; x++) {{
        const h = v.ct.hu[({z} * g.ny + y) * g.nx + x];
        if (h < bh) {{ bh = h; best = [x, y]; }} }} return best; }})()""")
    p = page.evaluate(f"window.__lunglab.voxelToClient('axial', [{seed[0]}, {seed[1]}, {z}])")
    page.mouse.click(p[0], p[1])
    lung = page.evaluate("window.__lunglab.counts()")[1]
    assert lung > 200_000, lung
    assert "mL" in page.inner_text('#legend [data-vol="1"]')
    # a lesion-like GGO patch for the picture
    page.keyboard.press("2")
    page.keyboard.press("t")
    page.fill("#brush-radius", "12")
    page.dispatch_event("#brush-radius", "change")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stroke(page, z, seed[1] - 20, seed[0] - 20, seed[0] + 20)
    page.keyboard.press("n")
    page.click("#layout-2x2")
    page.wait_for_selector('canvas[data-view="3d"]')
    page.wait_for_timeout(3000)
    screenshot(page, "study-view")
    page.select_option("#single-pane", "3d")
    page.wait_for_timeout(2500)
    screenshot(page, "3d-view")
