"""De-identification: pseudonyms, technical meta whitelist, PHI screen, full dataset profile."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from dicom_factory import make_ct_series, plant_phi
from lunglab.io.deid.pseudonyms import (
    TECHNICAL_KEYWORDS,
    burned_in_warning,
    is_phi_free,
    patient_key,
    pseudo_uid,
    technical_meta,
)
from lunglab.io.deid.dataset import deidentify_dataset
from lunglab.io.deid.profile import BASIC_PROFILE, BASIC_PROFILE_STANDARD
from lunglab.io.limits import UploadLimits
from lunglab.io.scan import scan_upload

SECRET = b"project-secret-1"


def all_text(ds: Dataset) -> str:
    """Every value of a dataset tree (and its file meta) as one string."""
    parts: list[str] = []

    def collect(_ds: Dataset, elem) -> None:  # type: ignore[no-untyped-def]
        if elem.VR != "SQ":
            parts.append(repr(elem.value))
    ds.walk(collect)
    if getattr(ds, "file_meta", None) is not None:
        ds.file_meta.walk(collect)
    return "\n".join(parts)


def test_pseudo_uid_is_deterministic_valid_and_keyed() -> None:
    uid = "1.2.840.113619.2.55.3.1234567.890"
    a, b = pseudo_uid(uid, SECRET), pseudo_uid(uid, SECRET)
    assert a == b
    assert re.fullmatch(r"2\.25\.(0|[1-9]\d*)", a) and len(a) <= 64
    assert int(a.split(".")[2]) < 2**128
    assert pseudo_uid(uid, b"other-project") != a
    assert pseudo_uid(uid + "1", SECRET) != a


def test_patient_key_links_series_of_one_patient() -> None:
    a, b, c = Dataset(), Dataset(), Dataset()
    a.PatientID, a.StudyInstanceUID = "MRN123", "1.2.3"
    b.PatientID, b.StudyInstanceUID = "MRN123", "1.2.4"
    c.PatientID, c.IssuerOfPatientID = "MRN123", "OTHER-HOSPITAL"
    assert patient_key(a, SECRET) == patient_key(b, SECRET)
    assert patient_key(a, SECRET) != patient_key(c, SECRET)
    assert "MRN123" not in patient_key(a, SECRET)


def test_patient_key_without_id_uses_name_and_birth_date() -> None:
    a, b, c = Dataset(), Dataset(), Dataset()
    a.PatientName, a.PatientBirthDate, a.StudyInstanceUID = "Doe^Jane", "19700101", "1.1"
    b.PatientName, b.PatientBirthDate, b.StudyInstanceUID = "DOE^JANE", "19700101", "1.2"
    c.StudyInstanceUID = "1.3"
    d = Dataset()
    d.StudyInstanceUID = "1.4"
    assert patient_key(a, SECRET) == patient_key(b, SECRET)
    assert patient_key(c, SECRET) != patient_key(d, SECRET)


@pytest.mark.parametrize("text,ok", [
    ("CHEST 2.5MM", True), ("Lung B70f", True), ("THORAX 1.0 I70f 3", True),
    ("Doe Jane chest", False), ("CT 2020-03-15", False), ("CT 15.03.2020", False),
    ("MRN 1234567", False), ("a" * 65, False), ("line\nbreak", False), ("x@y.org", False),
])
def test_phi_screen(text: str, ok: bool) -> None:
    assert is_phi_free(text, {"DOE", "JANE"}) is ok


def test_technical_meta_is_a_whitelist(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(1, 4, 4), series_description="Doe chest")
    ds = pydicom.dcmread(s.paths[0])
    meta = technical_meta(ds)
    assert set(meta) <= set(TECHNICAL_KEYWORDS)
    assert meta["Modality"] == "CT" and meta["KVP"] == 120.0 and meta["ConvolutionKernel"] == "B30f"
    assert "SeriesDescription" not in meta  # shares a token with the patient name


def test_numbers_are_not_screened_but_texts_are() -> None:
    ds = Dataset()
    ds.PatientID, ds.KVP, ds.Manufacturer = "120", "120", "ACME"
    ds.InstitutionName, ds.ConvolutionKernel = "ACME Hospital", "B30f"
    meta = technical_meta(ds)
    assert meta["KVP"] == 120.0
    assert "Manufacturer" not in meta  # shares a word with the institution: dropped
    assert meta["ConvolutionKernel"] == "B30f"


def test_burned_in_annotation_warns(tmp_path: Path) -> None:
    ds = Dataset()
    assert burned_in_warning(ds) is None
    ds.BurnedInAnnotation = "YES"
    assert "BurnedInAnnotation" in (burned_in_warning(ds) or "")


def test_profile_table_keywords_exist_in_pydicom() -> None:
    assert len(BASIC_PROFILE) > 250
    unknown = [kw for kw in BASIC_PROFILE if tag_for_keyword(kw) is None]
    assert unknown == []
    assert set(BASIC_PROFILE.values()) <= {"D", "Z", "X", "U"}
    assert BASIC_PROFILE_STANDARD["PatientName"] == "Z"
    assert BASIC_PROFILE["StudyInstanceUID"] == "U"


def test_deidentified_dataset_has_no_planted_phi(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(1, 4, 4))
    ds = pydicom.dcmread(s.paths[0])
    markers = plant_phi(ds)
    assert len(markers) > 250
    out = deidentify_dataset(ds, SECRET)
    out.save_as(tmp_path / "out.dcm")
    raw = (tmp_path / "out.dcm").read_bytes()
    text = all_text(pydicom.dcmread(tmp_path / "out.dcm"))
    leaked = [m for m in markers if m.encode() in raw or m in text]
    assert leaked == []
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert out.SOPInstanceUID == out.file_meta.MediaStorageSOPInstanceUID
    assert out.StudyInstanceUID == pseudo_uid(s.study_uid, SECRET)
    assert out.PatientID == patient_key(ds, SECRET)
    assert out.Modality == "CT" and out.PixelData == ds.PixelData
    assert "PHIMARK-PatientName" in all_text(ds)  # the input is left unchanged


def test_deidentified_real_slice(real_series_dir: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(min(real_series_dir.glob("*.dcm")))
    markers = plant_phi(ds)
    out = deidentify_dataset(ds, SECRET)
    out.save_as(tmp_path / "real.dcm")
    raw = (tmp_path / "real.dcm").read_bytes()
    assert [m for m in markers if m.encode() in raw] == []
    again = pydicom.dcmread(tmp_path / "real.dcm")
    assert again.pixel_array.shape == (512, 512)


_PHI_KEYWORDS = ("PatientName", "PatientID", "InstitutionName", "ReferringPhysicianName",
                 "AccessionNumber", "OperatorsName", "StationName", "StudyID")
_token = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=6, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret_word=_token, where=st.sampled_from(_PHI_KEYWORDS), desc_prefix=st.sampled_from(
    ["", "CHEST ", "Lung "]))
def test_planted_strings_never_reach_meta_or_names(secret_word: str, where: str,
                                                   desc_prefix: str) -> None:

    with tempfile.TemporaryDirectory() as tmp:
        s = make_ct_series(Path(tmp) / "s", shape=(2, 4, 4),
                           series_description=f"{desc_prefix}{secret_word}")
        for path in s.paths:
            ds = pydicom.dcmread(path)
            setattr(ds, where, secret_word if where != "PatientName" else f"{secret_word}^X")
            ds.ImageComments = f"patient {secret_word}"
            ds.save_as(path)
        result = scan_upload([(p.name, p) for p in s.paths], project_secret=SECRET,
                             limits=UploadLimits(), workdir=Path(tmp) / "w")
        assert len(result.series) == 1
        parsed = result.series[0]
        exposed = repr((parsed.meta, parsed.name, parsed.warnings, parsed.volume.meta))
        assert secret_word not in exposed.upper()


_TEXT_PROFILE_KEYWORDS = sorted(
    kw for kw in BASIC_PROFILE
    if (tag := tag_for_keyword(kw)) is not None and tag >> 16 != 0
    and pydicom.datadict.dictionary_VR(tag) in {"LO", "SH", "PN", "LT", "ST", "UT", "CS", "AE"}
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted=st.dictionaries(st.sampled_from(_TEXT_PROFILE_KEYWORDS),
                               st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=8,
                                       max_size=16), min_size=1, max_size=12))
def test_deidentify_dataset_removes_any_planted_profile_text(planted: dict[str, str]) -> None:
    ds = Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.Modality = "1.2.3.4", "1.2.3", "CT"
    ds.Manufacturer = "ACME"
    for keyword, value in planted.items():
        setattr(ds, keyword, value)
    out = deidentify_dataset(ds, SECRET)
    text = all_text(out)
    assert [v for v in planted.values() if v in text] == []
    assert out.Manufacturer == "ACME" and out.Modality == "CT"
