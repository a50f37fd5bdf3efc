"""``lunglab train`` and ``lunglab models list|promote|rollback|export``.

They work on the local data folder and database (``LUNGLAB_DATA_DIR``) and act as a site
administrator (``--user``, default the first one), so every promotion and rollback is audited
under a name. ``train`` runs the job in this process (a worker of its own) unless ``--queue``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lunglab.cli.common import console, fail, ready_settings

models_app = typer.Typer(help="Model versions: list, promote, roll back, export.",
                         no_args_is_help=True)


def _context(user: str | None) -> tuple[Any, Any, Any]:
    from sqlalchemy import select

    from lunglab.db.models import User
    from lunglab.db.session import get_sessionmaker

    settings = ready_settings()
    db = get_sessionmaker(settings.resolved_database_url)()
    q = select(User).where(User.is_admin.is_(True), User.is_active.is_(True))
    q = q.where(User.username == user) if user else q.order_by(User.id)
    admin = db.scalars(q).first()
    if admin is None:
        db.close()
        raise fail(ValueError(f"no active site administrator {user or ''}".strip()))
    return settings, db, admin


def _project_id(db: Any, project: str) -> int:
    from sqlalchemy import select

    from lunglab.db.models import Project

    row = db.scalar(select(Project).where(Project.name == project))
    if row is None and project.isdigit():
        row = db.get(Project, int(project))
    if row is None:
        raise fail(ValueError(f"project {project!r} not found"))
    return int(row.id)


UserOpt = Annotated[str | None, typer.Option("--user", help="Act as this site administrator.")]


def train(
    project: Annotated[str, typer.Option("--project", help="Project name or id.")],
    epochs: Annotated[int, typer.Option(help="Epoch budget.")] = 10,
    time_budget: Annotated[float | None, typer.Option(help="Seconds of training at most.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    seed: int = 0,
    base: Annotated[int | None, typer.Option(help="Base model version id (default: active).")]
    = None,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help="Random initial "
                                               "weights instead of a base model.")] = False,
    arch: Annotated[str, typer.Option(help="Architecture when training from scratch.")]
    = "unet2d",
    slices_per_epoch: int = 200,
    batch_size: int = 8,
    patch: Annotated[int, typer.Option(help="Training patch size in pixels.")] = 160,
    world_size: Annotated[int, typer.Option(help="DDP processes (one per GPU with cuda).")]
    = 1,
    smartclick_iterations: Annotated[int | None, typer.Option(
        help="CT runs: iterations of the Smart click fine-tune after training (default 25 per "
             "epoch, at most 150; 0: none).")] = None,
    resume: Annotated[int | None, typer.Option(help="Resume this failed run id instead.")] = None,
    modality: Annotated[str, typer.Option(help="ct, or xr: a chest-radiograph model from the "
                                          "approved radiographs (docs/radiographs.md).")]
    = "ct",
    queue: Annotated[bool, typer.Option("--queue", help="Hand the job to the configured "
                                        "runner (Celery) instead of running it here.")] = False,
    user: UserOpt = None,
) -> None:
    """Fine-tune on the project's approved label maps and register a candidate version."""
    from lunglab.domain.errors import LungLabError
    from lunglab.services import jobs
    from lunglab.services.training import runs as training

    settings, db, admin = _context(user)
    try:
        pid = _project_id(db, project)
        runner = "celery" if queue else "local"
        if resume is not None:
            job = training.resume_training(db, admin, resume, runner)
            run_id = resume
        else:
            params = {"epochs": epochs, "time_budget_s": time_budget, "device": device,
                      "seed": seed, "base_version_id": base, "arch": arch,
                      "from_scratch": from_scratch,
                      "slices_per_epoch": slices_per_epoch, "batch_size": batch_size,
                      "patch": patch, "world_size": world_size, "modality": modality,
                      "smartclick_iterations": smartclick_iterations}
            run, job = training.start_training(db, admin, pid, params, settings, runner)
            run_id = run.id
        job_id = job.id
    except LungLabError as exc:
        raise fail(exc) from None
    finally:
        db.close()
    console.print(f"training run {run_id}, job {job_id}")
    if queue:
        from lunglab.services.jobs.runners import CeleryJobRunner

        celery = CeleryJobRunner(settings)
        celery.submit(job_id, "train")
        console.print(f"queued on the {celery.queue_for(job_id, 'train')} queue")
        return
    state = jobs.execute_job(settings, job_id)
    settings_db = _context(user)[1]
    try:
        from lunglab.db.models import Job

        row = settings_db.get(Job, job_id)
        console.print(row.log[-3000:])
        result = row.result
    finally:
        settings_db.close()
    print(json.dumps({"state": state, "run_id": run_id, "job_id": job_id, "result": result},
                     default=str))
    if state != "succeeded":
        raise typer.Exit(1)


@models_app.command("list")
def models_list(project: Annotated[str, typer.Option("--project", help="Project name or id.")],
                user: UserOpt = None) -> None:
    """Versions of a project, newest first, with state, lineage and validation Dice."""
    from lunglab.services.training.model_versions import list_versions, shipped_version

    _, db, admin = _context(user)
    try:
        pid = _project_id(db, project)
        rows = list_versions(db, admin, pid)
        v0 = shipped_version(db, pid)
        table = Table("id")
        table.add_column("name", no_wrap=True, min_width=len(v0.name))  # what a user types
        for col in ("modality", "state", "base", "seed", "studies", "val Dice (new)", "gate",
                    "created"):
            table.add_column(col, overflow="fold")
        for m in rows:
            comp = m.comparison or {}
            dice = comp.get("new", {}).get("dice", {})
            table.add_row(str(m.id), m.name, m.modality, m.state,
                          str(m.base_version_id or m.base_model or
                                                          "scratch"), str(m.seed),
                          str(len(m.data_snapshot)),
                          " ".join(f"{k[:4]}={v:.3f}" for k, v in dice.items()),
                          "pass" if comp.get("gate", {}).get("passed") else "fail",
                          f"{m.created_at:%Y-%m-%d %H:%M}")
        table.add_row("0", v0.name, "ct", v0.state, "shipped", "0", "—", "see model card", "",
                      "with LungLab")
        out = Console()
        out.print(table)
        in_use = next((m.name for m in rows if m.state == "active" and m.modality == "ct"), None)
        xr = next((m.name for m in rows if m.state == "active" and m.modality == "xr"), None)
        out.print(f"in use: {in_use or v0.name}"
                      + ("" if in_use else " (version 0, the model shipped with LungLab; its "
                         f"card: src/lunglab/ml/weights/{v0.name}.md)"))
        out.print(f"radiographs: {xr or 'no model (none is shipped; lunglab train --modality xr)'}")
    finally:
        db.close()


@models_app.command("promote")
def models_promote(version: int,
                   override: Annotated[bool, typer.Option(help="Promote although worse.")] = False,
                   reason: Annotated[str | None, typer.Option(help="Written reason "
                                                              "(needed to override).")] = None,
                   user: UserOpt = None) -> None:
    """Make a version active (gated: not worse than the active one on the frozen set)."""
    from lunglab.domain.errors import LungLabError
    from lunglab.services.training.model_versions import promote

    _, db, admin = _context(user)
    try:
        mv = promote(db, admin, version, override=override, reason=reason)
        console.print(f"[green]{mv.name} is active[/green]")
    except LungLabError as exc:
        details = getattr(exc, "details", None)
        if details:
            console.print(json.dumps(details))
        raise fail(exc) from None
    finally:
        db.close()


@models_app.command("rollback")
def models_rollback(project: Annotated[str, typer.Option("--project", help="Project name or id.")],
                    to: Annotated[int | None, typer.Option(help="Version id (default: the one "
                                                           "active before; 0: shipped)")] = None,
                    modality: Annotated[str, typer.Option(help="ct or xr (radiographs: --to 0 "
                                                          "means no radiograph model)")] = "ct",
                    user: UserOpt = None) -> None:
    """Make an earlier version active again."""
    from lunglab.domain.errors import LungLabError
    from lunglab.services.training.model_versions import rollback

    _, db, admin = _context(user)
    try:
        mv = rollback(db, admin, _project_id(db, project), to, modality)
        none = "no radiograph model" if modality == "xr" else "the shipped default model"
        console.print(f"[green]{mv.name if mv else none} is active[/green]")
    except LungLabError as exc:
        raise fail(exc) from None
    finally:
        db.close()


@models_app.command("export")
def models_export(version: int,
                  fmt: Annotated[str, typer.Option("--format", help="bundle, torchscript or "
                                                   "onnx.")] = "bundle",
                  out: Annotated[Path, typer.Option(help="Folder to copy the file to.")]
                  = Path("."),
                  user: UserOpt = None) -> None:
    """Export a version as a MONAI Bundle (zip), TorchScript or ONNX."""
    import shutil

    from lunglab.domain.errors import LungLabError
    from lunglab.io.store import store_for
    from lunglab.services.training.model_export import export_version

    settings, db, admin = _context(user)
    try:
        store = store_for(settings)
        path = export_version(db, admin, store, settings.data_dir, version, fmt)
        out.mkdir(parents=True, exist_ok=True)
        dest = out / path.name
        shutil.copyfile(path, dest)
        print(dest)
    except LungLabError as exc:
        raise fail(exc) from None
    finally:
        db.close()


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``models`` to the ``lunglab`` command."""
    app.command("train")(train)
    app.add_typer(models_app, name="models")
