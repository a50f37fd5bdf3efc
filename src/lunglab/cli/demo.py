"""``lunglab demo import``: the Demo project from ``../shared/data`` (idempotent)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lunglab.cli.common import console, ready_settings

demo_app = typer.Typer(help="The Demo project: real CT, MedSeg references, NY-SBU slices.",
                       no_args_is_help=True)


def default_shared_data() -> Path:
    """``$LUNGLAB_SHARED_DIR/data``, else ``../shared/data`` next to the working directory."""
    shared = os.environ.get("LUNGLAB_SHARED_DIR")
    return Path(shared) / "data" if shared else Path.cwd().parent / "shared" / "data"


def shared_data_root(path: Path) -> Path | None:
    """The data-sets folder for ``path``: itself, or the one above a chest CT series folder
    (``.../data/chest-ct-dicom-series/series``, what ``make run`` passed before); None if
    ``path`` is neither."""
    for candidate in (path, path.parent.parent):
        if (candidate / "chest-ct-dicom-series").is_dir() or \
                (candidate / "covid-semiseg-medseg").is_dir():
            return candidate
    return None


def run_demo_import(data: Path, *, medseg: int, admin: str | None, quiet: bool = False) -> str:
    """Import the demo with a progress bar; returns the summary line."""
    from rich.progress import Progress

    from lunglab.services.ingest.demo import import_demo

    settings = ready_settings()
    with Progress(console=console, transient=quiet) as progress:
        task = progress.add_task("demo import", total=None)

        def step(what: str, done: int, total: int) -> None:
            progress.update(task, description=f"demo import: {what}", completed=done,
                            total=total)

        summary = import_demo(settings, data, admin_name=admin, medseg_count=medseg,
                              progress=step)
    return str(summary)


@demo_app.command("import")
def demo_import(
    data: Annotated[Path | None, typer.Option("--from", help="Folder holding the data sets "
                                              "(default: $LUNGLAB_SHARED_DIR/data or "
                                              "../shared/data).")] = None,
    medseg: Annotated[int, typer.Option(help="Labelled MedSeg slices to import as approved "
                                        "references.")] = 6,
    admin: Annotated[str | None, typer.Option(help="Site administrator who approves the "
                                              "references (default: the first).")] = None,
) -> None:
    """Import the Demo project: the real chest CT series, labelled MedSeg slices with approved
    reference label maps, and the NY-SBU slices. Running it again adds nothing."""
    root = shared_data_root(data or default_shared_data())
    if root is None:
        console.print(f"[red]error:[/red] no data sets found in {data or default_shared_data()}")
        raise typer.Exit(1)
    print(run_demo_import(root, medseg=medseg, admin=admin))


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``lunglab`` command."""
    app.add_typer(demo_app, name="demo")
