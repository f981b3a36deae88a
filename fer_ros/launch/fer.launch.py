"""Launch fer_ros: the expression node, optionally a camera driver and RViz.

    ros2 launch fer_ros fer.launch.py image_topic:=/camera/image_raw
    ros2 launch fer_ros fer.launch.py platform:=pi use_camera:=true
    ros2 launch fer_ros fer.launch.py platform:=jetson params_file:=/path/my.yaml rviz:=true

Arguments (``ros2 launch fer_ros fer.launch.py --show-args`` lists them):
platform (desktop|pi|jetson) loads ``config/<platform>.yaml``; params_file is
loaded after it, so its values win; image_topic is remapped to the node's
``image`` input (and ``<image_topic>/compressed`` to ``image/compressed``).
"""

from __future__ import annotations

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PLATFORMS = ("desktop", "pi", "jetson")

ARGUMENTS = (
    ("platform", "desktop", f"Target platform; loads config/<platform>.yaml. One of: {', '.join(PLATFORMS)}"),
    ("image_topic", "/camera/image_raw", "Camera image topic (raw); its /compressed sibling is used when "
     "input_type is compressed"),
    ("namespace", "fer", "Namespace of the node and its topics (expressions, image_annotated)"),
    ("params_file", "", "Extra parameters YAML loaded after the platform config (its values win)"),
    ("use_camera", "false", "Also start a camera driver node publishing image_topic"),
    ("camera_package", "v4l2_camera", "Package of the camera driver started by use_camera"),
    ("camera_executable", "v4l2_camera_node", "Executable of the camera driver started by use_camera"),
    ("camera_namespace", "camera", "Namespace of the camera driver (v4l2_camera publishes <ns>/image_raw)"),
    ("rviz", "false", "Open RViz with config/fer.rviz showing the annotated image"),
)


def config_dir() -> Path:
    """The installed config folder: the ament share folder, or the Python package's copy (pip install)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            return Path(get_package_share_directory("fer_ros")) / "config"
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    from fer_ros.resources import CONFIG_DIR

    return CONFIG_DIR


def parameter_files(platform: str, params_file: str = "") -> list:
    """The node's parameter files: the platform's config, then ``params_file`` (whose values win)."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform:={platform} is not supported; use one of: {', '.join(PLATFORMS)}")
    platform_file = config_dir() / f"{platform}.yaml"
    if not platform_file.is_file():
        raise FileNotFoundError(f"platform config not found: {platform_file}")
    files = [str(platform_file)]
    if params_file:
        extra = Path(params_file).expanduser()
        if not extra.is_file():
            raise FileNotFoundError(f"params_file:={params_file} does not exist")
        files.append(str(extra))
    return files


def _actions(context, *args, **kwargs):
    """Build the nodes once the launch arguments are known."""
    value = {name: LaunchConfiguration(name).perform(context) for name, _, _ in ARGUMENTS}
    parameters = parameter_files(value["platform"], value["params_file"])
    folder = config_dir()
    image_topic = value["image_topic"]
    nodes = [
        Node(
            package=value["camera_package"],
            executable=value["camera_executable"],
            name="camera",
            namespace=value["camera_namespace"],
            output="screen",
            condition=IfCondition(value["use_camera"]),
        ),
        Node(
            package="fer_ros",
            executable="fer_node",
            name="fer_node",
            namespace=value["namespace"],
            parameters=parameters,
            remappings=[
                ("image", image_topic),
                ("image/compressed", image_topic.rstrip("/") + "/compressed"),
            ],
            output="screen",
            emulate_tty=True,
        ),
        Node(
            package="rviz2",
            executable="rviz2",
            name="rviz2",
            arguments=["-d", str(folder / "fer.rviz")],
            condition=IfCondition(value["rviz"]),
        ),
    ]
    return nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=text)
         for name, default, text in ARGUMENTS]
        + [OpaqueFunction(function=_actions)]
    )
