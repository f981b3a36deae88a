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
The node's parameters: every pipeline setting plus the node's own, with checks. No ROS imports.

Pipeline parameters come from :data:`fer_ros.settings.PIPELINE_SETTINGS` (one
source for names, defaults, ranges and descriptions, shared with the CLI). The
node adds the few below that only make sense on a ROS graph. ``node.py`` turns
each :class:`~fer_ros.settings.SettingSpec` into a ParameterDescriptor.

:func:`check_parameter_changes` is the one check every value goes through, at
start-up and on every change: the parameter's declared ROS type (a double
parameter takes ``1.0``, not ``1``; types never change at run time), then its
range or allowed values. A batch is checked as a whole, so either every change
in it applies or none does, and the message names the parameter and what is
allowed.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

from ..errors import SettingsError
from ..settings import PIPELINE_SETTINGS, PipelineSettings, SettingSpec, SPECS, validate_setting

INPUT_TYPES = ('raw', 'compressed')
RELIABILITIES = ('best_effort', 'reliable')

NODE_SETTINGS: Tuple[SettingSpec, ...] = (
    SettingSpec(
        'enable',
        bool,
        True,
        'Process images. false = the node drops its image subscription (no CPU spent on images), '
        'publishes nothing but diagnostics, and forgets its tracks; true again resubscribes.',
    ),
    SettingSpec(
        'input_type',
        str,
        'raw',
        'Subscribe to `image` (sensor_msgs/Image, raw) or `image/compressed` '
        '(sensor_msgs/CompressedImage, '
        'JPEG or PNG). Read-only: set it at start-up.',
        choices=INPUT_TYPES,
    ),
    SettingSpec(
        'reliability',
        str,
        'best_effort',
        'QoS reliability of the image subscription (history keep-last, depth 1). best_effort '
        'matches every '
        'camera driver (REP-2003 sensor data); reliable only matches reliable publishers. '
        'Read-only.',
        choices=RELIABILITIES,
    ),
    SettingSpec(
        'max_rate_hz',
        float,
        0.0,
        'Process at most this many frames per second (the newest frame each time; the rest are '
        'dropped). '
        '0 = as many as the node keeps up with.',
        min=0.0,
        max=1000.0,
    ),
    SettingSpec(
        'publish_annotated',
        bool,
        True,
        'Publish `image_annotated` (boxes, labels, confidence) while it has subscribers; false = '
        'never.',
    ),
    SettingSpec(
        'hri_output',
        bool,
        False,
        'Also publish ROS4HRI (REP-155) topics: /humans/faces/tracked (hri_msgs/IdsList) and, per '
        'face, /humans/faces/<id>/expression (hri_msgs/Expression) and /humans/faces/<id>/roi '
        '(hri_msgs/NormalizedRegionOfInterest2D). Needs hri_msgs (ros4hri/hri_msgs); without it '
        'true is refused, saying so.',
    ),
    SettingSpec(
        'use_cv_bridge',
        bool,
        True,
        "Decode raw images in encodings fer_ros's own conversion does not handle (Bayer "
        'patterns, 16UC3, '
        '...) with cv_bridge when it imports; its frames must have the declared size. false = '
        'such images '
        'are rejected. The encodings cameras publish, and compressed images, always use '
        "fer_ros's own "
        'checked conversion.',
    ),
)
NODE_SPECS: Dict[str, SettingSpec] = {spec.name: spec for spec in NODE_SETTINGS}
READ_ONLY = frozenset({'input_type', 'reliability'})
ALL_SETTINGS: Tuple[SettingSpec, ...] = PIPELINE_SETTINGS + NODE_SETTINGS
ALL_SPECS: Dict[str, SettingSpec] = {spec.name: spec for spec in ALL_SETTINGS}
# The ROS parameter type each table type is declared as (ros2 param's names for them).
ROS_TYPE_NAMES = {
    bool: 'a bool',
    int: 'an integer',
    float: 'a double',
    str: 'a string',
    list: 'a string array',
}

assert not set(NODE_SPECS) & set(SPECS), 'node parameter names must not shadow pipeline settings'


def validate_node_setting(name: str, value: Any) -> Any:
    """Check a node-only parameter's value; raise :class:`SettingsError` naming what is allowed."""
    spec = NODE_SPECS[name]
    if spec.type is bool:
        ok = isinstance(value, bool)
    elif spec.type is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    else:
        ok = isinstance(value, spec.type)
    if not ok:
        kind = spec.type.__name__
        raise SettingsError(
            f'parameter {name}={value!r} is not a {kind}; allowed: {spec.allowed()}'
        )
    if spec.choices is not None and value not in spec.choices:
        raise SettingsError(
            f'parameter {name}={value!r} is not allowed; allowed: {spec.allowed()}'
        )
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise SettingsError(
            f'parameter {name}={value!r} is out of range; allowed: {spec.allowed()}'
        )
    return float(value) if spec.type is float else value


def _has_ros_type(spec: SettingSpec, value: Any) -> bool:
    if spec.type is bool:
        return isinstance(value, bool)
    if spec.type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type is float:
        return isinstance(value, float)
    if spec.type is str:
        return isinstance(value, str)
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _ros_type_of(value: Any) -> str:
    for kind in (bool, int, float, str):  # bool before int: True is an int in Python
        if isinstance(value, kind):
            return ROS_TYPE_NAMES[kind]
    return 'an array' if hasattr(value, '__len__') else f'a {type(value).__name__}'


def check_parameter(name: str, value: Any) -> Any:
    """
    Return the value of node parameter ``name`` once checked (type, then range or choices).

    Raises :class:`SettingsError` naming the parameter, what was given and what is allowed.
    """
    spec = ALL_SPECS[name]
    if value is None:  # `ros2 param delete`, or a parameter set to nothing
        raise SettingsError(f'parameter {name} cannot be unset; allowed: {spec.allowed()}')
    if not _has_ros_type(spec, value):
        hint = (
            f' (write {value}.0)'
            if spec.type is float and isinstance(value, int) and not isinstance(value, bool)
            else ''
        )
        raise SettingsError(
            f'parameter {name}={value!r} is {_ros_type_of(value)}, not '
            f'{ROS_TYPE_NAMES[spec.type]}{hint}; '
            f'allowed: {spec.allowed()}'
        )
    if name in SPECS:
        return validate_setting(name, value)
    return validate_node_setting(name, value)


def check_parameter_changes(
    settings: PipelineSettings, changes: Mapping[str, Any], startup: bool = False
) -> Tuple[PipelineSettings, Dict[str, Any]]:
    """
    Check a batch of parameter changes as a whole; nothing is applied here.

    Returns the pipeline settings with the changes applied (``settings`` itself if
    none of them is a pipeline setting) and the checked node-only values. Raises
    :class:`SettingsError` for the first bad value, or a read-only parameter
    outside start-up, so the caller applies all of the batch or none of it.
    Names that are not fer_ros parameters are left alone.
    """
    pipeline: Dict[str, Any] = {}
    node: Dict[str, Any] = {}
    for name, value in changes.items():
        if name not in ALL_SPECS:
            continue
        if name in READ_ONLY and not startup:
            raise SettingsError(
                f'parameter {name} is read-only: set it at start-up '
                f'(allowed: {ALL_SPECS[name].allowed()})'
            )
        checked = check_parameter(name, value)
        if name in SPECS:
            pipeline[name] = checked
        else:
            node[name] = checked
    return (settings.replace(**pipeline) if pipeline else settings), node
