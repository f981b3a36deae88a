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
Every node parameter rejects out-of-range and ill-typed values, naming what is allowed.

No ROS needed.

The node checks every parameter change with ``check_parameter_changes`` before
applying anything; ``test_node.py`` tries the same values on a running rclpy node.
"""

from __future__ import annotations

from fer_ros.errors import SettingsError
from fer_ros.ros.parameters import ALL_SETTINGS, ALL_SPECS, check_parameter_changes, READ_ONLY
from fer_ros.settings import PipelineSettings
import pytest
from ros_fixtures import bad_parameter_values

CASES = [
    (spec.name, what, value) for spec in ALL_SETTINGS for what, value in bad_parameter_values(spec)
]


def test_every_parameter_gets_out_of_range_and_ill_typed_values():
    tried = {}
    for name, what, _ in CASES:
        tried.setdefault(name, set()).add(what)
    assert set(tried) == set(ALL_SPECS)
    for spec in ALL_SETTINGS:
        assert len(tried[spec.name]) >= 4, spec.name
        assert (spec.min is None) == ('below min' not in tried[spec.name]), spec.name
        assert (spec.max is None) == ('above max' not in tried[spec.name]), spec.name


@pytest.mark.parametrize('name, what, value', CASES, ids=[f'{n}-{w}' for n, w, _ in CASES])
def test_bad_value_is_rejected_naming_what_is_allowed(name, what, value):
    spec = ALL_SPECS[name]
    with pytest.raises(SettingsError) as info:
        check_parameter_changes(PipelineSettings(), {name: value}, startup=True)
    message = str(info.value)
    assert name in message and f'allowed: {spec.allowed()}' in message, message
    if spec.min is not None and spec.max is not None:
        assert (
            '[' in spec.allowed() and ']' in spec.allowed()
        )  # the range itself: "int in [1, 256]"


@pytest.mark.parametrize('name, what, value', CASES, ids=[f'{n}-{w}' for n, w, _ in CASES])
def test_a_batch_with_one_bad_value_changes_nothing(name, what, value):
    """All or nothing: a good change next to the bad one is not applied either."""
    settings = PipelineSettings(max_faces=7)
    good = {'max_faces': 3} if name != 'max_faces' else {'min_face_size': 60}
    assert check_parameter_changes(settings, good)[0] != settings  # alone, the good change applies
    with pytest.raises(SettingsError):
        check_parameter_changes(settings, {**good, name: value}, startup=True)
    assert settings == PipelineSettings(max_faces=7)


@pytest.mark.parametrize('name', sorted(READ_ONLY))
def test_read_only_parameters_are_rejected_after_start_up(name):
    spec = ALL_SPECS[name]
    with pytest.raises(SettingsError, match=f'{name} is read-only: set it at start-up'):
        check_parameter_changes(PipelineSettings(), {name: spec.choices[-1]})
    assert check_parameter_changes(PipelineSettings(), {name: spec.choices[-1]}, startup=True)[
        1
    ] == {name: spec.choices[-1]}


@pytest.mark.parametrize('spec', ALL_SETTINGS, ids=[s.name for s in ALL_SETTINGS])
def test_defaults_and_range_ends_are_accepted(spec):
    values = [spec.default if spec.type is not list else list(spec.default)]
    if spec.min is not None:
        values.append(spec.type(spec.min))
    if spec.max is not None:
        values.append(spec.type(spec.max))
    for value in values:
        settings, node = check_parameter_changes(
            PipelineSettings(), {spec.name: value}, startup=True
        )
        if spec.name in node:
            assert node[spec.name] == value
        else:
            got = getattr(settings, spec.name)
            assert (list(got) if isinstance(got, tuple) else got) == value


def test_int_for_a_double_parameter_says_how_to_write_it():
    with pytest.raises(
        SettingsError,
        match=r'smoothing_alpha=1 is an integer, not a double \(write 1.0\); '
        r'allowed: float in \[0.01, 1\]',
    ):
        check_parameter_changes(PipelineSettings(), {'smoothing_alpha': 1})


def test_unset_parameter_is_rejected():
    with pytest.raises(
        SettingsError, match='max_faces cannot be unset; allowed: int in \\[1, 256\\]'
    ):
        check_parameter_changes(PipelineSettings(), {'max_faces': None})
