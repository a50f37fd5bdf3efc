"""``lunglab segment``: label maps (0 background, 1 lung, 2 GGO, 3 consolidation) for CT inputs.

The lead registers it with ``app.command("segment")(segment)``. Each INPUT (DICOM folder,
.zip of DICOM, single .dcm, .nii/.nii.gz) gives ``OUT_DIR/<name>.nii.gz``, uint8. NIfTI inputs
keep exactly their shape and affine. The model loads once for all inputs; a bad input is
reported and the others still run; the exit code is 1 if any input failed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lunglab.domain.errors import InvalidInput, LungLabError
from lunglab.domain.volume import CTVolume

SUFFIXES = (".nii.gz", ".nii", ".zip", ".dcm")


class Device(StrEnum):
    """Where the network runs."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


@dataclass
class InputResult:
    """Outcome of one input."""

    name: str
    seconds: float
    summary: dict[str, float] | None = None
    error: str | None = None


def output_name(path: Path) -> str:
    """File or folder name without .nii, .nii.gz, .zip or .dcm (case-insensitive)."""
    name = path.name or path.resolve().name
    low = name.lower()
    for suffix in SUFFIXES:
        if low.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def is_nifti(path: Path) -> bool:
    """True for ``.nii`` and ``.nii.gz`` files."""
    low = path.name.lower()
    return path.is_file() and low.endswith((".nii", ".nii.gz"))


@dataclass
class NiftiLayout:
    """How a NIfTI's voxel axes map to the ``[z, y, x]`` slice stack the models use."""

    image: Any  # nibabel image
    ndim: int
    order: tuple[int, int, int]  # voxel axes giving (slice, row, column)


def read_nifti_ct(path: Path) -> tuple[CTVolume, NiftiLayout]:
    """Read a NIfTI CT as a slice stack along its most axial voxel axis.

    Raises:
        InvalidInput: unreadable file, wrong dimensionality or empty image.
    """
    import nibabel as nib

    from nibabel.spatialimages import SpatialImage

    try:
        img = nib.load(str(path))
        if not isinstance(img, SpatialImage):  # e.g. GIFTI or CIFTI: no voxel grid
            raise TypeError(f"{type(img).__name__} is not a volume image")
        data = np.asarray(img.dataobj)  # scaled by scl_slope / scl_inter when set
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InvalidInput(f"not a readable NIfTI file ({type(exc).__name__})", path.name) from exc
    ndim = data.ndim
    if ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3 or data.size == 0:
        raise InvalidInput(f"expected a 2D or 3D image, got shape {data.shape}", path.name)
    if not np.issubdtype(data.dtype, np.number):
        raise InvalidInput(f"unsupported voxel type {data.dtype}", path.name)
    hu = data.astype(np.float32, copy=False)  # dataobj already applies scl_slope/scl_inter
    affine = img.affine
    singleton = [i for i in range(3) if data.shape[i] == 1]
    if len(singleton) == 1:
        axial = singleton[0]
    else:  # the voxel axis whose direction is closest to superior-inferior
        norms = np.linalg.norm(affine[:3, :3], axis=0) + 1e-9
        axial = int(np.argmax(np.abs(affine[2, :3]) / norms))
    rows, cols = [i for i in range(3) if i != axial]
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    zooms = np.where(zooms > 0, zooms, 1.0)
    stack = np.transpose(hu, (axial, rows, cols))
    stack = np.clip(np.rint(stack), -32768, 32767).astype(np.int16)
    volume = CTVolume(stack, (float(zooms[cols]), float(zooms[rows]), float(zooms[axial])))
    return volume, NiftiLayout(img, ndim, (axial, rows, cols))


def write_like_nifti(label_map: np.ndarray, layout: NiftiLayout, out: Path) -> None:
    """Write a ``[z, y, x]`` label map back in the input's voxel order, shape and affine."""
    import nibabel as nib

    inverse = np.argsort(layout.order)
    data = np.transpose(label_map, inverse).astype(np.uint8)
    shape = layout.image.shape
    data = data.reshape(shape)
    hdr = layout.image.header.copy()
    hdr.set_data_dtype(np.uint8)
    hdr.set_slope_inter(1.0, 0.0)
    img = nib.Nifti1Image(data, layout.image.affine, hdr)
    img.set_qform(layout.image.affine, int(layout.image.header["qform_code"]) or 1)
    img.set_sform(layout.image.affine, int(layout.image.header["sform_code"]) or 1)
    nib.save(img, str(out))


def write_like_volume(label_map: np.ndarray, volume: CTVolume, out: Path) -> None:
    """Write a label map with a CT volume's geometry (LPS, via SimpleITK)."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(label_map.astype(np.uint8))
    img.SetSpacing(tuple(float(s) for s in volume.spacing))
    img.SetOrigin(tuple(float(o) for o in volume.origin))
    img.SetDirection(tuple(float(d) for d in volume.direction))
    sitk.WriteImage(img, str(out), useCompression=True)


def process_input(path: Path, out_dir: Path, segmenter: Any) -> dict[str, float]:
    """Segment one input and write its label map; returns the volume summary.

    Raises:
        InvalidInput: unreadable or unsupported input.
    """
    from lunglab.imaging.volumes import summarize

    if not path.exists():
        raise InvalidInput("no such file or folder", path.name or str(path))
    out = out_dir / f"{output_name(path)}.nii.gz"
    if is_nifti(path):
        volume, layout = read_nifti_ct(path)
        label_map, _ = segmenter(volume)
        write_like_nifti(label_map, layout, out)
    else:
        from lunglab.io.load import load_ct

        volume = load_ct(path)
        label_map, _ = segmenter(volume)
        write_like_volume(label_map, volume, out)
    return summarize(label_map, volume.spacing)


def _table(results: list[InputResult]) -> Table:
    table = Table(title="lunglab segment")
    # lung mL: the whole lungs, labels 1-3 (lung without lesion + GGO + consolidation)
    for col in ("input", "lung mL", "GGO mL", "consolidation mL", "% lung involved", "seconds"):
        table.add_column(col, justify="left" if col == "input" else "right")
    for r in results:
        if r.summary is None:  # the reason is printed under the table, not in a number column
            table.add_row(r.name, "[red]failed[/red]", "", "", "", f"{r.seconds:.1f}")
        else:
            s = r.summary
            table.add_row(r.name, f"{s['lung_ml']:.1f}", f"{s['ggo_ml']:.1f}",
                          f"{s['consolidation_ml']:.1f}", f"{s['involvement_pct']:.1f}",
                          f"{r.seconds:.1f}")
    return table


def segment(
    inputs: Annotated[list[Path], typer.Argument(
        help="DICOM folders, .zip of DICOM, single .dcm files or .nii/.nii.gz files.")],
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Folder for <name>.nii.gz label maps.")],
    device: Annotated[Device, typer.Option(help="Where the network runs.")] = Device.auto,
    model: Annotated[str | None, typer.Option(
        help="Shipped model name or a .pt checkpoint (default: the shipped model).")] = None,
) -> None:
    """Segment lung, GGO and consolidation into uint8 label maps (lung = labels 1-3).

    Labels: 0 background, 1 lung without lesion, 2 GGO, 3 consolidation.

    Research use only; not for clinical diagnosis.
    """
    from lunglab.ml.inference import Segmenter

    console = Console(stderr=True)
    try:
        segmenter = Segmenter(model, device.value)
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileNotFoundError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    results: list[InputResult] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("segmenting", total=len(inputs))
        for path in inputs:
            progress.update(task, description=f"segmenting {path.name}")
            start = time.perf_counter()
            try:
                summary = process_input(path, out_dir, segmenter)
                results.append(InputResult(path.name, time.perf_counter() - start, summary))
            except (LungLabError, ValueError, OSError, RuntimeError) as exc:
                msg = str(exc) if isinstance(exc, LungLabError) else f"{type(exc).__name__}: {exc}"
                console.print(f"[red]error[/red] {path.name}: {msg}")
                results.append(InputResult(path.name, time.perf_counter() - start, None, msg))
            progress.advance(task)
    out = Console()
    out.print(_table(results))
    failed = sum(r.error is not None for r in results)
    for r in results:
        if r.error is not None:
            out.print(f"[red]failed[/red] {r.name}: {r.error}", soft_wrap=True)
    if failed:
        console.print(f"[red]{failed} of {len(results)} input(s) failed[/red]")
        raise typer.Exit(1)
