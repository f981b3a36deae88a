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
Command-line flags for every pipeline setting, generated from ``settings.PIPELINE_SETTINGS``.

``--detection-width 240``, ``--providers CUDAExecutionProvider,CPUExecutionProvider``,
``--tracking`` / ``--no-tracking``: one flag per setting, with the setting's
description and allowed values as help, so the CLI can never drift from the table.
"""

from __future__ import annotations

import argparse
from typing import Any, Collection, Dict

from .settings import PIPELINE_SETTINGS, PipelineSettings, SettingSpec


def _flag(spec: SettingSpec) -> str:
    return '--' + spec.name.replace('_', '-')


def _list_of_str(text: str) -> list:
    return [item.strip() for item in text.split(',') if item.strip()]


def add_setting_arguments(
    parser: argparse.ArgumentParser,
    exclude: Collection[str] = (),
    title: str = 'pipeline settings',
) -> None:
    """
    Add one flag per pipeline setting (default None = keep the setting's default).

    ``exclude`` names settings a command sets in its own way (``fer-ros eval`` takes the model as
    its positional argument).
    """
    group = parser.add_argument_group(title)
    for spec in PIPELINE_SETTINGS:
        if spec.name in exclude:
            continue
        default = ','.join(spec.default) if spec.type is list else spec.default
        help_text = f'{spec.description} Allowed: {spec.allowed()}. Default: {default}.'
        help_text = help_text.replace('%', '%%')
        if spec.type is bool:
            group.add_argument(
                _flag(spec), dest=spec.name, action='store_true', default=None, help=help_text
            )
            group.add_argument(
                '--no-' + spec.name.replace('_', '-'),
                dest=spec.name,
                action='store_false',
                help=f'turn {spec.name} off',
            )
        elif spec.type is list:
            group.add_argument(
                _flag(spec), dest=spec.name, type=_list_of_str, metavar='A,B', help=help_text
            )
        else:
            group.add_argument(
                _flag(spec),
                dest=spec.name,
                type=spec.type,
                metavar=spec.type.__name__.upper(),
                help=help_text,
            )


def settings_from_args(
    args: argparse.Namespace, base: PipelineSettings = None, exclude: Collection[str] = ()
) -> PipelineSettings:
    """Return the settings given on the command line applied over ``base`` (validated)."""
    changes: Dict[str, Any] = {}
    for spec in PIPELINE_SETTINGS:
        if spec.name in exclude:
            continue
        value = getattr(args, spec.name, None)
        if value is not None:
            changes[spec.name] = value
    return (base or PipelineSettings()).replace(**changes)
