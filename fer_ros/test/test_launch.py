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

"""fer.launch.py builds its launch description for every platform (needs ROS 2 launch)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# `launch.actions`, not `launch`: fer_ros/launch/ looks like a namespace package named launch.
pytest.importorskip(
    'launch.actions', reason='ROS 2 `launch` is not installed (source a ROS 2 workspace)'
)
pytest.importorskip('launch_ros', reason='ROS 2 `launch_ros` is not installed')
yaml = pytest.importorskip('yaml', reason='PyYAML comes with ROS 2 launch')

from fer_ros.ros.parameters import ALL_SETTINGS  # noqa: E402, I100 (after the skip check)
from launch import LaunchContext  # noqa: E402
from launch.actions import DeclareLaunchArgument  # noqa: E402
from launch.utilities import (  # noqa: E402
    normalize_to_list_of_substitutions,
    perform_substitutions,
)
from launch_ros.actions import Node  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[1] / 'launch' / 'fer.launch.py'


@pytest.fixture(scope='module')
def module():
    spec = importlib.util.spec_from_file_location('fer_launch', LAUNCH_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _context(module, **overrides):
    description = module.generate_launch_description()
    context = LaunchContext()
    declared = [e for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    for arg in declared:
        context.launch_configurations[arg.name] = perform_substitutions(context, arg.default_value)
    context.launch_configurations.update(overrides)
    return context, {a.name for a in declared}


def test_declares_every_documented_argument(module):
    _, names = _context(module)
    assert {
        'platform',
        'image_topic',
        'namespace',
        'params_file',
        'use_camera',
        'camera_package',
        'camera_executable',
        'rviz',
        'use_sim_time',
        'log_level',
    } <= names


@pytest.mark.parametrize('platform', ['desktop', 'pi', 'jetson'])
def test_each_platform_builds_nodes_with_its_config(module, platform, tmp_path):
    extra = tmp_path / 'mine.yaml'
    extra.write_text('/**:\n  ros__parameters:\n    max_rate_hz: 3.0\n')
    context, _ = _context(module, platform=platform, params_file=str(extra))
    actions = module._actions(context)
    assert (
        all(isinstance(a, Node) for a in actions) and len(actions) == 3
    )  # camera, fer_node, rviz
    files = module.parameter_files(platform, str(extra))
    assert Path(files[0]).name == f'{platform}.yaml' and files[1] == str(extra)
    params = yaml.safe_load(Path(files[0]).read_text())['/**']['ros__parameters']
    known = {spec.name: spec for spec in ALL_SETTINGS}
    assert set(params) <= set(known), set(params) - set(known)
    for name, value in params.items():  # each value has the parameter's declared type
        spec = known[name]
        assert isinstance(value, spec.type) and not (
            spec.type is int and isinstance(value, bool)
        ), name


def test_unknown_platform_is_rejected_with_the_choices(module):
    with pytest.raises(ValueError, match='desktop, pi, jetson'):
        module.parameter_files('toaster')
    with pytest.raises(FileNotFoundError, match='nope.yaml'):
        module.parameter_files('pi', '/nope.yaml')


@pytest.mark.parametrize('platform', ['pi', 'jetson'])
def test_platform_shortcuts_include_the_main_launch_file(platform):
    from launch.actions import IncludeLaunchDescription

    path = LAUNCH_FILE.parent / f'fer_{platform}.launch.py'
    spec = importlib.util.spec_from_file_location(f'fer_{platform}_launch', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (include,) = mod.generate_launch_description().entities
    assert isinstance(include, IncludeLaunchDescription)
    context = LaunchContext()

    def text(value):
        return perform_substitutions(context, normalize_to_list_of_substitutions(value))

    arguments = {text(k): text(v) for k, v in include.launch_arguments}
    assert arguments == {'platform': platform}
