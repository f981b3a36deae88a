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

"""ament_pep257 on the package: docstrings as ROS 2 writes them (summary on the second line)."""

from pathlib import Path

import pytest
from ros_fixtures import ros_module

PACKAGE = Path(__file__).resolve().parents[1]
LINTED = ('fer_ros', 'launch', 'setup.py', 'test')


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    lint = ros_module('ament_pep257.main', 'ament_pep257 (ROS 2 lint) not installed')
    rc = lint.main(argv=[str(PACKAGE / path) for path in LINTED])
    assert rc == 0, 'found docstring style errors (listed above)'
