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

"""The node's ROS-free parts: parameter table and checks, health statistics."""

from __future__ import annotations

from fer_ros.errors import SettingsError
from fer_ros.ros.parameters import ALL_SETTINGS, NODE_SPECS, READ_ONLY, validate_node_setting
from fer_ros.ros.stats import NodeStats, OK, RateMeter, WARN
from fer_ros.settings import PIPELINE_SETTINGS
import pytest


def test_every_parameter_is_documented_with_its_range():
    names = [spec.name for spec in ALL_SETTINGS]
    assert len(names) == len(set(names))
    assert {s.name for s in PIPELINE_SETTINGS} <= set(names)
    for spec in ALL_SETTINGS:
        assert len(spec.description) > 20, spec.name
        if spec.type in (int, float) and spec.name != 'max_rate_hz':
            assert spec.min is not None and spec.max is not None, spec.name
    assert READ_ONLY <= set(NODE_SPECS)


@pytest.mark.parametrize(
    'name, value, expected',
    [
        ('max_rate_hz', 5, 5.0),
        ('max_rate_hz', 0.0, 0.0),
        ('input_type', 'compressed', 'compressed'),
        ('reliability', 'reliable', 'reliable'),
        ('publish_annotated', False, False),
    ],
)
def test_valid_node_settings(name, value, expected):
    assert validate_node_setting(name, value) == expected


@pytest.mark.parametrize(
    'name, value, allowed',
    [
        ('max_rate_hz', -1.0, 'float in [0, 1000]'),
        ('max_rate_hz', 'fast', 'float in [0, 1000]'),
        ('input_type', 'theora', 'one of raw, compressed'),
        ('reliability', 'sometimes', 'best_effort, reliable'),
        ('publish_annotated', 1, 'a bool'),
    ],
)
def test_invalid_node_settings_say_what_is_allowed(name, value, allowed):
    with pytest.raises(SettingsError, match=name) as info:
        validate_node_setting(name, value)
    assert allowed in str(info.value)


def test_rate_meter():
    meter = RateMeter(window=2.0)
    assert meter.rate(0.0) == 0.0
    for i in range(21):  # 10 Hz for 2 s
        meter.tick(i * 0.1)
    assert meter.rate(2.0) == pytest.approx(10.0)
    assert meter.rate(10.0) == 0.0  # everything fell out of the window


def test_node_stats_report():
    stats = NodeStats()
    level, summary, _ = stats.report(now=100.0)
    assert level == WARN and 'no images' in summary
    for i in range(30):
        t = 100.0 + i / 30
        stats.frame_received(t, replaced_pending=i % 3 == 0)
        if i % 3:
            stats.frame_processed(t, t + 0.010 + 0.001 * (i % 5), faces=1)
    level, summary, values = stats.report(now=101.0)
    values = dict(values)
    assert level == OK, summary
    assert float(values['input_rate_hz']) == pytest.approx(30.0, rel=0.05)
    assert float(values['processed_rate_hz']) == pytest.approx(20.0, rel=0.1)
    assert values['frames_dropped'] == '10' and values['frames_processed'] == '20'
    assert 10.0 <= float(values['latency_p50_ms']) <= float(values['latency_p95_ms']) <= 14.0
    stats.frame_rejected()
    level, summary, values = stats.report(now=101.1)
    assert (
        level == WARN
        and '1 frame(s) rejected' in summary
        and dict(values)['frames_rejected'] == '1'
    )
    level, _, _ = stats.report(now=101.2)  # nothing new rejected since the last report
    assert level == OK


@pytest.mark.parametrize('platform', ['desktop', 'pi', 'jetson'])
def test_platform_configs_hold_valid_parameters(platform):
    """Every value in config/<platform>.yaml passes the node's checks with the declared type."""
    ruamel_yaml = pytest.importorskip(
        'ruamel.yaml', reason='ruamel.yaml comes with rosbags (dev extra)'
    )
    from fer_ros.resources import config_file
    from fer_ros.settings import PipelineSettings, SPECS

    document = ruamel_yaml.YAML(typ='safe').load(config_file(f'{platform}.yaml').read_text())
    params = document['/**']['ros__parameters']
    known = {spec.name: spec for spec in ALL_SETTINGS}
    assert set(params) <= set(known), set(params) - set(known)
    for name, value in params.items():
        spec = known[name]
        assert isinstance(value, spec.type) and not (
            spec.type is int and isinstance(value, bool)
        ), name
        if name in NODE_SPECS:
            validate_node_setting(name, value)
    PipelineSettings.from_mapping({k: v for k, v in params.items() if k in SPECS})


def test_ros_docs_list_every_parameter():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / 'docs' / 'ros2.md'
    if not doc.is_file():
        pytest.skip(f'{doc} not present (installed package without the repository docs)')
    text = doc.read_text(encoding='utf-8')
    missing = [spec.name for spec in ALL_SETTINGS if f'`{spec.name}`' not in text]
    assert not missing, f'parameters missing from docs/ros2.md: {missing}'


def test_image_age_percentiles_and_the_disabled_state():
    """Diagnostics report how old each published picture was (now - header.stamp)."""
    stats = NodeStats()
    for i in range(20):
        stats.frame_received(200.0 + i, replaced_pending=False)
        stats.frame_processed(200.0 + i, 200.01 + i, faces=0, image_age_s=0.050 + 0.001 * i)
    stats.frame_processed(220.0, 220.01, faces=0, image_age_s=None)  # no stamp: not counted
    values = dict(stats.report(now=220.0)[2])
    assert 55.0 <= float(values['image_age_p50_ms']) <= 65.0
    assert float(values['image_age_p50_ms']) <= float(values['image_age_p95_ms']) <= 70.0
    level, summary, _ = stats.report(
        now=400.0, disabled=True
    )  # long without images, but switched off
    assert level == OK and 'disabled' in summary
