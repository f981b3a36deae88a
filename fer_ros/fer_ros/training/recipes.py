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
Named training recipes: ``fer-ros train --recipe NAME`` presets.

A recipe fills in the architecture and every recipe option of :class:`TrainConfig`; options
given on the command line override it. ``default`` is the recipe of the shipped vgg_small
models; ``huo2022`` and ``yengikand2023`` are the papers' own, as far as each paper states them
(docs/models.md lists, per paper, what is stated, what we chose where it is silent, and why).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Mapping

from .config import TrainConfig
from ..errors import SettingsError


@dataclass(frozen=True)
class Recipe:
    """A preset: what it is, and the :class:`TrainConfig` fields it sets."""

    name: str
    summary: str
    settings: Dict[str, Any] = field(default_factory=dict)


# The options the papers leave open (augmentation, class weights, label smoothing) are off or
# plain here, so a paper recipe differs from the shared one in everything the paper decides.
_PLAIN = {
    'class_weighting': 'none',
    'label_smoothing': 0.0,
    'random_erasing': 0.0,
    'optimizer': 'adamw',
    'weight_decay': 0.0,  # Adam: the AdamW optimizer with no decay
    'warmup_epochs': 0.0,
}

RECIPES: Dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe('default', "the shipped models' recipe: AdamW 2e-3 cosine, batch 128, 30 epochs"),
        Recipe(
            'yengikand2023',
            'Yengikand et al. 2023: Adam 1e-3 constant, batch 32, 20 epochs',
            {
                **_PLAIN,
                'architecture': 'yengikand2023',
                'arch_args': {},
                'epochs': 20,
                'batch_size': 32,
                'learning_rate': 1e-3,
                'lr_schedule': 'constant',
            },
        ),
        Recipe(
            'huo2022',
            'Huo et al. 2022: alpha=1, t=6 on [Canny, grey, grey], stratified 10-fold over all '
            'of FER2013; Adam 1e-3 halved on plateaus, batch 64, 60 epochs (not stated: ours)',
            {
                **_PLAIN,
                'architecture': 'huo2022',
                'arch_args': {'alpha': 1.0, 't': 6.0},
                'epochs': 60,
                'batch_size': 64,
                'learning_rate': 1e-3,
                'lr_schedule': 'plateau',
                'kfold': 10,
                'kfold_scope': 'all',
            },
        ),
    )
}
RECIPE_NAMES = tuple(RECIPES)


def recipe_config(name: str, data: str, run_dir: str, overrides: Mapping[str, Any]) -> TrainConfig:
    """
    Return the settings of a run.

    TrainConfig's defaults, then recipe ``name``, then ``overrides``.

    When ``overrides`` names another architecture, the recipe's architecture arguments are
    dropped (they belong to the recipe's architecture); otherwise ``overrides['arch_args']``
    is merged over them.
    """
    if name not in RECIPES:
        raise SettingsError(f'unknown recipe {name!r}; allowed: {", ".join(RECIPE_NAMES)}')
    settings = asdict(TrainConfig(data=data, run_dir=run_dir))
    settings.update(RECIPES[name].settings)
    overrides = dict(overrides)
    own_arch = overrides.get('architecture', settings['architecture']) == settings['architecture']
    arch_args = dict(settings['arch_args']) if own_arch else {}
    arch_args.update(overrides.pop('arch_args', {}))
    settings.update(overrides, arch_args=arch_args, recipe=name)
    return TrainConfig(**settings)
