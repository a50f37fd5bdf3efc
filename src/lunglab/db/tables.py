"""Import every table module (``models.py`` and ``models_<area>.py``) so metadata is complete."""
from __future__ import annotations

import importlib
import pkgutil

import lunglab.db as db_pkg


def import_all_models() -> None:
    """Import ``lunglab.db.models`` and every ``lunglab.db.models_*`` module."""
    importlib.import_module("lunglab.db.models")
    for mod in pkgutil.iter_modules(db_pkg.__path__):
        if mod.name.startswith("models_"):
            importlib.import_module(f"lunglab.db.{mod.name}")
