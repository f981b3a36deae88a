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

"""Settings table: defaults valid, bad values rejected with the range, CLI flags generated."""

from __future__ import annotations

import argparse

from fer_ros.errors import SettingsError
from fer_ros.settings import PIPELINE_SETTINGS, PipelineSettings, validate_setting
from fer_ros.settings_cli import add_setting_arguments, settings_from_args
import pytest


def test_every_setting_is_a_field_with_its_default():
    defaults = PipelineSettings()
    for spec in PIPELINE_SETTINGS:
        assert getattr(defaults, spec.name) == validate_setting(spec.name, spec.default)
        assert spec.description


@pytest.mark.parametrize(
    'name, value, needle',
    [
        ('max_faces', 0, r'max_faces=0 .*\[1, 256\]'),
        ('face_margin', 2.0, r'face_margin=2.0 .*\[-0.5, 1\]'),
        ('detector', 'mtcnn', 'one of yunet, haar'),
        ('providers', ['FooExecutionProvider'], 'FooExecutionProvider.*CPUExecutionProvider'),
        ('providers', [], 'is empty'),
        ('tracking', 'yes', 'not a bool'),
        ('intra_op_threads', 1.5, 'not an int'),
        ('smoothing_alpha', float('nan'), 'not a number'),
        ('no_such_setting', 1, 'unknown setting'),
    ],
)
def test_bad_values_are_rejected_with_what_is_allowed(name, value, needle):
    with pytest.raises(SettingsError, match=needle):
        validate_setting(name, value)


def test_replace_validates_and_canonicalises():
    s = PipelineSettings().replace(
        providers=['CUDAExecutionProvider', 'CPUExecutionProvider'], face_margin=0
    )
    assert s.providers == ('CUDAExecutionProvider', 'CPUExecutionProvider')
    assert isinstance(s.face_margin, float)
    with pytest.raises(SettingsError):
        s.replace(iou_threshold=0.0)


def test_yunet_is_the_default_and_needs_no_model_path():
    settings = PipelineSettings()
    assert settings.detector == 'yunet' and settings.detector_model == ''  # "" = the shipped file


def test_cli_flags_cover_every_setting_and_validate():
    parser = argparse.ArgumentParser()
    add_setting_arguments(parser)
    args = parser.parse_args(
        [
            '--detection-width',
            '240',
            '--no-tracking',
            '--providers',
            'CUDAExecutionProvider,CPUExecutionProvider',
        ]
    )
    s = settings_from_args(args)
    assert s.detection_width == 240 and s.tracking is False
    assert s.providers == ('CUDAExecutionProvider', 'CPUExecutionProvider')
    assert s.smoothing is True  # untouched flags keep the default
    flags = {a.dest for a in parser._actions}
    assert {spec.name for spec in PIPELINE_SETTINGS} <= flags
    with pytest.raises(SettingsError, match='min_face_size'):
        settings_from_args(parser.parse_args(['--min-face-size', '2']))
