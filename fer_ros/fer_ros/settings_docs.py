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

"""
The settings tables of the documentation, generated from the one settings table.

``python -m fer_ros.settings_docs README.md`` rewrites the blocks between
``<!-- settings-table:cli -->`` / ``<!-- settings-table:ros -->`` and their
``<!-- end -->`` markers; ``test_settings_docs.py`` fails when a committed
document differs from what this module generates, so docs and code cannot drift.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import re
from typing import Iterable, List

from .settings import PIPELINE_SETTINGS, SettingSpec

ROS_TYPES = {bool: 'bool', int: 'int', float: 'double', str: 'string', list: 'string[]'}
BLOCK = re.compile(r'(<!-- settings-table:(cli|ros) -->\n)(.*?)(<!-- end -->)', re.S)


def _default(spec: SettingSpec) -> str:
    if spec.type is list:
        return '`' + ','.join(spec.default) + '`'
    if spec.type is bool:
        return '`true`' if spec.default else '`false`'
    return f'`{spec.default}`' if spec.default != '' else '`""`'


def _flag(spec: SettingSpec) -> str:
    flag = '--' + spec.name.replace('_', '-')
    return f'`{flag}` / `--no-{flag[2:]}`' if spec.type is bool else f'`{flag}`'


def cli_table(specs: Iterable[SettingSpec] = PIPELINE_SETTINGS) -> str:
    """Markdown table of the pipeline settings with their ``fer-ros`` flags."""
    lines = ['| setting | flag | default | allowed | meaning |', '|---|---|---|---|---|']
    for spec in specs:
        lines.append(
            f'| `{spec.name}` | {_flag(spec)} | {_default(spec)} | {spec.allowed()} | '
            f'{spec.description} |'
        )
    return '\n'.join(lines) + '\n'


def ros_table() -> str:
    """Markdown table of the node's parameters: every pipeline setting, then the node's own."""
    from .ros.parameters import NODE_SETTINGS, READ_ONLY

    lines = ['| parameter | type | default | allowed | description |', '|---|---|---|---|---|']
    for spec in PIPELINE_SETTINGS + NODE_SETTINGS:
        name = f'`{spec.name}`'
        if spec in NODE_SETTINGS:
            name += ' (node, read-only)' if spec.name in READ_ONLY else ' (node)'
        lines.append(
            f'| {name} | {ROS_TYPES[spec.type]} | {_default(spec)} | {spec.allowed()} | '
            f'{spec.description} |'
        )
    return '\n'.join(lines) + '\n'


def render(document: str) -> str:
    """``document`` with every marked settings block regenerated."""
    tables = {'cli': cli_table(), 'ros': ros_table()}
    return BLOCK.sub(lambda m: m.group(1) + tables[m.group(2)] + m.group(4), document)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        'documents', nargs='+', type=Path, help='Markdown files with settings-table markers'
    )
    for path in parser.parse_args(argv).documents:
        path.write_text(render(path.read_text(encoding='utf-8')), encoding='utf-8')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
