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
A training run's settings (``run.json``) and the command line that reproduces them.

Kept apart from the training loop so the CLI, the model cards and the tests can read and
write settings without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..errors import SettingsError

LR_SCHEDULES = ('cosine', 'constant', 'plateau')
CLASS_WEIGHTINGS = ('none', 'balanced', 'sqrt')
# offline: teachers label each face once before training; online: every augmented batch.
DISTILL_MODES = ('offline', 'online')
# AdamW, or SGD with Nesterov momentum 0.9; both decay decoupled, BN and biases excluded.
OPTIMIZERS = ('adamw', 'sgd')
PRECISIONS = ('auto', 'float32', 'mixed_bfloat16')
# k-fold cross-validation over the Training split, or over all of the dataset's faces (Huo's
# protocol: 35,887 FER2013 faces in 10 stratified folds).
KFOLD_SCOPES = ('training', 'all')
# What a run trains on. Training: PublicTest picks the best epoch. Training+PublicTest: the final
# recipe retrained on both (12% more faces), no selection, the last epoch is kept; only for a
# recipe whose length was chosen on PublicTest before.
TRAIN_SPLITS = ('Training', 'Training+PublicTest')


@dataclass
class TrainConfig:
    """All settings of a run; saved as ``run.json`` and checked on ``--resume``."""

    data: str
    run_dir: str
    architecture: str = 'vgg_small'  # what the shipped default is
    arch_args: Dict[str, Any] = field(default_factory=dict)
    preprocessing: Optional[str] = None  # None: the architecture's own
    epochs: int = 30
    # The recipe of the shipped vgg_small models (docs/training.md): batch 128 at a 2e-3 peak rate,
    # a decay that regularises (Keras multiplies it by the rate: 1e-4 per step at the peak).
    batch_size: int = 128
    learning_rate: float = 2e-3
    optimizer: str = 'adamw'  # OPTIMIZERS
    lr_schedule: str = 'cosine'
    warmup_epochs: float = 1.0
    weight_decay: float = 0.05
    class_weighting: str = 'sqrt'
    label_smoothing: float = 0.1
    augment: bool = True
    random_erasing: float = 0.25  # probability of erasing a random rectangle of each training face
    precision: str = (
        'auto'  # float32, mixed_bfloat16 (bf16 compute, float32 weights), auto: by the CPU
    )
    seed: int = 0
    limit: Optional[int] = None  # rows per split, for quick runs
    kfold: int = 0  # >1: stratified k-fold cross-validation (see training/folds.py)
    kfold_scope: str = 'training'  # which faces are folded: KFOLD_SCOPES
    train_on: str = 'Training'  # TRAIN_SPLITS
    fold: Optional[int] = None  # which fold this run is (--fold, or set by the k-fold loop)
    recipe: str = 'default'  # the --recipe preset the settings started from (recipes.py)
    # Knowledge distillation (training/distill.py): teacher models, the share of their soft
    # targets in each training target, the temperature that softens them, and whether they
    # label each face once before training or every augmented batch (DISTILL_MODES).
    teachers: List[str] = field(default_factory=list)
    distill_weight: float = 0.5
    distill_temperature: float = 1.0
    distill_mode: str = 'offline'
    # Weight averaging (training/ema.py): the decay of the moving average of the weights that is
    # validated and exported; 0 = off (the raw weights).
    ema: float = 0.0
    # Mixup / CutMix (training/mixing.py): Beta(a, a) parameter of each (0: off) and the share of
    # training batches that are mixed.
    mixup: float = 0.0
    cutmix: float = 0.0
    mix_prob: float = 1.0
    # Fine-tuning (training/init_weights.py): a trained run or .keras file whose weights the new
    # run starts from instead of a random initialisation; None: from scratch.
    init_from: Optional[str] = None

    def validate(self) -> None:
        if self.epochs < 1:
            raise SettingsError(f'epochs must be >= 1, got {self.epochs}')
        if self.batch_size < 1:
            raise SettingsError(f'batch size must be >= 1, got {self.batch_size}')
        if not 0 < self.learning_rate < 1:
            raise SettingsError(f'learning rate must be in (0, 1), got {self.learning_rate}')
        if self.optimizer not in OPTIMIZERS:
            raise SettingsError(f'optimizer {self.optimizer!r}; allowed: {", ".join(OPTIMIZERS)}')
        if self.weight_decay < 0:
            raise SettingsError(f'weight decay must be >= 0, got {self.weight_decay}')
        if self.lr_schedule not in LR_SCHEDULES:
            raise SettingsError(
                f'lr schedule {self.lr_schedule!r}; allowed: {", ".join(LR_SCHEDULES)}'
            )
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise SettingsError(
                f'class weighting {self.class_weighting!r}; allowed: {", ".join(CLASS_WEIGHTINGS)}'
            )
        if not 0 <= self.label_smoothing < 1:
            raise SettingsError(f'label smoothing must be in [0, 1), got {self.label_smoothing}')
        if self.precision not in PRECISIONS:
            raise SettingsError(f'precision {self.precision!r}; allowed: {", ".join(PRECISIONS)}')
        if not 0 <= self.random_erasing <= 1:
            raise SettingsError(
                f'random erasing probability must be in [0, 1], got {self.random_erasing}'
            )
        if not 0 <= self.ema < 1:
            raise SettingsError(
                f'ema decay must be in [0, 1) (0: off; e.g. 0.999), got {self.ema}'
            )
        self._validate_splits()
        self._validate_distillation()
        self._validate_mixing()

    def _validate_splits(self) -> None:
        """Check the k-fold and --train-on settings, which decide what validates each epoch."""
        if self.kfold == 1 or self.kfold < 0 or self.kfold == 2:
            raise SettingsError(
                f'kfold must be 0 (off) or >= 3 (one fold tests, the next selects the epoch), '
                f'got {self.kfold}'
            )
        if self.fold is not None and not (self.kfold and 0 <= self.fold < self.kfold):
            raise SettingsError(
                f'fold {self.fold}: --fold picks one fold of a --kfold run, 0..K-1'
                + (f' (here 0..{self.kfold - 1})' if self.kfold else '; no --kfold given')
            )
        if self.train_on not in TRAIN_SPLITS:
            raise SettingsError(f'train on {self.train_on!r}; allowed: {", ".join(TRAIN_SPLITS)}')
        if self.train_on != 'Training' and self.kfold:
            raise SettingsError(
                '--train-on Training+PublicTest has no validation split: no --kfold'
            )
        if self.train_on != 'Training' and self.lr_schedule == 'plateau':
            raise SettingsError(
                '--train-on Training+PublicTest has no validation split for the plateau schedule '
                'to watch; use --lr-schedule cosine or constant'
            )
        if self.kfold_scope not in KFOLD_SCOPES:
            raise SettingsError(
                f'kfold scope {self.kfold_scope!r}; allowed: {", ".join(KFOLD_SCOPES)}'
            )

    def _validate_distillation(self) -> None:
        if not 0 < self.distill_weight <= 1:
            raise SettingsError(f'distill weight must be in (0, 1], got {self.distill_weight}')
        if not self.distill_temperature > 0:
            raise SettingsError(f'distill temperature must be > 0, got {self.distill_temperature}')
        if self.distill_mode not in DISTILL_MODES:
            raise SettingsError(
                f'distill mode {self.distill_mode!r}; allowed: {", ".join(DISTILL_MODES)}'
            )
        if self.distill_mode == 'online' and not self.teachers:
            raise SettingsError('--distill-mode online without --teacher: nothing to distil')
        if self.teachers and self.kfold:
            raise SettingsError(
                '--teacher with --kfold: a teacher trained on FER2013 has seen the test folds; '
                'distil in single runs only'
            )
        if self.init_from and self.kfold:
            raise SettingsError(
                '--init-from with --kfold: a network trained on FER2013 has seen the test folds; '
                'fine-tune in single runs only'
            )

    def _validate_mixing(self) -> None:
        for name, alpha in (('mixup', self.mixup), ('cutmix', self.cutmix)):
            if not 0 <= alpha <= 10:
                raise SettingsError(
                    f'{name} alpha must be in [0, 10] (0: off; e.g. 0.2 or 1.0), got {alpha}'
                )
        if not 0 <= self.mix_prob <= 1:
            raise SettingsError(f'mix probability must be in [0, 1], got {self.mix_prob}')


# Recipe options a reproducing command always names, so it keeps its meaning when defaults change.
# The second value is what a run.json written before the option existed used (None: not named).
RECIPE_FLAGS = (
    ('epochs', '--epochs', None),
    ('batch_size', '--batch-size', None),
    ('optimizer', '--optimizer', 'adamw'),
    ('learning_rate', '--lr', None),
    ('lr_schedule', '--lr-schedule', None),
    ('warmup_epochs', '--warmup-epochs', None),
    ('weight_decay', '--weight-decay', None),
    ('class_weighting', '--class-weighting', None),
    ('label_smoothing', '--label-smoothing', None),
    ('random_erasing', '--random-erasing', 0.0),
    ('precision', '--precision', 'float32'),
    ('seed', '--seed', None),
)


def training_command(cfg: Dict[str, Any]) -> str:
    """
    Return the ``fer-ros train`` command line that reproduces a run from its ``run.json``.

    Every recipe option is named, defaults included: the command must mean the same run after
    a later release changes a default.
    """
    parts = ['fer-ros train', f'--data {cfg["data"]}', f'--run-dir {cfg["run_dir"]}']
    if cfg.get('recipe', 'default') != 'default':
        parts.append(f'--recipe {cfg["recipe"]}')  # every option below overrides it anyway
    parts.append(f'--arch {cfg["architecture"]}')
    parts += [f'--arch-arg {k}={v}' for k, v in sorted(cfg.get('arch_args', {}).items())]
    preprocessing = cfg.get('preprocessing')
    if preprocessing is not None:
        from .models import get_architecture

        if preprocessing != get_architecture(cfg['architecture']).preprocessing:
            parts.append(f'--preprocessing {preprocessing}')
    for key, flag, before_option in RECIPE_FLAGS:
        value = cfg.get(key, before_option)
        if value is not None:
            parts.append(f'{flag} {value}')
    if not cfg.get('augment', True):
        parts.append('--no-augment')
    if cfg.get('limit') is not None:
        parts.append(f'--limit {cfg["limit"]}')
    if cfg.get('train_on', 'Training') != 'Training':
        parts.append(f'--train-on {cfg["train_on"]}')
    if cfg.get('kfold'):
        parts.append(f'--kfold {cfg["kfold"]} --kfold-scope {cfg.get("kfold_scope", "training")}')
        if cfg.get('fold') is not None:  # one fold's model: its --run-dir is the k-fold run's
            parts.append(f'--fold {cfg["fold"]}')
    if cfg.get('ema'):
        parts.append(f'--ema {cfg["ema"]}')
    if cfg.get('mixup') or cfg.get('cutmix'):
        parts.append(
            f'--mixup {cfg.get("mixup", 0.0)} --cutmix {cfg.get("cutmix", 0.0)} '
            f'--mix-prob {cfg.get("mix_prob", 1.0)}'
        )
    if cfg.get('init_from'):
        parts.append(f'--init-from {cfg["init_from"]}')
    if cfg.get('teachers'):
        parts += [f'--teacher {teacher}' for teacher in cfg['teachers']]
        parts.append(f'--distill-weight {cfg.get("distill_weight", 0.5)}')
        parts.append(f'--distill-temperature {cfg.get("distill_temperature", 1.0)}')
        if cfg.get('distill_mode', 'offline') != 'offline':
            parts.append(f'--distill-mode {cfg["distill_mode"]}')
    return ' '.join(parts)
