"""Drag-and-drop import on the project page: the real series, and a bad file refused with its
reason."""
from __future__ import annotations

from .support import SERIES, Server, login

DROP_JS = """([inputId, zoneId]) => {
  const input = document.getElementById(inputId);
  const dt = new DataTransfer();
  for (const f of input.files) dt.items.add(f);
  const zone = document.getElementById(zoneId);
  const init = { dataTransfer: dt, bubbles: true, cancelable: true };
  zone.dispatchEvent(new DragEvent('dragover', init));
  zone.dispatchEvent(new DragEvent('drop', init));
}"""


def drop_files(page, files) -> None:
    """Drops files onto the import zone the way a browser does: a DataTransfer of File objects."""
    page.evaluate("""() => {
      const i = document.createElement('input'); i.type = 'file'; i.multiple = true;
      i.id = 'e2e-drop-source'; i.style.display = 'none'; document.body.append(i); }""")
    page.set_input_files("#e2e-drop-source", files)
    page.evaluate(DROP_JS, ["e2e-drop-source", "dropzone"])
    page.evaluate("document.getElementById('e2e-drop-source').remove()")


def test_drag_and_drop_real_series_and_bad_file(page, server: Server) -> None:
    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{server.import_project_id}")
    page.wait_for_selector("#dropzone")
    assert page.locator("tr.study-row").count() == 0
    drop_files(page, sorted(str(p) for p in SERIES.iterdir() if p.is_file()))
    result = page.locator("#import-results li.result").first
    result.wait_for(timeout=300_000)
    status = result.get_attribute("data-status")
    assert status in ("imported", "duplicate"), result.inner_text()
    assert page.locator("#upload-progress").evaluate("p => p.value") == 1
    row = page.locator("tr.study-row").first
    row.wait_for()
    assert "141" in row.inner_text()
    # a file that is neither DICOM, NIfTI nor zip
    drop_files(page, [{"name": "notes.txt", "mimeType": "text/plain",
                       "buffer": b"not an image\n" * 10}])
    page.wait_for_function("document.querySelector('#import-results li.result') && "
                           "document.querySelector('#import-results').textContent"
                           ".includes('notes.txt')", timeout=120_000)
    refused = page.locator('#import-results li.result[data-status="refused"]')
    assert refused.count() >= 1
    text = refused.first.inner_text()
    assert "notes.txt" in text and " — " in text, text  # the reason follows the name


def test_upload_resumes_after_dropped_connections(page, server: Server) -> None:
    """Chunk uploads that fail mid-way are resumed from the server's offset, not restarted."""
    login(page, server, "admin")
    page.goto(f"{server.base}/projects/{server.import_project_id}")
    page.wait_for_selector("#dropzone")
    failures = {"left": 4}
    puts: list[str] = []

    def flaky(route) -> None:
        puts.append(route.request.url)
        if failures["left"] > 0:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/*/files/*", flaky)
    files = sorted(str(p) for p in SERIES.iterdir() if p.is_file())[:20]
    drop_files(page, files)
    result = page.locator("#import-results li.result").first
    result.wait_for(timeout=300_000)
    assert failures["left"] == 0 and len(puts) >= 20 + 4
    assert result.get_attribute("data-status") in ("imported", "duplicate"), result.inner_text()
    assert page.locator("#upload-progress").evaluate("p => p.value") == 1
