"""``lunglab segment`` end to end, through a typer app registered like the main CLI does."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
import typer
from typer.testing import CliRunner

from dicom_factory import make_ct_series
from lunglab.ml.models import build_model
from lunglab.ml.train import TrainConfig, save_checkpoint
from lunglab.cli.segment import output_name, segment

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO.parent / "shared"))

app = typer.Typer()
app.command("segment")(segment)
app.command("noop")(lambda: None)
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    cfg = TrainConfig(arch="unet2d-small")
    path = tmp_path_factory.mktemp("m") / "tiny.pt"
    save_checkpoint(build_model(cfg.arch), {"config": cfg.__dict__, "num_classes": 4}, path)
    return str(path)


def chest_slice(size: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    c = size / 2
    body = (yy - c) ** 2 / (0.42 * size) ** 2 + (xx - c) ** 2 / (0.46 * size) ** 2 <= 1
    lungs = np.zeros_like(body)
    for cx in (0.3 * size, 0.7 * size):
        lungs |= (yy - size / 2) ** 2 / (0.3 * size) ** 2 + (xx - cx) ** 2 / (0.14 * size) ** 2 <= 1
    return np.where(lungs, -850, np.where(body, 30, -1000)).astype(np.int16)


def run(args: list[str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["segment", *args])


def test_output_names():
    assert output_name(Path("a/scan.nii.gz")) == "scan"
    assert output_name(Path("b.NII")) == "b"
    assert output_name(Path("c.zip")) == "c"
    assert output_name(Path("d/e.dcm")) == "e"
    assert output_name(Path("series_folder")) == "series_folder"


def test_nifti_volume_keeps_shape_and_affine(tmp_path, tiny_model):
    vol = np.repeat(chest_slice()[None], 5, axis=0)  # voxel axis 0 is axial here
    affine = np.array([[0, 0, -1.5, 40], [0, 1.5, 0, -20], [4.0, 0, 0, -100], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(vol, affine), tmp_path / "vol.nii.gz")
    res = run([str(tmp_path / "vol.nii.gz"), "--out-dir", str(tmp_path / "out"),
               "--model", tiny_model, "--device", "cpu"])
    assert res.exit_code == 0, res.output
    out = nib.load(tmp_path / "out" / "vol.nii.gz")
    assert out.shape == vol.shape and np.allclose(out.affine, affine)
    data = np.asarray(out.dataobj)
    assert data.dtype == np.uint8 and set(np.unique(data)) <= {0, 1, 2, 3}
    lung_truth = np.repeat((chest_slice() == -850)[None], 5, axis=0)
    assert (data[lung_truth] > 0).mean() > 0.9
    assert "lung mL" in res.output


@pytest.mark.parametrize("shape", [(64, 64, 1), (64, 64)])
def test_single_slice_nifti(tmp_path, tiny_model, shape):
    arr = chest_slice().T.reshape(shape).astype(np.float32)  # float HU, as a converter may write
    affine = np.diag([0.75, 0.75, 5.0, 1.0])
    nib.save(nib.Nifti1Image(arr, affine), tmp_path / "slice.nii")
    res = run([str(tmp_path / "slice.nii"), "--out-dir", str(tmp_path), "--model", tiny_model])
    assert res.exit_code == 0, res.output
    out = nib.load(tmp_path / "slice.nii.gz")
    assert out.shape == shape and np.allclose(out.affine, affine)
    assert np.asarray(out.dataobj).dtype == np.uint8


def test_dicom_folder_zip_and_single_file(tmp_path, tiny_model):
    series = make_ct_series(tmp_path / "ser", shape=(3, 32, 32), spacing=(0.7, 0.8, 2.5))
    zpath = tmp_path / "ser.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in series.paths:
            zf.write(p, p.name)
    single = series.paths[0]
    res = run([str(tmp_path / "ser"), str(zpath), str(single), "--out-dir",
               str(tmp_path / "out"), "--model", tiny_model])
    assert res.exit_code == 0, res.output
    for name, z in (("ser", 3), ("ser", 3), (single.stem, 1)):
        img = sitk.ReadImage(str(tmp_path / "out" / f"{name}.nii.gz"))
        assert img.GetSize() == (32, 32, z)
        assert np.allclose(img.GetSpacing()[:2], (0.7, 0.8))
        assert img.GetPixelID() == sitk.sitkUInt8
    img = sitk.ReadImage(str(tmp_path / "out" / "ser.nii.gz"))
    assert np.allclose(img.GetOrigin(), series.origin)


def test_bad_inputs_reported_and_others_complete(tmp_path, tiny_model):
    good = tmp_path / "good.nii.gz"
    nib.save(nib.Nifti1Image(chest_slice()[:, :, None], np.eye(4)), good)
    corrupt = tmp_path / "broken.nii.gz"
    corrupt.write_bytes(b"not a nifti at all")
    text = tmp_path / "notes.dcm"
    text.write_text("hello")
    empty = tmp_path / "emptydir"
    empty.mkdir()
    res = run([str(corrupt), str(tmp_path / "missing"), str(text), str(empty), str(good),
               "--out-dir", str(tmp_path / "out"), "--model", tiny_model])
    assert res.exit_code == 1
    assert (tmp_path / "out" / "good.nii.gz").is_file()
    assert not (tmp_path / "out" / "broken.nii.gz").exists()
    for name in ("broken.nii.gz", "missing", "notes.dcm", "emptydir"):
        assert f"error {name}" in res.output.replace("\n", " ") or name in res.output
    assert "4 of 5 input(s) failed" in res.output


def test_unknown_model_is_a_clear_error(tmp_path):
    res = run([str(tmp_path), "--out-dir", str(tmp_path / "o"), "--model", "nope"])
    assert res.exit_code == 2 and "not found" in res.output


def test_real_single_slice_dicom_with_shipped_model(tmp_path):
    folder = SHARED / "data" / "covid-ny-sbu-slices" / "A002304"
    if not folder.is_dir():
        pytest.skip(f"shared data absent: {folder} (set LUNGLAB_SHARED_DIR)")
    dcm = sorted(folder.glob("*.dcm"))[0]
    res = run([str(dcm), "--out-dir", str(tmp_path), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    img = sitk.ReadImage(str(tmp_path / f"{dcm.stem}.nii.gz"))
    arr = sitk.GetArrayFromImage(img)
    assert arr.shape == (1, 512, 512)
    lung_ml = (arr > 0).sum() * np.prod(img.GetSpacing()) / 1000
    assert lung_ml > 20  # a chest slice with both lungs


def test_scaled_uint8_nifti_is_read_as_hu(tmp_path, tiny_model):
    from lunglab.cli.segment import read_nifti_ct

    hu = chest_slice()
    pixels = np.clip(np.rint((hu + 1100) / 1400 * 255), 0, 255).astype(np.uint8)
    img = nib.Nifti1Image(pixels[:, :, None], np.diag([0.75, 0.75, 5.0, 1.0]))
    img.header.set_slope_inter(1400 / 255, -1100)
    nib.save(img, tmp_path / "scaled.nii.gz")
    vol, _ = read_nifti_ct(tmp_path / "scaled.nii.gz")
    assert vol.spacing == pytest.approx((0.75, 0.75, 5.0))
    assert np.abs(vol.array[0].astype(int) - hu).max() <= 4
