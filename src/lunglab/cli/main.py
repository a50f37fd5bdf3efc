"""The ``lunglab`` command line (typer)."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from lunglab.cli.common import console, db_session
from lunglab.cli.common import settings as current_settings
from lunglab.core.about import RESEARCH_USE_NOTICE

if TYPE_CHECKING:
    from lunglab.db.models import User
    from lunglab.services.ingest.importer import ImportOutcome

app = typer.Typer(
    help=f"LungLab: chest CT to COVID-19 lung infection models. {RESEARCH_USE_NOTICE}",
    no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
datasets_app = typer.Typer(help="The catalog of open COVID-19 CT datasets.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(datasets_app, name="datasets")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (also done at every start)."""
    from lunglab.db.migrate import upgrade_to_head

    s = current_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(s.resolved_database_url)
    console.print("[green]database is up to date[/green]")


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000) -> None:
    """Start the LungLab server (API, web client and the local job worker)."""
    import uvicorn

    from lunglab.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    console.print(f"[bold]LungLab[/bold] on http://{host}:{port}  ({RESEARCH_USE_NOTICE})")
    uvicorn.run(create_app(current_settings()), host=host, port=port, log_level="info",
                proxy_headers=False)


@app.command()
def run(host: str = "127.0.0.1", port: int = 8000,
        demo_data: Annotated[Path | None, typer.Option(
            help="The data-sets folder (../shared/data: real CT series, MedSeg references, "
                 "NY-SBU slices) or a DICOM folder, imported into the Demo project.")]
        = None) -> None:
    """Start LungLab with a demo project; on first start create an admin and print its password."""
    from lunglab.services.access import accounts
    from lunglab.services.access.projects import get_or_create_project

    with db_session() as db:
        admin: User | None
        if not accounts.list_users(db):
            password = accounts.generate_password()
            admin = accounts.create_user(db, "admin", password, is_admin=True)
            console.print(
                "[bold green]First start: created the administrator account.[/bold green]")
            console.print(f"  Log in at http://{host}:{port} as [bold]admin[/bold] with the "
                          f"one-time password [bold]{password}[/bold]", soft_wrap=True)
            console.print("  (shown once; add more users with `lunglab users add NAME`)")
        else:
            admin = accounts.get_user_by_name(db, "admin")
            console.print(f"Log in at http://{host}:{port} with your account.")
        get_or_create_project(db, "Demo", admin)
    if demo_data is not None and demo_data.exists():
        from lunglab.cli.demo import run_demo_import, shared_data_root

        root = shared_data_root(demo_data)
        console.print(f"importing demo data from {root or demo_data} (duplicates are skipped)")
        if root is not None:
            console.print(run_demo_import(root, medseg=6, admin=None, quiet=True))
        else:
            _import([demo_data], "Demo", quiet=True)
    serve(host, port)


@users_app.command("add")
def users_add(name: str, admin: Annotated[bool, typer.Option("--admin", help="Site administrator.")]
              = False) -> None:
    """Create a user; the password is read from standard input."""
    from lunglab.services.access import accounts
    from lunglab.services.errors import LungLabError

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with db_session() as db:
            accounts.create_user(db, name, password, is_admin=admin)
    except LungLabError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"created user [bold]{name}[/bold]{' (admin)' if admin else ''}")


@users_app.command("list")
def users_list() -> None:
    """List user accounts."""
    from lunglab.services.access import accounts

    with db_session() as db:
        table = Table("id", "name", "admin", "active")
        for u in accounts.list_users(db):
            table.add_row(str(u.id), u.username, "yes" if u.is_admin else "", str(u.is_active))
    Console().print(table)


def _import(paths: list[Path], project_name: str, *, quiet: bool = False
            ) -> list[ImportOutcome]:
    from rich.progress import Progress

    from lunglab.io.store import store_for
    from lunglab.services.ingest import importer as ingest
    from lunglab.services.access.projects import get_or_create_project

    settings = current_settings()
    store = store_for(settings)
    results: list[ImportOutcome] = []
    with db_session() as db, Progress(console=console, transient=quiet) as progress:
        project = get_or_create_project(db, project_name, None)
        task = progress.add_task("importing", total=len(paths))
        for p in paths:
            progress.update(task, description=f"importing {p.name}")
            outcomes = ingest.import_paths(db, store, settings, project, None, [p])
            results.extend(outcomes)
            progress.advance(task)
    table = Table("input / series", "status", "study", "slices", "reason / warnings")
    for o in results:
        colour = {"imported": "green", "duplicate": "yellow", "refused": "red"}[o.status]
        table.add_row(o.name, f"[{colour}]{o.status}[/{colour}]", str(o.study_id or ""),
                      str(o.slice_count or ""), o.reason or "; ".join(o.warnings))
    if not quiet:
        Console().print(table)
    return results


@app.command("import")
def import_cmd(
        paths: Annotated[list[Path], typer.Argument(help="DICOM files/folders, .zip, NIfTI.")],
        project: Annotated[str, typer.Option("--project", help="Project name (created if "
                                             "missing).")]) -> None:
    """Import CT (de-identified on the way in) into a project.

    Exits 1 when an input was refused or nothing new was imported (no CT series found, or
    every series already in the project)."""
    results = _import(paths, project)
    refused = sum(o.status == "refused" for o in results)
    imported = sum(o.status == "imported" for o in results)
    if refused:
        console.print(f"[red]{refused} input(s) refused[/red]")
        raise typer.Exit(1)
    if not results:
        console.print("[red]no CT series found in the inputs; nothing was imported[/red]")
        raise typer.Exit(1)
    if not imported:
        console.print(f"[red]nothing was imported: all {len(results)} series are already in "
                      f"project {project!r}[/red]")
        raise typer.Exit(1)


@app.command()
def worker(queues: Annotated[str, typer.Option(
        help="Comma-separated Celery queues: interactive (pre-annotation), batch (training, "
             "exports), gpu (jobs that asked for CUDA; start it on GPU machines).")]
           = "interactive,batch", concurrency: int = 1) -> None:
    """Start a Celery worker (Redis broker) that runs LungLab jobs."""
    from lunglab.workers.celery_app import app as celery_app

    celery_app.worker_main(["worker", "--loglevel=INFO", f"--queues={queues}",
                            f"--concurrency={concurrency}", "--pool=prefork"])


@datasets_app.command("list")
def datasets_list() -> None:
    """Show the open COVID-19 CT datasets LungLab knows."""
    from lunglab.io.catalog import entries as catalog

    entries = catalog.load_catalog()
    table = Table(caption="import one with `lunglab datasets import NAME`")
    # the name is what a user types: never wrapped or cut; the other columns wrap around it
    table.add_column("name", no_wrap=True, min_width=max(len(e.name) for e in entries))
    table.add_column("title / url", overflow="fold", ratio=3)
    table.add_column("license", overflow="fold", ratio=1)
    table.add_column("sha256", overflow="fold", ratio=1)
    for e in entries:
        known = sum(1 for f in e.files if f.sha256)
        table.add_row(e.name, f"{e.title}\n[dim]{e.url}[/dim]", e.license,
                      f"{known}/{len(e.files)} pinned")
    Console().print(table)


@datasets_app.command("import")
def datasets_import(
    name: str,
    project: Annotated[str, typer.Option("--project")] = "Open datasets",
    from_path: Annotated[Path | None, typer.Option("--from", help="A local copy.")] = None,
    allow_unverified: Annotated[bool, typer.Option(
        help="Accept files whose sha256 the catalog does not know (prints the computed one).")]
    = False,
) -> None:
    """Download (or read a local copy of) a catalog dataset and import images and masks."""
    from lunglab.services.ingest.datasets import import_dataset

    try:
        summary = import_dataset(name, project, from_path=from_path, console=console,
                                 allow_unverified=allow_unverified)
    except Exception as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(summary)


def _register_segment() -> None:
    try:
        from lunglab.cli.segment import segment
    except ImportError:  # pragma: no cover
        return
    app.command("segment")(segment)


_register_segment()


def _register_exchange() -> None:
    from lunglab.cli.exchange import register

    register(app)


_register_exchange()


def _register_demo() -> None:
    from lunglab.cli.demo import register

    register(app)


_register_demo()


def _register_training() -> None:
    from lunglab.cli.training import register

    register(app)


_register_training()


if __name__ == "__main__":  # python -m lunglab.cli.main
    app()
