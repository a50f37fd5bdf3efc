"""Issue 16 item 7: the README names every command, and `datasets list` never cuts a name."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lunglab.cli.command_list import all_commands, command_block

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_command_list_is_generated_from_the_cli() -> None:
    text = README.read_text(encoding="utf-8")
    assert command_block() in text, (
        "README's command list is stale: "
        "run `python -m lunglab.cli.command_list --write README.md`")
    for cmd in all_commands():
        assert f"\n{cmd} " in text
    for needed in ("lunglab models list", "lunglab quantify", "lunglab train",
                   "lunglab export seg", "lunglab pacs push", "lunglab demo import"):
        assert needed in all_commands()


def test_datasets_list_keeps_every_name_whole_at_80_columns() -> None:
    from lunglab.cli.main import app
    from lunglab.io.catalog.entries import load_catalog

    out = CliRunner().invoke(app, ["datasets", "list"], env={"COLUMNS": "80"},
                             terminal_width=80).stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for e in load_catalog():
        assert any(line.startswith(f"│ {e.name} ") for line in out.splitlines()), e.name
