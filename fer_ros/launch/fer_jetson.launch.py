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
fer.launch.py with platform:=jetson (shortcut).

Every other fer.launch.py argument still applies.

ros2 launch fer_ros fer_jetson.launch.py image_topic:=/camera/image_raw
"""

from __future__ import annotations

from pathlib import Path

from fer_ros.ros.launch_support import main_launch_file
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def generate_launch_description() -> LaunchDescription:
    main = main_launch_file(Path(__file__).resolve().parent)
    return LaunchDescription(
        [
            IncludeLaunchDescription(
                PythonLaunchDescriptionSource(main),
                launch_arguments={'platform': 'jetson'}.items(),
            )
        ]
    )
