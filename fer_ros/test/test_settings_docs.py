"""README's settings tables are generated from the settings table: they must match the code."""

from __future__ import annotations

from pathlib import Path

from fer_ros.settings import PIPELINE_SETTINGS
from fer_ros.settings_docs import cli_table, render, ros_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tables_are_what_the_code_generates():
    text = README.read_text(encoding="utf-8")
    assert "<!-- settings-table:cli -->" in text and "<!-- settings-table:ros -->" in text
    assert render(text) == text, "README.md is stale: run `python -m fer_ros.settings_docs README.md`"


def test_tables_list_every_setting_with_its_default_and_range():
    cli, ros = cli_table(), ros_table()
    for spec in PIPELINE_SETTINGS:
        assert f"| `{spec.name}` |" in cli and f"| `{spec.name}` |" in ros
        assert spec.allowed() in cli
    assert "| `input_type` (node, read-only) | string |" in ros
    assert "`--tracking` / `--no-tracking`" in cli
