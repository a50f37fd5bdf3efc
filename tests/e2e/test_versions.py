"""A save on top of an outdated version is explained, and either kept as a new version or
reloaded."""
from __future__ import annotations

import json

import numpy as np

from .support import (Server, current_slice, latest_version, login, open_study, set_brush, stroke,
                      use_single_axial)


def test_conflict_keep_mine_and_reload(page, server: Server) -> None:
    api = server.api()
    login(page, server, "admin")
    open_study(page, server)
    base = page.evaluate("window.__lunglab.baseVersionId")
    # someone (here: the same reader in another tab) saves meanwhile
    other = api.labels(base, server.shape)
    other[10:12, 10:12, 10:12] = 1
    r = api.save_raw(server.study_id, other, base)
    assert r.status_code == 201, r.text
    theirs = r.json()["id"]
    use_single_axial(page)
    set_brush(page, "b", 2, 2)
    z = current_slice(page)
    stroke(page, z, 240, 300, 310)
    page.click("#save")
    dialog = page.locator("#conflict-dialog")
    dialog.wait_for()
    assert "newer version" in dialog.inner_text()
    page.click("#conflict-keep")
    prev = base if base is not None else "null"
    page.wait_for_function(
        f"window.__lunglab.baseVersionId !== {prev} && !window.__lunglab.dirty")
    mine = page.evaluate("window.__lunglab.baseVersionId")
    assert mine != theirs and latest_version(api, server.study_id) == mine
    v = api.get(f"/api/studies/{server.study_id}/versions").json()["data"][0]
    assert v["id"] == mine and v["parent_id"] == theirs
    saved = api.labels(mine, server.shape)
    assert saved[z, 240, 305] == 2
    # second conflict, this time reload the newest version
    newer = saved.copy()
    newer[20:22, 20:22, 20:22] = 3
    theirs2 = api.save_raw(server.study_id, newer, mine).json()["id"]
    stroke(page, z, 250, 300, 310)
    page.click("#save")
    page.locator("#conflict-dialog").wait_for()
    page.click("#conflict-reload")
    page.wait_for_function(f"window.__lunglab.baseVersionId === {theirs2}")
    assert page.evaluate("window.__lunglab.labelAt([20, 20, 20])") == 3
    assert page.evaluate(f"window.__lunglab.labelAt([305, 250, {z}])") == int(newer[z, 250, 305])
    assert not np.array_equal(newer, saved)


def test_history_lists_versions_and_diff_overlay(page, server: Server) -> None:
    api = server.api()
    login(page, server, "admin")
    open_study(page, server)
    versions = api.get(f"/api/studies/{server.study_id}/versions").json()["data"]
    assert len(versions) >= 2
    items = page.locator("#versions li[data-version]")
    items.first.wait_for()
    assert items.count() == len(versions)
    assert "admin" in items.first.inner_text() and "Δ voxels" in items.first.inner_text()
    # diff the loaded (newest) labels against the oldest version
    oldest = versions[-1]["id"]
    a = api.labels(oldest, server.shape)
    b = api.labels(versions[0]["id"], server.shape)
    page.locator(f'#versions li[data-version="{oldest}"] button', has_text="Diff").click()
    info = page.locator("#diff-info")
    info.wait_for()
    page.wait_for_function(
        "document.querySelector('#diff-info').textContent.includes('voxels differ')")
    number = info.inner_text().split(":")[1].split("voxels")[0]
    shown = int(number.replace(",", "").replace("\u202f", "").strip())
    assert shown == int((a != b).sum())
    page.click("#clear-diff")
    assert page.inner_text("#diff-info") == ""


def test_draft_is_autosaved_and_restored_after_reload(page, server: Server) -> None:
    login(page, server, "admin")
    open_study(page, server)
    use_single_axial(page)
    set_brush(page, "b", 3, 3)
    z = current_slice(page)
    stroke(page, z, 200, 250, 262)
    counts = page.evaluate("window.__lunglab.counts()")
    page.wait_for_timeout(8000)  # edits settle (1.5 s), autosave runs every 5 s
    open_study(page, server)  # a reload: the unsaved stroke is gone from memory...
    assert page.evaluate("window.__lunglab.counts()") != counts
    page.locator("#draft-banner").wait_for()  # ...but the draft is offered back
    page.click("#restore-draft")
    expected = json.dumps(counts, separators=(",", ":"))
    page.wait_for_function(f"JSON.stringify(window.__lunglab.counts()) === '{expected}'")
    assert page.evaluate(f"window.__lunglab.labelAt([256, 200, {z}])") == 3
