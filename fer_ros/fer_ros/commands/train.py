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

"""``fer-ros train``: train an expression network (needs the `train` extra)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from typing import Any, Dict

# A recipe option left off the command line is absent from the parsed arguments, so the
# --recipe preset (or TrainConfig's default) fills it in; help texts name the default recipe's.
FROM_RECIPE = argparse.SUPPRESS


HELP = 'train an expression network on FER2013 or an image-folder dataset (needs fer_ros[train])'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..training.config import TrainConfig
    from ..training.recipes import RECIPES

    defaults = TrainConfig(data='', run_dir='')
    parser.add_argument(
        '--recipe',
        choices=tuple(RECIPES),
        default='default',
        help='preset of the architecture and every recipe option; options given here override '
        'it. '
        + '; '.join(f'{r.name}: {r.summary}' for r in RECIPES.values())
        + ' (docs/models.md)',
    )
    parser.add_argument(
        '--data',
        required=True,
        help='FER2013 CSV(.gz) file or <root>/<split>/<class>/ image folder',
    )
    parser.add_argument(
        '--run-dir', required=True, help='where checkpoints and logs go (e.g. /work/runs/NAME)'
    )
    _add_model_arguments(parser, defaults)
    _add_recipe_arguments(parser, defaults)
    _add_distill_arguments(parser, defaults)
    _add_run_arguments(parser, defaults)


def _add_distill_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Knowledge distillation: the teachers and how much their soft targets count."""
    from ..training.config import DISTILL_MODES

    parser.add_argument(
        '--teacher',
        dest='teachers',
        action='append',
        default=FROM_RECIPE,
        metavar='MODEL',
        help='distil from this trained model (.onnx, .keras or a run directory); repeat for an '
        'ensemble, whose probabilities are averaged (default: none)',
    )
    parser.add_argument(
        '--distill-weight',
        type=float,
        default=FROM_RECIPE,
        metavar='W',
        help="each training target is (1 - W) * one-hot + W * the teachers' probabilities "
        f'(default {d.distill_weight})',
    )
    parser.add_argument(
        '--distill-temperature',
        type=float,
        default=FROM_RECIPE,
        metavar='T',
        help="soften the teachers' probabilities: softmax(log(p) / T) (default "
        f'{d.distill_temperature}: as they are)',
    )
    parser.add_argument(
        '--distill-mode',
        choices=DISTILL_MODES,
        default=FROM_RECIPE,
        help='offline: the teachers label each training face and its mirror once, before the '
        'first epoch; online: they label every augmented (and mixed) batch the student sees, '
        f'at the cost of a teacher pass per step (default {d.distill_mode})',
    )


def _add_model_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Return what is trained: architecture, its arguments, its input."""
    from ..training.models import ARCHITECTURE_NAMES

    parser.add_argument(
        '--arch',
        dest='architecture',
        default=FROM_RECIPE,
        help=f"{' | '.join(ARCHITECTURE_NAMES)} (default: the recipe's; {d.architecture})",
    )
    parser.add_argument(
        '--arch-arg',
        action='append',
        default=[],
        metavar='KEY=VALUE',
        help='architecture argument, repeatable: e.g. alpha=0.5 t=2 (huo2022), width=0.5; '
        "merged over the recipe's when --arch is the recipe's",
    )
    parser.add_argument(
        '--preprocessing',
        choices=('grey', 'canny_grey_grey'),
        default=FROM_RECIPE,
        help="input mode (default: the architecture's own; huo2022 uses canny_grey_grey)",
    )
    parser.add_argument(
        '--init-from',
        default=FROM_RECIPE,
        metavar='MODEL',
        help='fine-tune: start from the weights of this trained network (a run directory or its '
        '.keras checkpoint) of the same architecture, width, input and classes, instead of a '
        'random initialisation; the recipe options set the new training (default: none)',
    )


def _add_recipe_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """How it is trained: length, batch, optimizer and schedule (then regularisation)."""
    from ..training.config import LR_SCHEDULES, OPTIMIZERS

    parser.add_argument(
        '--epochs',
        type=int,
        default=FROM_RECIPE,
        help=f"default: the recipe's ({d.epochs}); with --resume: the run's new total length "
        '(cosine schedule re-laid)',
    )
    parser.add_argument(
        '--batch-size',
        type=int,
        default=FROM_RECIPE,
        help=f"default: the recipe's ({d.batch_size})",
    )
    parser.add_argument(
        '--optimizer',
        choices=OPTIMIZERS,
        default=FROM_RECIPE,
        help='adamw, or sgd with Nesterov momentum 0.9 (which wants a higher peak rate, e.g. '
        f"0.05); default: the recipe's ({d.optimizer})",
    )
    parser.add_argument(
        '--lr',
        dest='learning_rate',
        type=float,
        default=FROM_RECIPE,
        help=f"peak learning rate (default: the recipe's, {d.learning_rate})",
    )
    parser.add_argument(
        '--lr-schedule',
        choices=LR_SCHEDULES,
        default=FROM_RECIPE,
        help='cosine (with warm-up), constant, or plateau (halve after 3 flat epochs); '
        f"default: the recipe's ({d.lr_schedule})",
    )
    parser.add_argument(
        '--warmup-epochs',
        type=float,
        default=FROM_RECIPE,
        help=f"default: the recipe's ({d.warmup_epochs})",
    )
    parser.add_argument(
        '--weight-decay',
        type=float,
        default=FROM_RECIPE,
        help='decoupled decay, multiplied by the learning rate each step (with sgd, 5e-3 is '
        'about the classic L2 5e-4); 0 with adamw is Adam '
        f"(default: the recipe's, {d.weight_decay})",
    )
    _add_regularisation_arguments(parser, d)


def _add_regularisation_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Loss weighting, label smoothing, augmentation and training arithmetic."""
    from ..training.config import CLASS_WEIGHTINGS, PRECISIONS

    parser.add_argument(
        '--class-weighting',
        choices=CLASS_WEIGHTINGS,
        default=FROM_RECIPE,
        help='loss weight per class: none, balanced (1/n) or sqrt (1/sqrt(n)); '
        f"default: the recipe's ({d.class_weighting})",
    )
    parser.add_argument(
        '--label-smoothing',
        type=float,
        default=FROM_RECIPE,
        help=f"default: the recipe's ({d.label_smoothing})",
    )
    parser.add_argument(
        '--augment',
        action=argparse.BooleanOptionalAction,
        default=FROM_RECIPE,
        help='flip/rotate/shift/zoom/brightness/contrast on training faces (default: on)',
    )
    parser.add_argument(
        '--random-erasing',
        type=float,
        default=FROM_RECIPE,
        metavar='P',
        help='erase a random rectangle of a training face with probability P '
        f"(default: the recipe's, {d.random_erasing})",
    )
    parser.add_argument(
        '--mixup',
        type=float,
        default=FROM_RECIPE,
        metavar='ALPHA',
        help='mixup: train on weighted averages of two faces and of their targets, the weight '
        f'drawn from Beta(ALPHA, ALPHA), e.g. 0.2 (default {d.mixup}: off)',
    )
    parser.add_argument(
        '--cutmix',
        type=float,
        default=FROM_RECIPE,
        metavar='ALPHA',
        help='CutMix: paste a box of another face, targets mixed by area, the kept share drawn '
        f'from Beta(ALPHA, ALPHA), e.g. 1.0; with --mixup each batch picks one (default '
        f'{d.cutmix}: off)',
    )
    parser.add_argument(
        '--mix-prob',
        type=float,
        default=FROM_RECIPE,
        metavar='P',
        help=f'share of training batches that --mixup/--cutmix mix (default {d.mix_prob})',
    )
    parser.add_argument(
        '--ema',
        type=float,
        default=FROM_RECIPE,
        metavar='DECAY',
        help='validate and export an exponential moving average of the weights with this decay '
        'per step (e.g. 0.999: about the last 1,000 steps); the raw weights are scored too '
        f'(default {d.ema}: off)',
    )
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default=FROM_RECIPE,
        help='training arithmetic: mixed_bfloat16 is faster on CPUs with AVX-512 BF16 or AMX and '
        'far slower without; auto picks by the CPU; exported models are float32 either way '
        f'(default {d.precision})',
    )


def _add_run_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Which data and how the run is driven: seed, quick limits, k-fold, resume."""
    from ..training.config import KFOLD_SCOPES, TRAIN_SPLITS

    parser.add_argument('--seed', type=int, default=FROM_RECIPE, help=f'default {d.seed}')
    parser.add_argument(
        '--limit', type=int, default=None, help='use at most N rows per split (quick runs)'
    )
    parser.add_argument(
        '--train-on',
        choices=TRAIN_SPLITS,
        default=FROM_RECIPE,
        help='Training (PublicTest picks the best epoch; default) or Training+PublicTest (a '
        'recipe already chosen on PublicTest, retrained on 12%% more faces; the last epoch is '
        'kept)',
    )
    parser.add_argument(
        '--kfold',
        type=int,
        default=FROM_RECIPE,
        help="K >= 3: stratified K-fold cross-validation, one run per fold; each fold's epoch is "
        'chosen on the next fold, never on its own test fold (default: off; huo2022 recipe: 10)',
    )
    parser.add_argument(
        '--fold',
        type=int,
        default=FROM_RECIPE,
        metavar='I',
        help='with --kfold: train fold I only (0..K-1), e.g. one process or machine per fold; '
        'they share --run-dir, and the one that finishes the last fold writes the summary '
        '(default: every fold in turn)',
    )
    parser.add_argument(
        '--kfold-scope',
        choices=KFOLD_SCOPES,
        default=FROM_RECIPE,
        help="fold the Training split only, or all faces of every split (Huo's protocol) "
        f"(default: the recipe's, {d.kfold_scope})",
    )
    parser.add_argument(
        '--resume',
        action='store_true',
        help='continue the run in --run-dir from its last finished epoch (settings from run.json)',
    )


def run_settings(args: argparse.Namespace) -> Any:
    """
    Return the run's TrainConfig.

    The recipe, overridden by the options given on the command line.
    """
    from ..training.config import TrainConfig
    from ..training.models import get_architecture, parse_arch_args
    from ..training.recipes import recipe_config, RECIPES

    # Every option's dest is its TrainConfig field; the recipe's are absent unless given.
    given: Dict[str, Any] = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(TrainConfig)
        if hasattr(args, field.name)
    }
    recipe = RECIPES[args.recipe].settings
    architecture = given.get('architecture', recipe.get('architecture', TrainConfig.architecture))
    given['arch_args'] = parse_arch_args(get_architecture(architecture), args.arch_arg)
    cfg = recipe_config(args.recipe, args.data, args.run_dir, given)
    cfg.validate()
    return cfg


def main(args: argparse.Namespace) -> int:
    from ..training.train import train

    logging.getLogger('tensorflow').setLevel(logging.ERROR)
    cfg = run_settings(args)
    resume_epochs = getattr(args, 'epochs', None) if args.resume else None  # given: a new length
    result = train(
        cfg,
        resume=args.resume,
        verbose=1 if sys.stdout.isatty() else 2,
        resume_epochs=resume_epochs,
    )
    summary = {k: v for k, v in result.items() if k != 'history'}
    print(json.dumps(summary, indent=2))
    return 0
