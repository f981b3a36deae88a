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
Every Python file of the package carries the Apache-2.0 header that package.xml declares.

ament_copyright runs too where it is installed (a ROS 2 install; it has no PyPI wheel); the
plain check below needs nothing and runs everywhere.
"""

import importlib.util
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
LINTED = ('fer_ros', 'launch', 'setup.py', 'test')
LICENCE_LINES = (
    '# Licensed under the Apache License, Version 2.0 (the "License");',
    '#     http://www.apache.org/licenses/LICENSE-2.0',
)


def _python_files():
    for path in LINTED:
        root = PACKAGE / path
        yield from [root] if root.is_file() else sorted(root.rglob('*.py'))


@pytest.mark.copyright
@pytest.mark.linter
def test_every_python_file_has_the_licence_header():
    files = list(_python_files())
    missing = []
    for path in files:
        head = path.read_text().splitlines()[:16]
        has_copyright = any(line.startswith('# Copyright ') for line in head)
        if not has_copyright or not all(line in head for line in LICENCE_LINES):
            missing.append(str(path.relative_to(PACKAGE)))
    assert len(files) > 50 and missing == [], f'no Apache-2.0 header: {missing}'


@pytest.mark.copyright
@pytest.mark.linter
def test_ament_copyright():
    if importlib.util.find_spec('ament_copyright') is None:
        pytest.skip('ament_copyright is not installed (ROS 2 only; no PyPI wheel)')
    from ament_copyright.main import main

    rc = main(argv=[str(PACKAGE / path) for path in LINTED])
    assert rc == 0, 'found copyright or licence errors (listed above)'
