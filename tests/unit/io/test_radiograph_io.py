"""CR/DX DICOM and PNG/JPEG radiographs: pixels for display, de-identification, burned-in text."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from tests.radiograph_factory import TEXT_BOX, make_radiograph, picture_png

from lunglab.io.limits import UploadLimits
from lunglab.io.radiograph import RadiographOptions
from lunglab.io.scan import scan_upload

SECRET = b"project-secret"


def scan(tmp_path: Path, files: list[Path], **kw):  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return scan_upload([(p.name, p) for p in files], project_secret=SECRET,
                       limits=UploadLimits(), workdir=work, **kw)


@pytest.mark.parametrize("modality", ["CR", "DX"])
@pytest.mark.parametrize("photometric", ["MONOCHROME1", "MONOCHROME2"])
def test_dicom_radiograph_is_shown_brighter_is_denser_with_its_window(
        tmp_path: Path, modality: str, photometric: str) -> None:
    r = make_radiograph(tmp_path / "x.dcm", modality=modality, photometric=photometric)
    result = scan(tmp_path, [r.path])
    assert not result.refused
    (s,) = result.series
    assert s.volume.shape == (1, 256, 320)
    np.testing.assert_array_equal(s.volume.array[0], r.display)
    # lungs darker than the body whatever the photometric interpretation
    assert s.volume.array[0, 128, 105] < s.volume.array[0, 240, 160]
    assert s.meta["RadiographWindow"] == pytest.approx(list(r.window))
    assert s.meta["Modality"] == modality
    assert s.volume.spacing[:2] == (0.15, 0.15)
    assert s.name == f"{modality} chest radiograph PA"


def test_monochrome1_window_centre_is_mirrored(tmp_path: Path) -> None:
    r1 = make_radiograph(tmp_path / "a.dcm", photometric="MONOCHROME1", window=(1000, 500))
    (s,) = scan(tmp_path, [r1.path]).series
    lo, hi = r1.display.min(), r1.display.max()
    assert s.meta["RadiographWindow"] == pytest.approx([lo + hi - 1000 + 0.0, 500])
    assert any("MONOCHROME1 inverted" in w for w in s.warnings)


def test_voi_lut_sequence_is_applied_at_import(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "v.dcm", modality="CR", voi_lut=True)
    (s,) = scan(tmp_path, [r.path]).series
    np.testing.assert_array_equal(s.volume.array[0], r.display)
    assert s.volume.array.max() <= 1023
    assert any("VOI LUT applied" in w for w in s.warnings)


def test_rescale_is_applied(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "r.dcm", rescale=(2.0, -100.0), window=None)
    (s,) = scan(tmp_path, [r.path]).series
    np.testing.assert_array_equal(s.volume.array[0], r.display)


def test_no_phi_is_kept_and_uids_are_pseudonyms(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "p.dcm", burned_in="YES")
    (s,) = scan(tmp_path, [r.path]).series
    text = repr((s.meta, s.name, s.warnings, s.study_uid_pseudo, s.series_uid_pseudo))
    for secret in ("PAT-0042", "Doe", "John", "19600101", "20200320", "General",
                   r.study_uid, r.series_uid, r.sop_uid):
        assert secret not in text
    assert s.study_uid_pseudo.startswith("2.25.")
    assert any("BurnedInAnnotation is YES" in w for w in s.warnings)
    # the same file again gives the same pseudonyms (a duplicate upload is recognised)
    (again,) = scan(tmp_path, [r.path]).series
    assert again.series_uid_pseudo == s.series_uid_pseudo


def test_two_views_in_one_series_become_two_radiographs(tmp_path: Path) -> None:
    a = make_radiograph(tmp_path / "pa.dcm", view="PA")
    b = make_radiograph(tmp_path / "lat.dcm", view="LL", series_uid=a.series_uid,
                        study_uid=a.study_uid)
    series = scan(tmp_path, [a.path, b.path]).series
    assert sorted(s.name for s in series) == ["DX chest radiograph LL", "DX chest radiograph PA"]
    assert len({s.series_uid_pseudo for s in series}) == 2
    assert len({s.study_uid_pseudo for s in series}) == 1


def test_ct_next_to_radiograph_in_one_upload(tmp_path: Path) -> None:
    from tests.dicom_factory import make_ct_series

    ct = make_ct_series(tmp_path / "ct", shape=(3, 8, 8))
    r = make_radiograph(tmp_path / "cr.dcm", modality="CR")
    result = scan(tmp_path, [*ct.paths, r.path])
    assert sorted(s.meta["Modality"] for s in result.series) == ["CR", "CT"]


def test_colour_radiograph_is_refused(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "c.dcm")
    ds = pydicom.dcmread(r.path)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.zeros((256, 320, 3), np.uint8).tobytes()
    ds.save_as(r.path)
    result = scan(tmp_path, [r.path])
    assert not result.series
    assert "grayscale" in result.refused[0].reason


def test_png_and_jpeg_pictures(tmp_path: Path) -> None:
    from PIL import Image

    grey = picture_png(tmp_path / "CR.1.2.3.png")
    Image.fromarray(grey).save(tmp_path / "x.jpg", quality=95)
    series = scan(tmp_path, [tmp_path / "CR.1.2.3.png", tmp_path / "x.jpg"]).series
    png = next(s for s in series if s.meta["PictureFormat"] == "PNG")
    jpg = next(s for s in series if s.meta["PictureFormat"] == "JPEG")
    np.testing.assert_array_equal(png.volume.array[0], grey)
    assert np.abs(jpg.volume.array[0].astype(int) - grey).mean() < 3
    assert png.meta["Modality"] == "XR" and png.kind == "picture"
    assert "1.2.3" not in png.name  # the client's file name (a UID here) is never kept
    assert png.patient_key != jpg.patient_key


def test_a_renamed_text_file_is_refused_not_read_as_picture(tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    result = scan(tmp_path, [bad])
    assert not result.series and "unreadable picture" in result.refused[0].reason


def test_burned_in_text_is_flagged_and_can_be_blacked_out(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "t.dcm", text=True)
    (flagged,) = scan(tmp_path, [r.path]).series
    (region,) = flagged.meta["TextRegions"]
    y0, x0, y1, x1 = region
    ty0, tx0, _, _ = TEXT_BOX
    assert y0 <= ty0 + 6 and x0 <= tx0 + 4 and y1 >= ty0 + 20 and x1 >= tx0 + 4 + 14 * 4 + 9
    assert y1 - y0 < 40 and x1 - x0 < 100  # the text, not the chest
    assert any("suspected burned-in text" in w for w in flagged.warnings)
    np.testing.assert_array_equal(flagged.volume.array[0], r.display)
    (blacked,) = scan(tmp_path, [r.path],
                      radiograph_options=RadiographOptions(black_out_text=True)).series
    img = blacked.volume.array[0]
    assert img[y0:y1, x0:x1].max() == r.display.min()
    assert blacked.meta["TextRegionsBlackedOut"] is True
    np.testing.assert_array_equal(img[100:, 100:], r.display[100:, 100:])


def test_no_text_no_regions(tmp_path: Path) -> None:
    r = make_radiograph(tmp_path / "n.dcm")
    (s,) = scan(tmp_path, [r.path]).series
    assert s.meta["TextRegions"] == []
    assert not any("burned-in text" in w for w in s.warnings)
