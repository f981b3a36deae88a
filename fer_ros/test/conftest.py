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

"""Shared test fixtures: the FER2013 data beside the repository, and temp dirs."""

from __future__ import annotations

import os
from pathlib import Path
import sys

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The synthetic scenes with real faces (``benchmarks/frames.py``) are shared by the tests, the
# benchmarks and the soak; ``python -m pytest`` from the root finds them, plain ``pytest`` too
# with this.
# Appended, so the installed fer_ros package still wins over the checkout's ``fer_ros/`` folder.
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))


def fer2013_csv_path() -> Path:
    """
    FER2013 as CI and developers have it: ``../shared/data/fer2013/`` beside the repo.

    ``FER2013_CSV`` overrides the location.
    """
    override = os.environ.get('FER2013_CSV')
    if override:
        return Path(override)
    return REPO_ROOT.parent / 'shared' / 'data' / 'fer2013' / 'fer2013.csv.gz'


@pytest.fixture(scope='session')
def fer2013_csv() -> Path:
    path = fer2013_csv_path()
    if not path.is_file():
        pytest.skip(f'FER2013 not found at {path} (set FER2013_CSV)')
    return path


@pytest.fixture(scope='session')
def fer2013_private_test(fer2013_csv):
    """FER2013 PrivateTest faces (3,589 grey 48x48 faces with labels), read once per session."""
    from fer_ros.training.data import read_fer2013

    return read_fer2013(fer2013_csv, splits=['PrivateTest'])['PrivateTest']
