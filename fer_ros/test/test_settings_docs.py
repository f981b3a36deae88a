# Copyright 2026 fer_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""The docs' settings tables are generated from the settings table: they must match the code."""

from __future__ import annotations

from pathlib import Path

from fer_ros.settings import PIPELINE_SETTINGS
from fer_ros.settings_docs import cli_table, render, ros_table
import pytest

DOCS = Path(__file__).resolve().parents[2] / 'docs'


@pytest.mark.parametrize('page, table', [('pipeline.md', 'cli'), ('ros2.md', 'ros')])
def test_docs_tables_are_what_the_code_generates(page, table):
    path = DOCS / page
    if not path.is_file():
        pytest.skip(f'{path} not present (installed package without the repository docs)')
    text = path.read_text(encoding='utf-8')
    assert f'<!-- settings-table:{table} -->' in text
    assert render(text) == text, (
        f'docs/{page} is stale: run `python -m fer_ros.settings_docs docs/*.md`'
    )


def test_tables_list_every_setting_with_its_default_and_range():
    cli, ros = cli_table(), ros_table()
    for spec in PIPELINE_SETTINGS:
        assert f'| `{spec.name}` |' in cli and f'| `{spec.name}` |' in ros
        assert spec.allowed() in cli
    assert '| `input_type` (node, read-only) | string |' in ros
    assert '`--tracking` / `--no-tracking`' in cli
