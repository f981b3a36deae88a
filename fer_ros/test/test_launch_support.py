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

"""fer.launch.py's arguments, computed without ROS 2 launch: parameters, --ros-args, RViz."""

from __future__ import annotations

from pathlib import Path

from fer_ros.ros.launch_support import node_arguments, parameter_files, rviz_config
import pytest


@pytest.mark.parametrize(
    'namespace, topic',
    [
        ('fer', '/fer/image_annotated'),
        ('/robot1/faces/', '/robot1/faces/image_annotated'),
        ('', '/image_annotated'),
    ],
)
def test_rviz_shows_the_annotated_image_of_the_launch_namespace(namespace, topic):
    path = Path(rviz_config(namespace))
    try:
        text = path.read_text()
        assert f'Value: {topic}\n' in text
        if namespace != 'fer':
            assert '/fer/image_annotated' not in text
    finally:
        path.unlink()


def test_log_level_becomes_ros_args_and_bad_levels_are_refused():
    assert node_arguments('DEBUG') == ['--ros-args', '--log-level', 'debug']
    with pytest.raises(
        ValueError, match='log_level:=loud is not one of: debug, info, warn, error, fatal'
    ):
        node_arguments('loud')


def test_platform_config_then_the_users_file(tmp_path):
    mine = tmp_path / 'mine.yaml'
    mine.write_text('/**:\n  ros__parameters:\n    enable: false\n')
    files = parameter_files('pi', str(mine))
    assert Path(files[0]).name == 'pi.yaml' and files[1] == str(mine)
    with pytest.raises(ValueError, match='platform:=mars'):
        parameter_files('mars')
    with pytest.raises(FileNotFoundError, match='params_file:=.*nope.yaml does not exist'):
        parameter_files('desktop', str(tmp_path / 'nope.yaml'))


def test_the_cyclone_example_sets_a_4mb_receive_buffer():
    """docs/ros2.md's transport example is well-formed and asks for the buffer it documents."""
    import xml.etree.ElementTree as ET

    from fer_ros.resources import config_file

    root = ET.parse(config_file('cyclonedds_large_images.xml')).getroot()
    ns = {'c': 'https://cdds.io/config'}
    buffer = root.find('c:Domain/c:Internal/c:SocketReceiveBufferSize', ns)
    assert root.tag == '{https://cdds.io/config}CycloneDDS' and buffer.get('min') == '4MB'


def test_platform_launch_files_find_the_main_one(tmp_path):
    """Outside a ROS install the main launch file is the one beside the shortcut."""
    from fer_ros.ros.launch_support import main_launch_file, share_dir

    if share_dir() is None:
        assert main_launch_file(tmp_path) == str(tmp_path / 'fer.launch.py')
    else:
        assert main_launch_file(tmp_path).endswith('share/fer_ros/launch/fer.launch.py')
