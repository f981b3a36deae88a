"""fer.launch.py with platform:=jetson (shortcut); every other fer.launch.py argument still
applies.

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
                launch_arguments={"platform": "jetson"}.items(),
            )
        ]
    )
