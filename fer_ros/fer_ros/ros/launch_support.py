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
What fer.launch.py computes from its arguments, without ROS 2 ``launch`` (so CI tests it).

The launch file turns its arguments into the node's parameter files, its ``--ros-args`` and an
RViz config that follows the namespace; the three functions here do that work.
"""

from __future__ import annotations

import os
from pathlib import Path
import tempfile
from typing import Optional

PLATFORMS = ('desktop', 'pi', 'jetson')
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')
RVIZ_TOPIC = '/fer/image_annotated'  # as written in config/fer.rviz


def share_dir() -> Optional[Path]:
    """fer_ros's ament share folder, or None outside a ROS install (e.g. a pip install)."""
    try:
        from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory('fer_ros'))
    except PackageNotFoundError:
        return None


def config_dir() -> Path:
    """Return the installed config folder: the share folder's, or the Python package's copy."""
    share = share_dir()
    if share is not None:
        return share / 'config'
    from ..resources import CONFIG_DIR

    return CONFIG_DIR


def main_launch_file(beside: Path) -> str:
    """fer.launch.py from the share folder; the one in ``beside`` outside a ROS install."""
    share = share_dir()
    return str((share / 'launch' if share is not None else beside) / 'fer.launch.py')


def parameter_files(platform: str, params_file: str = '') -> list:
    """
    Return the node's parameter files.

    The platform's config, then ``params_file`` (whose values win).
    """
    if platform not in PLATFORMS:
        raise ValueError(
            f'platform:={platform} is not supported; use one of: {", ".join(PLATFORMS)}'
        )
    platform_file = config_dir() / f'{platform}.yaml'
    if not platform_file.is_file():
        raise FileNotFoundError(f'platform config not found: {platform_file}')
    files = [str(platform_file)]
    if params_file:
        extra = Path(params_file).expanduser()
        if not extra.is_file():
            raise FileNotFoundError(f'params_file:={params_file} does not exist')
        files.append(str(extra))
    return files


def rviz_config(namespace: str) -> str:
    """
    Return config/fer.rviz showing ``<namespace>/image_annotated``.

    The file is a temporary copy.
    """
    text = (config_dir() / 'fer.rviz').read_text()
    topic = '/' + '/'.join(part for part in (namespace.strip('/'), 'image_annotated') if part)
    handle, path = tempfile.mkstemp(prefix='fer_', suffix='.rviz')
    with os.fdopen(handle, 'w') as out:
        out.write(text.replace(RVIZ_TOPIC, topic))
    return path


def node_arguments(log_level: str) -> list:
    """Return the node's ``--ros-args`` for the launch arguments that are not parameters."""
    if log_level.lower() not in LOG_LEVELS:
        raise ValueError(f'log_level:={log_level} is not one of: {", ".join(LOG_LEVELS)}')
    return ['--ros-args', '--log-level', log_level.lower()]
