"""Issue 16 items 3 and 6 in the browser: every result one click from the study and project
pages, bulk Run AI on the worklist, and radiologists' habits (last label remembered, label
dropdown not cut off, agreement without readings, no 401 on the log-in page)."""
from __future__ import annotations

import pytest

from .support import PASSWORD, Server, latest_version, login, open_study


pytestmark = pytest.mark.usefixtures("leave_the_study_as_found")


def test_login_page_logs_no_401(chromium, server: Server) -> None:
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    messages: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(server.base + "/")  # not signed in: straight to the log-in page
        page.wait_for_url(lambda u: "/login" in u)
        page.wait_for_selector("#username")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        page.wait_for_timeout(500)
        assert not [u for u in requests if u.endswith("/api/auth/me")], requests
        assert not [m for m in messages if "401" in m or m.startswith("error")], messages
    finally:
        ctx.close()


def test_study_results_menu_and_last_label(page, server: Server) -> None:
    api = server.api()
    if latest_version(api, server.study_id) is None:  # results need a saved label map
        labels = api.labels(None, server.shape)
        labels[70, 200:240, 150:200] = 1
        assert api.save_raw(server.study_id, labels, None).status_code == 201
    login(page, server, "admin")
    open_study(page, server)
    # the label dropdown shows its whole text
    assert page.evaluate("(() => { const s = document.querySelector('#active-label'); "
                         "return s.scrollWidth <= s.clientWidth + 1; })()")
    page.select_option("#active-label", "3")
    # the page may finish loading its newest version just after it says ready
    page.wait_for_function("window.__lunglab.baseVersionId !== null")
    page.locator("#results-menu summary").click()
    items = page.locator("#results-items")
    items.wait_for()
    page.locator("a#res-report-html").wait_for()  # the menu fills its links after it opens
    vid = page.evaluate("window.__lunglab.baseVersionId")
    for sel in ("#res-report-html", "#res-report-pdf", "#res-figures", "#res-labels-nifti",
                "#res-seg", "#res-ct-nifti", "#res-ct-dicom"):
        assert page.locator(f"a{sel}").count() == 1, sel
    assert page.get_attribute("#res-seg", "href") == f"/api/exports/versions/{vid}/seg.dcm"
    page.wait_for_function(
        "!document.querySelector('#results-items').textContent.includes('looking for')")
    assert "Change over time" in items.inner_text()
    # the links work: the report page opens, the SEG downloads
    assert api.get(page.get_attribute("#res-report-html", "href")).status_code == 200
    with page.expect_download() as dl:
        page.click("#res-seg")
    assert dl.value.suggested_filename.endswith(".dcm")
    # the last label is remembered on the next study page
    page.reload()
    page.wait_for_function("window.__lunglab && window.__lunglab.ready === true", timeout=120_000)
    assert page.input_value("#active-label") == "3"


def test_project_bulk_ai_and_exports(page, server: Server) -> None:
    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{server.project_id}")
    page.locator(f'input.pick-study[data-study-id="{server.study_id}"]').check()
    assert page.inner_text("#bulk-run-ai") == "Run AI on 1 study"
    assert "/projects/" in page.url  # the checkbox does not open the study
    page.click("#bulk-run-ai")
    item = page.locator(f'#bulk-jobs li[data-study-id="{server.study_id}"]')
    item.wait_for()
    row = f"#bulk-jobs li[data-study-id=\"{server.study_id}\"]"
    page.wait_for_function(f"document.querySelector('{row}').dataset.state === 'succeeded'",
                           timeout=300_000)
    assert "done" in item.inner_text()
    with page.expect_download() as dl:
        page.click("#export-summary-csv")
    assert dl.value.suggested_filename.endswith(".csv")
    page.wait_for_function("document.querySelector('#export-status').textContent.includes('saved')")


def test_agreement_without_readings_says_so(page, server: Server) -> None:
    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{server.import_project_id}/agreement")
    page.locator("#dash-empty").wait_for()
    assert "No readings yet" in page.inner_text("#dash-empty")
    assert page.locator("#chart-label-time").count() == 0
    assert "1 Jan" not in page.inner_text("#agreement-dashboard")
