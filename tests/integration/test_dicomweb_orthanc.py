"""DICOMweb against a real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) on loopback.

The test starts its own Orthanc with a temporary configuration on a free port, puts an
identifiable CT study in it, then through LungLab's API: configures the project's PACS,
searches it (QIDO-RS), imports the study (WADO-RS, de-identified on the way in), saves a
label map, pushes it back as DICOM SEG (STOW-RS) and confirms through QIDO-RS that the SEG is
there; the SEG read back from the PACS matches the label map voxel for voxel.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.dicom_factory import make_ct_series
from tests.helpers import raw_labels

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN_DIRS = (Path("/usr/share/orthanc/plugins"), Path("/usr/lib/orthanc"))


def _plugin() -> Path | None:
    try:
        listed = subprocess.run(["dpkg", "-L", "orthanc-dicomweb"], capture_output=True,
                                text=True, timeout=20).stdout.split()
    except (OSError, subprocess.SubprocessError):
        listed = []
    candidates = [Path(p) for p in listed if "DicomWeb" in p and ".so" in p]
    candidates += [p for d in PLUGIN_DIRS if d.is_dir() for p in d.glob("libOrthancDicomWeb.so*")]
    return next((p for p in candidates if p.is_file()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Orthanc with the DICOMweb plugin; yields the DICOMweb base URL."""
    import httpx

    if not Path(ORTHANC).exists():
        pytest.skip("Orthanc is not installed (apt-get install -y orthanc orthanc-dicomweb)")
    plugin = _plugin()
    if plugin is None:
        pytest.skip("the Orthanc DICOMweb plugin is not installed (apt-get install -y "
                    "orthanc-dicomweb)")
    root = tmp_path_factory.mktemp("orthanc")
    port = _free_port()
    config = {
        "Name": "LungLabTest", "StorageDirectory": str(root / "db"),
        "IndexDirectory": str(root / "db"), "HttpPort": port, "HttpServerEnabled": True,
        "DicomServerEnabled": False, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True,
                     "Ssl": False, "StudiesMetadata": "Full", "SeriesMetadata": "Full"},
    }
    (root / "orthanc.json").write_text(json.dumps(config))
    log = open(root / "orthanc.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log,
                            stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {(root / 'orthanc.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/dicom-web/studies", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("Orthanc did not answer within 30 s")
        yield f"{base}/dicom-web"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_import_from_orthanc_and_push_seg_back(orthanc: str, app, admin_api,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    from lunglab.io.export.ct import slice_uids
    from lunglab.io.dicomweb import DicomwebConfig, make_client, store
    from lunglab.io.export.seg import read_seg_labels

    client = make_client(DicomwebConfig(orthanc))
    src = make_ct_series(tmp_path / "src", shape=(5, 24, 20), patient_id="PACS-4711",
                         patient_name="Pacs^Patient", rescale=(1.0, -1024.0))
    store(client, [pydicom.dcmread(p) for p in src.paths])

    pid = admin_api.post("/api/projects", json={"name": "PACS", "description": ""}).json()["id"]
    assert admin_api.post(f"/api/projects/{pid}/dicomweb/import",
                          json={"study_uid": src.study_uid}).status_code == 422  # no PACS yet
    r = admin_api.put(f"/api/projects/{pid}/dicomweb", json={"url": orthanc})
    assert r.status_code == 200 and r.json()["url"] == orthanc
    found = admin_api.get(f"/api/projects/{pid}/dicomweb/studies",
                          params={"patient_id": "PACS-4711"})
    assert found.status_code == 200, found.text
    rows = found.json()["data"]
    assert [x["study_uid"] for x in rows] == [src.study_uid]
    assert rows[0]["series_list"][0]["series_uid"] == src.series_uid

    r = admin_api.post(f"/api/projects/{pid}/dicomweb/import", json={"study_uid": src.study_uid})
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["status"] == "imported", result
    sid = result["study_id"]
    study = admin_api.get(f"/api/studies/{sid}").json()
    assert study["shape"] == [5, 24, 20] and "PACS-4711" not in json.dumps(study)
    vol = admin_api.get(f"/api/exports/studies/{sid}/ct.nii.gz")
    assert vol.status_code == 200

    labels = np.zeros((5, 24, 20), np.uint8)
    labels[:, 4:20, 2:9] = 1
    labels[:, 4:20, 11:18] = 1
    labels[1:3, 6:10, 3:7] = 2
    labels[2, 14:17, 12:15] = 3
    v = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                       data={"format": "raw"})
    assert v.status_code == 201, v.text
    pushed = admin_api.post(f"/api/versions/{v.json()['id']}/dicomweb/push")
    assert pushed.status_code == 200, pushed.text
    push = pushed.json()
    assert push["instances"] == 6  # 5 CT slices + 1 SEG

    seg_series = client.search_for_series(study_instance_uid=push["study_uid"],
                                          search_filters={"Modality": "SEG"})
    uids = [s["0020000E"]["Value"][0] for s in seg_series]
    assert uids == [push["seg_series_uid"]]  # QIDO confirms the SEG is on the PACS
    ct_series = client.search_for_series(study_instance_uid=push["study_uid"],
                                         search_filters={"Modality": "CT"})
    assert len(ct_series) == 1  # the de-identified CT it references
    (seg_ds,) = client.retrieve_series(push["study_uid"], push["seg_series_uid"])
    seg_ds.save_as(tmp_path / "seg.dcm", enforce_file_format=True)
    ct_uid = ct_series[0]["0020000E"]["Value"][0]
    assert np.array_equal(read_seg_labels(tmp_path / "seg.dcm", slice_uids(ct_uid, 5)), labels)
    assert seg_ds.PatientID != "PACS-4711" and push["study_uid"] != src.study_uid
    again = admin_api.post(f"/api/versions/{v.json()['id']}/dicomweb/push",
                           params={"with_ct": "false"})
    assert again.status_code == 200 and again.json()["instances"] == 1
    assert len(client.search_for_series(study_instance_uid=push["study_uid"],
                                        search_filters={"Modality": "SEG"})) == 1  # same UIDs
    events = admin_api.get("/api/audit", params={"action": "export.pacs_push"}).json()
    assert events["count"] == 2


def test_pacs_config_is_admin_only_and_holds_no_secret(app, admin_api, make_user, login) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "PC", "description": ""}).json()["id"]
    make_user("rev")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "rev", "role": "reviewer"})
    rev = login("rev")
    assert rev.put(f"/api/projects/{pid}/dicomweb", json={"url": "http://x"}).status_code == 403
    assert rev.get(f"/api/projects/{pid}/dicomweb/studies").status_code == 403
    bad = admin_api.put(f"/api/projects/{pid}/dicomweb", json={"url": "file:///etc/passwd"})
    assert bad.status_code == 422
    bad_env = admin_api.put(f"/api/projects/{pid}/dicomweb",
                            json={"url": "http://127.0.0.1:1/dicom-web", "password_env": "A B"})
    assert bad_env.status_code == 422
    ok = admin_api.put(f"/api/projects/{pid}/dicomweb",
                       json={"url": "http://127.0.0.1:1/dicom-web", "username": "u",
                             "password_env": "LUNGLAB_TEST_UNSET_PW"})
    assert ok.status_code == 200 and ok.json()["password_set"] is False
    project = rev.get(f"/api/projects/{pid}").json()
    assert project["settings"]["dicomweb"]["password_env"] == "LUNGLAB_TEST_UNSET_PW"
    down = admin_api.get(f"/api/projects/{pid}/dicomweb/studies")
    assert down.status_code == 422 and "PACS request failed" in down.json()["detail"]


def test_pacs_cli_config_search_import_push(orthanc: str, tmp_path: Path) -> None:
    """``lunglab pacs config|search|import|push`` on the same Orthanc (in-process runner)."""
    import os

    from typer.testing import CliRunner

    from lunglab.core.settings import get_settings
    from lunglab.db.session import session_scope
    from lunglab.io.dicomweb import DicomwebConfig, make_client, store
    from lunglab.io.store import make_store
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.cli.main import app as cli

    client = make_client(DicomwebConfig(orthanc))
    src = make_ct_series(tmp_path / "src", shape=(4, 16, 16), patient_id="CLI-0815", seed=3)
    store(client, [pydicom.dcmread(p) for p in src.paths])
    old = os.environ.get("LUNGLAB_DATA_DIR")
    os.environ["LUNGLAB_DATA_DIR"] = str(tmp_path / "data")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        from lunglab.db.migrate import upgrade_to_head
        from lunglab.services.access.projects import create_project

        settings = get_settings()
        settings.data_dir.mkdir(parents=True)
        upgrade_to_head(settings.resolved_database_url)
        with session_scope(settings.resolved_database_url) as db:
            create_project(db, "CLI PACS", actor=None)
        r = runner.invoke(cli, ["pacs", "config", "CLI PACS", "--url", orthanc])
        assert r.exit_code == 0 and json.loads(r.stdout)["url"] == orthanc, r.output
        r = runner.invoke(cli, ["pacs", "search", "CLI PACS", "--patient-id", "CLI-0815"],
                          env={"COLUMNS": "250"})
        assert r.exit_code == 0 and src.study_uid in r.stdout, r.output
        r = runner.invoke(cli, ["pacs", "import", "CLI PACS", src.study_uid])
        assert r.exit_code == 0 and "imported: study" in r.output, r.output
        sid = int(r.output.split("imported: study")[1].split()[0])
        labels = np.zeros((4, 16, 16), np.uint8)
        labels[:, 3:13, 2:7] = 1
        labels[1, 4:6, 3:5] = 2
        with session_scope(settings.resolved_database_url) as db:
            vid = save_version(db, make_store("local", settings.data_dir / "store"), None, sid,
                               labels, base_version_id=None, kind="human",
                               check_base=False).id
        r = runner.invoke(cli, ["pacs", "push", str(vid)])
        assert r.exit_code == 0, r.output
        push = json.loads(r.stdout)
        found = client.search_for_series(study_instance_uid=push["study_uid"],
                                         search_filters={"Modality": "SEG"})
        assert [s["0020000E"]["Value"][0] for s in found] == [push["seg_series_uid"]]
        r = runner.invoke(cli, ["pacs", "import", "CLI PACS", "1.2.3.4.5.404"])
        assert r.exit_code == 1, r.output
    finally:
        if old is None:
            os.environ.pop("LUNGLAB_DATA_DIR", None)
        else:
            os.environ["LUNGLAB_DATA_DIR"] = old
        get_settings.cache_clear()
