"""Dataset catalog: entries, downloads from a local HTTP server, local-copy readers."""
from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import nibabel as nib
import numpy as np
import pytest

from lunglab.domain.errors import InvalidInput, NotFound
from lunglab.io.catalog.entries import CatalogEntry, CatalogFile, get_entry, load_catalog
from lunglab.io.catalog.local import read_local
from lunglab.io.catalog.download import download

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges_seen: ClassVar[list[str]] = []
    honour_range = True

    def do_GET(self) -> None:
        if self.path != "/data.bin":
            self.send_error(404)
            return
        start = 0
        header = self.headers.get("Range")
        if header:
            type(self).ranges_seen.append(header)
        if header and type(self).honour_range:
            start = int(re.match(r"bytes=(\d+)-", header).group(1))  # type: ignore[union-attr]
            self.send_response(206)
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.ranges_seen = []
    _Handler.honour_range = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def entry_for(url: str, sha: str | None) -> CatalogEntry:
    return CatalogEntry(name="test", title="t", homepage=url, license="x",
                        license_verified=True, citation="c", layout="ct-seg-pairs",
                        files=(CatalogFile("data.bin", f"{url}/data.bin", sha),))


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_catalog_entries_are_complete_and_honest() -> None:
    entries = load_catalog()
    names = {e.name for e in entries}
    assert {"zenodo-3757476", "medseg-covid19", "mosmeddata", "covid19-ny-sbu"} <= names
    for e in entries:
        assert e.citation and e.license and e.url.startswith("http") and e.label_mapping
        for f in e.files:
            assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.sha256 or f.checksum_note  # unknown checksums are said so
        assert e.files or e.download_note
    with pytest.raises(NotFound):
        get_entry("nope")


def test_download_verifies_checksum(server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    sums = download(entry_for(server, SHA), tmp_path,
                    progress=lambda name, done, total: seen.append((done, total)))
    assert sums == {"data.bin": SHA}
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_checksum_mismatch_deletes_the_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="sha256 mismatch"):
        download(entry_for(server, "0" * 64), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_resume_with_range(server: str, tmp_path: Path) -> None:
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:1000])
    download(entry_for(server, SHA), tmp_path, progress=False)
    assert _Handler.ranges_seen == ["bytes=1000-"]
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_resume_restarts_when_range_ignored(server: str, tmp_path: Path) -> None:
    _Handler.honour_range = False
    (tmp_path / "data.bin.part").write_bytes(b"garbage" * 10)
    download(entry_for(server, SHA), tmp_path, progress=False)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_unknown_checksum_needs_opt_in(server: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="allow_unverified"):
        download(entry_for(server, None), tmp_path, progress=False)
    assert not list(tmp_path.iterdir())
    assert download(entry_for(server, None), tmp_path, progress=False,
                    allow_unverified=True) == {"data.bin": SHA}


def test_http_error(server: str, tmp_path: Path) -> None:
    bad = CatalogEntry(name="b", title="t", homepage=server, license="x",
                       license_verified=True, citation="c", layout="ct-seg-pairs",
                       files=(CatalogFile("missing.bin", f"{server}/missing.bin", SHA),))
    with pytest.raises(InvalidInput, match="HTTP 404"):
        download(bad, tmp_path, progress=False)


def test_entry_without_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no direct download"):
        download(get_entry("mosmeddata"), tmp_path, progress=False)


def _nii(path: Path, data: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.diag([-0.8, -0.8, 2.0, 1.0])), str(path))


def test_read_local_zenodo_layout(tmp_path: Path) -> None:
    ct = np.full((6, 5, 4), -800, np.int16)
    lung = np.zeros((6, 5, 4), np.uint8)
    lung[1:3], lung[3:5] = 1, 2  # left and right lung
    infection = np.zeros((6, 5, 4), np.uint8)
    infection[2, 2, 2] = 1
    _nii(tmp_path / "COVID-19-CT-Seg_20cases" / "coronacases_org_001.nii.gz", ct)
    _nii(tmp_path / "Lung_Mask" / "coronacases_001.nii.gz", lung)
    _nii(tmp_path / "Infection_Mask" / "coronacases_001.nii.gz", infection)
    _nii(tmp_path / "COVID-19-CT-Seg_20cases" /
         "radiopaedia_org_covid-19-pneumonia-4_85506_1-dcm.nii.gz", ct)
    _nii(tmp_path / "Lung_Mask" / "radiopaedia_4_85506_1.nii.gz", lung)
    cases = {c.name: c for c in read_local("zenodo-3757476", tmp_path)}
    assert set(cases) == {"coronacases_001", "radiopaedia_4_85506_1"}
    case = cases["coronacases_001"]
    assert case.volume.shape == (4, 5, 6) and case.labelmap is not None
    expected = np.zeros((6, 5, 4), np.uint8)
    expected[1:5] = 1
    expected[2, 2, 2] = 2
    np.testing.assert_array_equal(case.labelmap, expected.transpose(2, 1, 0))
    assert set(np.unique(cases["radiopaedia_4_85506_1"].labelmap)) == {0, 1}


def test_read_local_medseg_splits_slices_and_maps_classes(tmp_path: Path) -> None:
    ct = np.full((4, 4, 3), -700, np.int16)
    mask = np.zeros((4, 4, 3), np.uint8)
    mask[0, 0, :] = [1, 2, 3]
    _nii(tmp_path / "tr_im.nii.gz", ct)
    _nii(tmp_path / "tr_mask.nii.gz", mask)
    cases = list(read_local("medseg-covid19", tmp_path))
    assert len(cases) == 3 and all(c.volume.shape == (1, 4, 4) for c in cases)
    values = [int(c.labelmap[0, 0, 0]) for c in cases]  # type: ignore[index]
    assert values == [2, 3, 0]  # GGO, consolidation, effusion -> background


def test_read_local_mosmed_and_bad_layout(tmp_path: Path) -> None:
    ct = np.full((4, 4, 3), -700, np.int16)
    mask = np.zeros((4, 4, 3), np.uint8)
    mask[1, 1, 1] = 1
    _nii(tmp_path / "studies" / "CT-1" / "study_0255.nii.gz", ct)
    _nii(tmp_path / "masks" / "study_0255_mask.nii.gz", mask)
    (case,) = read_local("mosmeddata", tmp_path)
    assert case.name == "study_0255" and int(case.labelmap.sum()) == 2  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="COVID-19-CT-Seg_20cases"):
        list(read_local("zenodo-3757476", tmp_path))
