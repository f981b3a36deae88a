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
tools/ros_wheels_fix_paths.py.

The wheels' baked include folders are rewritten, or it says why not.
"""

from __future__ import annotations

import sysconfig

import numpy as np
import pytest

from tools import ros_wheels_fix_paths as fix_paths

EXPORT = 'share/std_msgs/cmake/export_std_msgs__rosidl_generator_pyExport.cmake'
BAKED = (
    'INTERFACE_INCLUDE_DIRECTORIES "${_IMPORT_PREFIX}/include/std_msgs;'
    '/opt/python/cp311-cp311/include/python3.11;'
    '/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"\n'
)


def _venv(tmp_path, text=BAKED):
    export = tmp_path / EXPORT
    export.parent.mkdir(parents=True)
    export.write_text(text)
    return export


def test_baked_folders_become_this_interpreters_headers(tmp_path):
    export = _venv(tmp_path)
    assert fix_paths.fix(tmp_path) == 1
    text = export.read_text()
    assert '/opt/python/' not in text
    assert sysconfig.get_paths()['include'] in text and np.get_include() in text
    assert '${_IMPORT_PREFIX}/include/std_msgs' in text  # the package's own folder is kept
    assert fix_paths.fix(tmp_path) == 0  # a second run changes nothing


def test_an_unknown_baked_path_stops_with_a_message(tmp_path):
    _venv(tmp_path, BAKED.replace('include/python3.11', 'include/other'))
    with pytest.raises(SystemExit, match='layout changed'):
        fix_paths.fix(tmp_path)


def test_a_venv_without_the_wheels_is_named(tmp_path):
    with pytest.raises(SystemExit, match='are the ros-\\* wheels installed there'):
        fix_paths.fix(tmp_path)
