"""Log in, worklist, open the real series, scroll, window presets; access control."""
from __future__ import annotations

from .support import Server, login, screenshot


AXIAL_INFO_JS = "document.querySelector('[data-pane=axial] .view-info').textContent"


def axial_info(page) -> str:
    return page.locator('[data-pane="axial"] .view-info').inner_text()


def test_login_open_scroll_and_windows(page, server: Server) -> None:
    login(page, server, "anna")
    page.goto(f"{server.base}/projects/{server.project_id}")
    row = page.locator(f'tr.study-row[data-study-id="{server.study_id}"]')
    row.wait_for()
    assert "141" in row.inner_text()
    assert "Research use only" in page.inner_text("#ruo")
    screenshot(page, "worklist")
    row.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("window.__lunglab && window.__lunglab.ready === true", timeout=120_000)
    nz = server.shape[0]
    assert axial_info(page).endswith(f"{nz // 2 + 1}/{nz}")
    canvas = page.locator('canvas[data-view="axial"]')
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):
        page.mouse.wheel(0, 100)
        page.wait_for_timeout(50)
    page.wait_for_function(f"{AXIAL_INFO_JS}.endsWith('{nz // 2 + 4}/{nz}')")
    # PACS convention: wheel down and ArrowDown go toward the feet (higher slice numbers), slice 1
    # is the most cranial slice; PageUp goes 5 toward the head
    page.keyboard.press("ArrowDown")
    page.keyboard.press("PageUp")
    page.wait_for_function(f"{AXIAL_INFO_JS}.endsWith('{nz // 2}/{nz}')")
    page.keyboard.press("Home")
    page.wait_for_function(f"{AXIAL_INFO_JS}.endsWith(' 1/{nz}')")
    z_top = page.evaluate("window.__lunglab.viewer.cursor[2]")
    direction_z = page.evaluate("window.__lunglab.study.direction[8]")
    origin_z = page.evaluate("window.__lunglab.study.origin[2]")
    sz = server.spacing[2]
    # slice 1 is the slice with the largest patient z (LPS: +z is superior)
    bottom_z = origin_z + direction_z * sz * (nz - 1)
    assert origin_z + direction_z * sz * z_top == max(origin_z, bottom_z)
    # the direction is a setting: wheel down toward the head
    page.locator("#view-settings summary").click()
    page.select_option("#wheel-direction", "head")
    page.keyboard.press("End")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 100)
    page.wait_for_function(f"{AXIAL_INFO_JS}.endsWith('{nz - 1}/{nz}')")
    assert page.evaluate("JSON.parse(localStorage.getItem('lunglab.settings')).wheelDown") == "head"
    page.select_option("#wheel-direction", "feet")
    assert "HU" in page.inner_text("#cursor-info")
    assert page.inner_text("#wl-text") == "W 1500 / L -600"
    page.keyboard.press("w")
    assert page.inner_text("#wl-text") == "W 350 / L 50"
    page.keyboard.press("w")
    assert page.inner_text("#wl-text") == "W 1500 / L -600"
    page.click("#preset-mediastinum")
    assert page.inner_text("#wl-text") == "W 350 / L 50"
    # free window/level by right-drag
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down(button="right")
    page.mouse.move(box["x"] + 260, box["y"] + 230, steps=5)
    page.mouse.up(button="right")
    assert page.inner_text("#wl-text") != "W 350 / L 50"


def test_annotator_cannot_open_study_not_theirs(page, server: Server) -> None:
    login(page, server, "bob")
    page.goto(f"{server.base}/projects/{server.project_id}")
    page.wait_for_selector("#worklist")
    page.wait_for_timeout(500)
    assert page.locator(f'tr.study-row[data-study-id="{server.study_id}"]').count() == 0
    page.goto(f"{server.base}/studies/{server.study_id}")
    err = page.locator("#study-error")
    err.wait_for()
    assert "cannot open this study" in err.inner_text()
    assert page.locator("canvas[data-view=axial]").count() == 0
