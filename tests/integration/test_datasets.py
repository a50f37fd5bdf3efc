"""Catalog dataset import: download from a local HTTP server, verify sha256, import images and
masks as 'imported' label maps. No test reaches the internet."""
from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
import zipfile
from functools import partial
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest


def _nifti_bytes(arr: np.ndarray, path: Path) -> None:
    nib.save(nib.Nifti1Image(arr, np.diag([0.8, 0.8, 5.0, 1.0])), path)


def _make_zenodo_copy(root: Path) -> dict[str, np.ndarray]:
    """Three zips in the layout of Zenodo record 3757476, with one small case."""
    root.mkdir(parents=True, exist_ok=True)
    ct = np.full((24, 20, 4), -900, np.int16)  # x, y, z
    lung = np.zeros(ct.shape, np.uint8)
    lung[4:20, 4:16, :] = 1
    infection = np.zeros(ct.shape, np.uint8)
    infection[8:12, 6:9, 1:3] = 1
    for zip_name, member, arr in (
        ("COVID-19-CT-Seg_20cases.zip", "coronacases_org_001.nii.gz", ct),
        ("Lung_Mask.zip", "coronacases_001.nii.gz", lung),
        ("Infection_Mask.zip", "coronacases_001.nii.gz", infection),
    ):
        tmp = root / member
        _nifti_bytes(arr, tmp)
        with zipfile.ZipFile(root / zip_name, "w") as zf:
            zf.write(tmp, member)
        tmp.unlink()
    expected = np.zeros(ct.shape, np.uint8)
    expected[lung > 0] = 1
    expected[infection > 0] = 2
    return {"labels_zyx": np.transpose(expected, (2, 1, 0))}


@pytest.fixture
def http_root(tmp_path):  # type: ignore[no-untyped-def]
    root = tmp_path / "www"
    info = _make_zenodo_copy(root)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", info
    server.shutdown()


def _entry(root: Path, base: str, *, corrupt: bool = False):  # type: ignore[no-untyped-def]
    from lunglab.io.catalog.entries import get_entry

    real = get_entry("zenodo-3757476")
    files = []
    for f in real.files:
        digest = hashlib.sha256((root / f.name).read_bytes()).hexdigest()
        files.append(dataclasses.replace(f, url=f"{base}/{f.name}",
                                         sha256="0" * 64 if corrupt else digest))
    return dataclasses.replace(real, files=tuple(files))


def test_download_verify_and_import_with_masks(settings, http_root):
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.models import LabelMapVersion, Study
    from lunglab.db.session import session_scope
    from lunglab.io.store import make_store
    from lunglab.services.ingest.datasets import import_dataset
    from lunglab.services.labels.labelmaps import read_labels

    root, base, info = http_root
    upgrade_to_head(settings.resolved_database_url)
    summary = import_dataset(_entry(root, base), "open data", settings=settings)
    assert (summary.imported, summary.label_maps) == (1, 1)
    store = make_store("local", settings.data_dir / "store")
    with session_scope(settings.resolved_database_url) as db:
        study = db.get(Study, summary.studies[0])
        assert study.shape == [4, 20, 24]
        (version,) = db.query(LabelMapVersion).filter_by(study_id=study.id).all()
        assert version.kind == "imported" and version.details["dataset"] == "zenodo-3757476"
        assert np.array_equal(read_labels(store, version), info["labels_zyx"])
    again = import_dataset(_entry(root, base), "open data", settings=settings)
    assert (again.imported, again.duplicates) == (0, 1)


def test_checksum_mismatch_refused_and_nothing_imported(settings, http_root):
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.domain.errors import InvalidInput
    from lunglab.services.ingest.datasets import import_dataset

    root, base, _ = http_root
    upgrade_to_head(settings.resolved_database_url)
    with pytest.raises(InvalidInput, match="sha256 mismatch"):
        import_dataset(_entry(root, base, corrupt=True), "open data", settings=settings)
    store = settings.data_dir / "store"
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    leftovers = list((settings.data_dir / "datasets").rglob("*.zip"))
    assert leftovers == []


def test_unknown_checksum_needs_explicit_consent(settings):
    from lunglab.domain.errors import InvalidInput
    from lunglab.services.ingest.datasets import import_dataset

    with pytest.raises(InvalidInput, match="no published sha256"):
        import_dataset("zenodo-3757476", "open data", settings=settings)
