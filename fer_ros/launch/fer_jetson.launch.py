"""fer.launch.py with platform:=jetson (shortcut); every other fer.launch.py argument still
applies.

ros2 launch fer_ros fer_jetson.launch.py image_topic:=/camera/image_raw
"""

from __future__ import annotations

from pathlib import Path

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def main_launch_file() -> str:
    """fer.launch.py from the package's share folder; beside this file outside a ROS install."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            return str(Path(get_package_share_directory("fer_ros")) / "launch" / "fer.launch.py")
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    return str(Path(__file__).resolve().parent / "fer.launch.py")


def generate_launch_description() -> LaunchDescription:
    main = main_launch_file()
    return LaunchDescription(
        [
            IncludeLaunchDescription(
                PythonLaunchDescriptionSource(main),
                launch_arguments={"platform": "jetson"}.items(),
            )
        ]
    )
