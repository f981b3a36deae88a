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
Find the files fer_ros ships (models, configs), after pip install or colcon build.

Both install paths put them inside the Python package (package data), so one
lookup serves both; colcon additionally copies them to the ament share folder
for launch files.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError

PACKAGE_DIR = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / 'models'
CONFIG_DIR = PACKAGE_DIR / 'config'

DEFAULT_MODEL = 'fer_default.onnx'
# The face detector: YuNet-s as released by its author (licence and hash in models/detector/).
YUNET_MODEL = MODELS_DIR / 'detector' / 'yunet_s_dynamic.onnx'
YUNET_SHA256 = 'daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3'


def shipped_models() -> list:
    """Names of the ONNX models shipped with the package, sorted."""
    return sorted(p.name for p in MODELS_DIR.glob('*.onnx'))


def resolve_model(name_or_path: str = DEFAULT_MODEL) -> Path:
    """
    Turn a shipped model's name or a file path into an existing path.

    A bare name (``fer_default.onnx`` or ``fer_default``) is looked up among the
    shipped models; anything else is treated as a path. Raises
    :class:`ModelError` naming what was tried when nothing is found.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise ModelError(f'{name_or_path}: is a directory, not an .onnx model file')
    if candidate.parent == Path('.'):
        for name in (candidate.name, candidate.name + '.onnx'):
            shipped = MODELS_DIR / name
            if shipped.is_file():
                return shipped
    available = ', '.join(shipped_models()) or 'none'
    raise ModelError(
        f'model file not found: {name_or_path} (shipped models in {MODELS_DIR}: {available})'
    )


def config_file(name: str) -> Path:
    """Path of a shipped config file (e.g. ``desktop.yaml``, ``fer.rviz``)."""
    path = CONFIG_DIR / name
    if not path.is_file():
        available = ', '.join(sorted(p.name for p in CONFIG_DIR.glob('*'))) or 'none'
        raise FileNotFoundError(f'config file not found: {path} (available: {available})')
    return path
