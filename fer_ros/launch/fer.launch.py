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
Launch fer_ros: the expression node, optionally a camera driver and RViz.

    ros2 launch fer_ros fer.launch.py image_topic:=/camera/image_raw
    ros2 launch fer_ros fer.launch.py platform:=pi use_camera:=true
    ros2 launch fer_ros fer.launch.py platform:=jetson params_file:=/path/my.yaml rviz:=true

Arguments (``ros2 launch fer_ros fer.launch.py --show-args`` lists them):
platform (desktop|pi|jetson) loads ``config/<platform>.yaml``; params_file is
loaded after it, so its values win; image_topic is remapped to the node's
``image`` input (and ``<image_topic>/compressed`` to ``image/compressed``);
RViz shows ``<namespace>/image_annotated``; use_sim_time applies to every node
started; log_level sets the node's logger level.
"""

from __future__ import annotations

from fer_ros.ros.launch_support import node_arguments, parameter_files, PLATFORMS, rviz_config
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

ARGUMENTS = (
    (
        'platform',
        'desktop',
        f'Target platform; loads config/<platform>.yaml. One of: {", ".join(PLATFORMS)}',
    ),
    (
        'image_topic',
        '/camera/image_raw',
        'Camera image topic (raw); its /compressed sibling is used when input_type is compressed',
    ),
    ('namespace', 'fer', 'Namespace of the node and its topics (expressions, image_annotated)'),
    ('params_file', '', 'Extra parameters YAML loaded after the platform config (its values win)'),
    ('use_camera', 'false', 'Also start a camera driver node publishing image_topic'),
    ('camera_package', 'v4l2_camera', 'Package of the camera driver started by use_camera'),
    (
        'camera_executable',
        'v4l2_camera_node',
        'Executable of the camera driver started by use_camera',
    ),
    (
        'camera_namespace',
        'camera',
        'Namespace of the camera driver (v4l2_camera publishes <ns>/image_raw)',
    ),
    ('rviz', 'false', 'Open RViz with config/fer.rviz showing <namespace>/image_annotated'),
    ('use_sim_time', 'false', "Use /clock (e.g. with ros2 bag play --clock) for the node's time"),
    ('log_level', 'info', 'Node log level: debug, info, warn, error or fatal'),
)


def _actions(context, *args, **kwargs):
    """Build the nodes once the launch arguments are known."""
    value = {name: LaunchConfiguration(name).perform(context) for name, _, _ in ARGUMENTS}
    sim_time = {'use_sim_time': value['use_sim_time'].lower() in ('true', '1', 'yes')}
    parameters = parameter_files(value['platform'], value['params_file']) + [sim_time]
    image_topic = value['image_topic']
    wants_rviz = value['rviz'].lower() in ('true', '1')
    nodes = [
        Node(
            package=value['camera_package'],
            executable=value['camera_executable'],
            name='camera',
            namespace=value['camera_namespace'],
            output='screen',
            parameters=[sim_time],
            condition=IfCondition(value['use_camera']),
        ),
        Node(
            package='fer_ros',
            executable='fer_node',
            name='fer_node',
            namespace=value['namespace'],
            parameters=parameters,
            arguments=node_arguments(value['log_level']),
            remappings=[
                ('image', image_topic),
                ('image/compressed', image_topic.rstrip('/') + '/compressed'),
            ],
            output='screen',
            emulate_tty=True,
        ),
        Node(
            package='rviz2',
            executable='rviz2',
            name='rviz2',
            arguments=['-d', rviz_config(value['namespace'])] if wants_rviz else [],
            parameters=[sim_time],
            condition=IfCondition(value['rviz']),
        ),
    ]
    return nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=text)
            for name, default, text in ARGUMENTS
        ]
        + [OpaqueFunction(function=_actions)]
    )
