"""``lunglab quantify``, ``lunglab export ...`` and ``lunglab pacs ...``.

``quantify`` works on files alone (no server, no database): the same numbers as the UI for
any NIfTI label map. ``export`` and ``pacs`` work on the local LungLab data folder and
database (``LUNGLAB_DATA_DIR``); whoever can run them can read that folder, so they act as an
administrator, and each export is recorded in the audit log without an actor.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lunglab.cli.common import console, fail, ready_settings

from lunglab.core.about import RESEARCH_USE_NOTICE
from lunglab.domain.labels import LABEL_KEYS

export_app = typer.Typer(help="Export label maps, CT and datasets (as an administrator).",
                         no_args_is_help=True)
pacs_app = typer.Typer(help="A project's PACS over DICOMweb: configure, search, import, push.",
                       no_args_is_help=True)


def _read_labelmap(path: Path) -> tuple[Any, Any]:
    import SimpleITK as sitk

    from lunglab.domain.errors import InvalidInput

    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError:
        raise InvalidInput("not a readable NIfTI label map", path.name) from None
    if img.GetDimension() != 3:
        raise InvalidInput(f"a 3-D label map is required (got {img.GetDimension()}-D)", path.name)
    return sitk.GetArrayFromImage(img), img


def quantify(
    labelmap: Annotated[Path, typer.Argument(help="Label map (.nii/.nii.gz): 0 background, "
                                             "1 lung, 2 GGO, 3 consolidation.")],
    ct: Annotated[Path | None, typer.Option("--ct", help="The CT (NIfTI, DICOM folder or "
                                            ".zip) for the density figures.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (all figures).")] = False,
) -> None:
    """Print the involvement figures of a label map (same numbers as the UI)."""
    from lunglab.domain.errors import LungLabError
    from lunglab.imaging.quantify import quantify as run

    try:
        labels, img = _read_labelmap(labelmap)
        hu = None
        if ct is not None:
            from lunglab.io.load import load_ct

            volume = load_ct(ct)
            if volume.shape != labels.shape:
                raise ValueError(f"the CT {volume.shape} and the label map {labels.shape} "
                                 "(z, y, x) differ in shape")
            hu = volume.array
        figures = run(labels, img.GetSpacing(), img.GetDirection(), hu)
    except (LungLabError, ValueError, OSError) as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"research_use_only": RESEARCH_USE_NOTICE, **figures}, indent=2))
        return
    out = Console()
    lungs = figures["lungs"]
    table = Table("figure", "whole lungs", "right", "left", title=labelmap.name)
    for key in ("lung_ml", "ggo_ml", "consolidation_ml", "lesion_ml", "involvement_pct",
                "ggo_share_pct", "consolidation_share_pct"):
        table.add_row(key, *(f"{lungs[s][key]:.2f}" for s in ("total", "right", "left")))
    out.print(table)
    zones = Table("zone", "lung mL", "lesion mL", "involved %", "score")
    for z in figures["zones"]:
        zones.add_row(f"{z['side']} {z['zone']}", f"{z['lung_ml']:.1f}", f"{z['lesion_ml']:.1f}",
                      f"{z['involvement_pct']:.2f}", str(z["score"]))
    out.print(zones)
    out.print(f"severity score {figures['severity_score']} / {figures['severity_score_max']}; "
              f"{figures['lesions']['count']} connected lesion(s); "
              f"lung split: {figures['split_method']}")
    if figures["density"]:
        dens = Table("class", "mean HU", "p5", "p50", "p95")
        for cls in LABEL_KEYS.values():
            d = figures["density"][cls]
            dens.add_row(cls, *("-" if d[k] is None else f"{d[k]:.0f}"
                                for k in ("mean_hu", "p5_hu", "p50_hu", "p95_hu")))
        out.print(dens)
    out.print(RESEARCH_USE_NOTICE)


def _context() -> tuple[Any, Any, Any]:
    from lunglab.io.store import store_for

    settings = ready_settings()
    return settings, store_for(settings), \
        settings.resolved_database_url


def _project_id(db: Any, project: str) -> int:
    from sqlalchemy import select

    from lunglab.db.models import Project
    from lunglab.services.errors import NotFound

    row = db.scalar(select(Project).where(Project.name == project))
    if row is None and project.isdigit():
        row = db.get(Project, int(project))
    if row is None:
        raise NotFound(f"project {project!r} not found")
    return int(row.id)


def _copy_out(src: Path, dest: Path) -> None:
    import shutil

    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    console.print(f"wrote {dest}")


@export_app.command("labels")
def export_labels(version_id: int, out: Annotated[Path, typer.Option("-o", "--out")]) -> None:
    """A label-map version as NIfTI (``.nii.gz``)."""
    _export_file("labels", version_id, out)


@export_app.command("seg")
def export_seg(version_id: int, out: Annotated[Path, typer.Option("-o", "--out")]) -> None:
    """A label-map version as DICOM SEG referencing the exported CT series."""
    _export_file("seg", version_id, out)


@export_app.command("ct")
def export_ct(study_id: int, out: Annotated[Path, typer.Option(
        "-o", "--out", help="A .nii.gz file, or a folder for the DICOM series.")]) -> None:
    """The de-identified CT as NIfTI, or as a DICOM series into a folder."""
    _export_file("ct", study_id, out)


def _export_file(what: str, object_id: int, out: Path) -> None:
    from lunglab.db.session import session_scope
    from lunglab.services.exchange import export
    from lunglab.services.errors import LungLabError
    from lunglab.services.ingest.importer import work_dir

    settings, store, url = _context()
    try:
        with session_scope(url) as db:
            if what == "labels":
                f = export.export_labels_nifti(db, store, None, object_id)
            elif what == "seg":
                f = export.export_seg(db, store, None, object_id, work_dir(settings))
            elif str(out).endswith((".nii", ".nii.gz")):
                f = export.export_ct_nifti(db, store, None, object_id)
            else:
                f = export.export_ct_dicom(db, store, None, object_id, work_dir(settings))
        if f.filename.endswith(".zip"):
            import zipfile

            with zipfile.ZipFile(f.path) as zf:
                zf.extractall(out)
            console.print(f"wrote the DICOM series into {out}")
        else:
            _copy_out(f.path, out)
        export.discard(f)
    except (LungLabError, OSError) as exc:
        raise fail(exc) from None


@export_app.command("dataset")
def export_dataset(project: Annotated[str, typer.Argument(help="Project name or id.")],
                   out: Annotated[Path, typer.Option("-o", "--out", help="Parent folder.")]
                   ) -> None:
    """A project in the nnU-Net / Decathlon layout (imagesTr, labelsTr, dataset.json, split)."""
    from lunglab.db.session import session_scope
    from lunglab.services.errors import LungLabError
    from lunglab.services.exchange.export import write_dataset

    _, store, url = _context()
    try:
        with session_scope(url) as db:
            _, summary = write_dataset(db, store, None, _project_id(db, project), out)
    except (LungLabError, OSError) as exc:
        raise fail(exc) from None
    console.print(f"wrote {summary['folder']}: {summary['train']} train, {summary['val']} val, "
                  f"{summary['test']} test, {summary['unlabelled']} unlabelled")


@export_app.command("summary")
def export_summary(project: Annotated[str, typer.Argument(help="Project name or id.")],
                   out: Annotated[Path, typer.Option("-o", "--out")]) -> None:
    """The project summary CSV (one row of figures per study)."""
    from lunglab.db.session import session_scope
    from lunglab.services.errors import LungLabError
    from lunglab.services.reports.summary import summary_csv

    _, store, url = _context()
    try:
        with session_scope(url) as db:
            text = summary_csv(db, store, None, _project_id(db, project))
        out.write_text(text)
    except (LungLabError, OSError) as exc:
        raise fail(exc) from None
    console.print(f"wrote {out}")


@pacs_app.command("config")
def pacs_config(project: str,
                url: Annotated[str | None, typer.Option(help="DICOMweb base URL.")] = None,
                username: Annotated[str | None, typer.Option()] = None,
                password_env: Annotated[str | None, typer.Option(
                    help="Name of the environment variable with the password.")] = None,
                clear: Annotated[bool, typer.Option("--clear")] = False) -> None:
    """Show, set or (--clear) remove the project's DICOMweb server."""
    from lunglab.services.exchange import pacs

    def run(db: Any, pid: int) -> Any:
        if clear or url:
            return pacs.set_config(db, None, pid, None if clear else url, username, password_env)
        return pacs.get_config(db, None, pid)

    typer.echo(json.dumps(_with_project(project, run), indent=2))


@pacs_app.command("search")
def pacs_search(project: str, patient_id: Annotated[str | None, typer.Option()] = None,
                study_date: Annotated[str | None, typer.Option()] = None,
                modality: Annotated[str | None, typer.Option()] = None,
                limit: int = 50) -> None:
    """QIDO-RS search of the project's PACS (results are shown, never stored)."""
    from lunglab.services.exchange import pacs

    rows = _with_project(project, lambda db, pid: pacs.search(
        db, None, pid, patient_id=patient_id, study_date=study_date, modality=modality,
        limit=limit))
    table = Table("study uid", "date", "modalities", "series", "instances", "description")
    for r in rows:
        mods = r["modalities"]
        table.add_row(str(r["study_uid"]), str(r["study_date"] or ""),
                      "\\".join(mods) if isinstance(mods, list) else str(mods or ""),
                      str(r["series"] or ""), str(r["instances"] or ""),
                      str(r["description"] or ""))
    Console().print(table)


@pacs_app.command("import")
def pacs_import(project: str, study_uid: str,
                series: Annotated[str | None, typer.Option(help="One series UID.")] = None
                ) -> None:
    """Retrieve a PACS study's CT series (WADO-RS) and import them, de-identified."""
    from lunglab.services.exchange import pacs

    settings, store, _ = _context()
    results = _with_project(project, lambda db, pid: pacs.import_study(
        db, store, settings, None, pid, study_uid, series))
    for r in results:
        console.print(f"{r['status']}: study {r['study_id']} {r['reason'] or ''}")
    if not any(r["status"] in ("imported", "duplicate") for r in results):
        raise typer.Exit(1)


@pacs_app.command("push")
def pacs_push(version_id: int, no_ct: Annotated[bool, typer.Option(
        "--no-ct", help="Send only the SEG (the PACS already has the exported CT).")] = False
              ) -> None:
    """STOW-RS a label-map version as DICOM SEG, with the de-identified CT it references."""
    from lunglab.db.session import session_scope
    from lunglab.services.exchange import pacs
    from lunglab.services.errors import LungLabError

    _, store, url = _context()
    try:
        with session_scope(url) as db:
            result = pacs.push_version(db, store, None, version_id, with_ct=not no_ct)
    except LungLabError as exc:
        raise fail(exc) from None
    typer.echo(json.dumps(result, indent=2))


def _with_project(project: str, fn: Any) -> Any:
    from lunglab.db.session import session_scope
    from lunglab.services.errors import LungLabError

    _, _, url = _context()
    try:
        with session_scope(url) as db:
            return fn(db, _project_id(db, project))
    except LungLabError as exc:
        raise fail(exc) from None


def register(app: typer.Typer) -> None:
    """Add ``quantify``, ``export`` and ``pacs`` to the ``lunglab`` command line."""
    app.command("quantify")(quantify)
    app.add_typer(export_app, name="export")
    app.add_typer(pacs_app, name="pacs")
