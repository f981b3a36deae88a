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
Network architectures, registered by name for the training CLI.

Each entry is a function returning a compiled-free :class:`keras.Model` that
takes ``input_size``, ``channels`` and ``num_classes`` plus its own keyword
arguments (``alpha``, ``t``, ``width`` ...), and the preprocessing mode the
architecture was designed for.
"""

from __future__ import annotations

from dataclasses import dataclass
import inspect
from typing import Any, Callable, Dict, Mapping, Sequence

from ...errors import SettingsError
from ...preprocess import CANNY_GREY_GREY, GREY


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable[..., Any]
    preprocessing: str
    summary: str

    def arguments(self) -> Dict[str, Any]:
        """Return the architecture's own keyword arguments and their defaults."""
        fixed = {'input_size', 'channels', 'num_classes'}
        return {
            name: p.default
            for name, p in inspect.signature(self.build).parameters.items()
            if name not in fixed
        }


def _registry() -> Dict[str, Architecture]:
    from .baseline import mini_xception
    from .huo2022 import huo2022, huo2022_xception
    from .vgg import vgg_small
    from .yengikand2023 import yengikand2023, yengikand2023_xception

    entries = [
        Architecture('huo2022', huo2022, CANNY_GREY_GREY, 'Huo et al. 2022, Table 2 (alpha, t)'),
        Architecture(
            'yengikand2023',
            yengikand2023,
            GREY,
            'Yengikand et al. 2023, conv + attention (width, mlp, attention_units)',
        ),
        Architecture(
            'huo2022_xception',
            huo2022_xception,
            CANNY_GREY_GREY,
            "Huo et al.'s layers with Xception's separable convs (alternative)",
        ),
        Architecture(
            'yengikand2023_xception',
            yengikand2023_xception,
            GREY,
            "Yengikand et al.'s attention on Xception modules (alternative)",
        ),
        Architecture('mini_xception', mini_xception, GREY, 'small fast baseline (width, blocks)'),
        Architecture('vgg_small', vgg_small, GREY, 'compact VGG-style CNN (width, stages)'),
    ]
    return {a.name: a for a in entries}


ARCHITECTURE_NAMES: Sequence[str] = (
    'huo2022',
    'yengikand2023',
    'huo2022_xception',
    'yengikand2023_xception',
    'mini_xception',
    'vgg_small',
)


def get_architecture(name: str) -> Architecture:
    registry = _registry()
    if name not in registry:
        raise SettingsError(
            f'unknown architecture {name!r}; allowed: {", ".join(ARCHITECTURE_NAMES)}'
        )
    return registry[name]


def parse_arch_args(arch: Architecture, pairs: Sequence[str]) -> Dict[str, Any]:
    """Turn ``["alpha=0.5", "t=2"]`` into typed keyword arguments, checked against the builder."""
    allowed = arch.arguments()
    result: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition('=')
        if not sep or key not in allowed:
            raise SettingsError(
                f'bad architecture argument {pair!r} for {arch.name}; '
                'use KEY=VALUE with KEY in: '
                + ', '.join(f'{k} (default {v})' for k, v in allowed.items())
            )
        default = allowed[key]
        try:
            result[key] = type(default)(text) if default is not None else float(text)
        except ValueError:
            raise SettingsError(
                f'{arch.name} argument {key}={text!r} must be a {type(default).__name__}'
            ) from None
    return result


def build_model(
    name: str, input_size: int, channels: int, num_classes: int, args: Mapping[str, Any]
) -> Any:
    """Build the named architecture; wrong arguments raise :class:`SettingsError`."""
    arch = get_architecture(name)
    try:
        return arch.build(
            input_size=input_size, channels=channels, num_classes=num_classes, **args
        )
    except (TypeError, ValueError) as exc:
        raise SettingsError(f'cannot build {name} with {dict(args)}: {exc}') from None
