"""The node's parameters: every pipeline setting plus the node's own, with checks. No ROS imports.

Pipeline parameters come from :data:`fer_ros.settings.PIPELINE_SETTINGS` (one
source for names, defaults, ranges and descriptions, shared with the CLI). The
node adds the few below that only make sense on a ROS graph. ``node.py`` turns
each :class:`~fer_ros.settings.SettingSpec` into a ParameterDescriptor.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from ..errors import SettingsError
from ..settings import PIPELINE_SETTINGS, SPECS, SettingSpec

INPUT_TYPES = ("raw", "compressed")
RELIABILITIES = ("best_effort", "reliable")

NODE_SETTINGS: Tuple[SettingSpec, ...] = (
    SettingSpec(
        "input_type", str, "raw",
        "Subscribe to `image` (sensor_msgs/Image, raw) or `image/compressed` (sensor_msgs/CompressedImage, "
        "JPEG or PNG). Read-only: set it at start-up.",
        choices=INPUT_TYPES,
    ),
    SettingSpec(
        "reliability", str, "best_effort",
        "QoS reliability of the image subscription (history keep-last, depth 1). best_effort matches every "
        "camera driver (REP-2003 sensor data); reliable only matches reliable publishers. Read-only.",
        choices=RELIABILITIES,
    ),
    SettingSpec(
        "max_rate_hz", float, 0.0,
        "Process at most this many frames per second (the newest frame each time; the rest are dropped). "
        "0 = as many as the node keeps up with.",
        min=0.0, max=1000.0,
    ),
    SettingSpec(
        "publish_annotated", bool, True,
        "Publish `image_annotated` (boxes, labels, confidence) while it has subscribers; false = never.",
    ),
    SettingSpec(
        "use_cv_bridge", bool, True,
        "Decode raw images with cv_bridge when it imports and works (falls back to fer_ros's own conversion "
        "otherwise); false = always fer_ros's own conversion. Compressed images always use fer_ros's own "
        "decoder, which bounds the size a JPEG/PNG header declares before decoding.",
    ),
)
NODE_SPECS: Dict[str, SettingSpec] = {spec.name: spec for spec in NODE_SETTINGS}
READ_ONLY = frozenset({"input_type", "reliability"})
ALL_SETTINGS: Tuple[SettingSpec, ...] = PIPELINE_SETTINGS + NODE_SETTINGS

assert not set(NODE_SPECS) & set(SPECS), "node parameter names must not shadow pipeline settings"


def validate_node_setting(name: str, value: Any) -> Any:
    """Check a node-only parameter's value; raises :class:`SettingsError` saying what is allowed."""
    spec = NODE_SPECS[name]
    if spec.type is bool:
        ok = isinstance(value, bool)
    elif spec.type is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    else:
        ok = isinstance(value, spec.type)
    if not ok:
        kind = spec.type.__name__
        raise SettingsError(f"parameter {name}={value!r} is not a {kind}; allowed: {spec.allowed()}")
    if spec.choices is not None and value not in spec.choices:
        raise SettingsError(f"parameter {name}={value!r} is not allowed; allowed: {spec.allowed()}")
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise SettingsError(f"parameter {name}={value!r} is out of range; allowed: {spec.allowed()}")
    return float(value) if spec.type is float else value
