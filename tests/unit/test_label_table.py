"""One label table: the web client's ``web/src/core/labels.ts`` spells the same names, colours
and figure keys as ``lunglab.domain.labels``."""
from __future__ import annotations

import re
from pathlib import Path

from lunglab.domain.labels import DEFAULT_LABEL_SCHEMA, FOREGROUND, LABEL_KEYS, SHORT_NAMES

WEB_TABLE = Path(__file__).resolve().parents[2] / "web" / "src" / "core" / "labels.ts"
ROW = re.compile(r'\{ value: (\d+), key: "([^"]+)", short: "([^"]+)", name: "([^"]+)", '
                 r'color: "(#[0-9a-f]{6})" \}')


def test_web_label_table_matches_the_domain() -> None:
    rows = {int(v): (key, short, name, color)
            for v, key, short, name, color in ROW.findall(WEB_TABLE.read_text())}
    assert sorted(rows) == list(FOREGROUND)
    for spec in DEFAULT_LABEL_SCHEMA:
        key, short, name, color = rows[spec.value]
        assert (name, color) == (spec.name, spec.color)
        assert key == LABEL_KEYS[spec.value]
        # on screen label 1 is always "lung without lesion"; the others keep their short name
        assert short == (spec.name if spec.value == 1 else SHORT_NAMES[spec.value])


def test_label_keys_name_one_value_each() -> None:
    assert list(LABEL_KEYS) == list(FOREGROUND) == list(SHORT_NAMES)
    assert LABEL_KEYS[1] == "lung" and DEFAULT_LABEL_SCHEMA[0].name == "lung without lesion"
