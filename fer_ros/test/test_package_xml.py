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
Both package.xml files validate as format 3 with catkin_pkg (what rosdep and colcon read).

They also declare what the launch file starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
catkin_pkg = pytest.importorskip(
    'catkin_pkg.package', reason='catkin_pkg comes with the ROS tools'
)


@pytest.mark.parametrize('package', ['fer_ros', 'fer_ros_msgs'])
def test_package_xml_is_valid_format_3(package):
    parsed = catkin_pkg.parse_package(str(REPO / package / 'package.xml'))
    parsed.validate()
    assert parsed.package_format == 3 and parsed.name == package
    assert [str(name) for name in parsed.licenses] == ['Apache-2.0']


def test_fer_ros_declares_what_it_runs_and_not_the_numpy2_pip_key():
    parsed = catkin_pkg.parse_package(str(REPO / 'fer_ros' / 'package.xml'))
    runs = {dep.name for dep in parsed.exec_depends}
    assert {'rclpy', 'fer_ros_msgs', 'launch_ros', 'rviz2', 'v4l2_camera'} <= runs
    assert 'python3-onnxruntime-pip' not in runs  # it would let pip replace the distro's NumPy 1
