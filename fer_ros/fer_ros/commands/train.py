"""``fer-ros train``: train an expression network (needs the `train` extra)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

HELP = "train an expression network on FER2013 or an image-folder dataset (needs fer_ros[train])"


class _EpochsAction(argparse.Action):
    """Stores --epochs and remembers that it was given (so --resume can change a run's length)."""

    type = int

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        namespace.epochs = values
        namespace.epochs_given = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..training.config import TrainConfig

    defaults = TrainConfig(data="", run_dir="")
    parser.add_argument(
        "--data",
        required=True,
        help="FER2013 CSV(.gz) file or <root>/<split>/<class>/ image folder",
    )
    parser.add_argument(
        "--run-dir", required=True, help="where checkpoints and logs go (e.g. /work/runs/NAME)"
    )
    _add_model_arguments(parser, defaults)
    _add_recipe_arguments(parser, defaults)
    _add_run_arguments(parser, defaults)


def _add_model_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """What is trained: architecture, its arguments, its input."""
    parser.add_argument(
        "--arch",
        default=d.architecture,
        help="huo2022 | yengikand2023 | mini_xception | vgg_small (default %(default)s)",
    )
    parser.add_argument(
        "--arch-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="architecture argument, repeatable: e.g. alpha=0.5 t=2 (huo2022), width=0.5",
    )
    parser.add_argument(
        "--preprocessing",
        choices=("grey", "canny_grey_grey"),
        default=None,
        help="input mode (default: the architecture's own; huo2022 uses canny_grey_grey)",
    )


def _add_recipe_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """How it is trained: length, batch, optimizer and schedule (then regularisation)."""
    from ..training.config import LR_SCHEDULES

    parser.add_argument(
        "--epochs",
        type=_EpochsAction.type,
        action=_EpochsAction,
        default=d.epochs,
        help="default %(default)s; with --resume: the run's new total length (cosine schedule "
        "re-laid)",
    )
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s")
    parser.add_argument(
        "--lr",
        type=float,
        default=d.learning_rate,
        help="peak learning rate (default %(default)s)",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=d.lr_schedule,
        help="cosine (with warm-up), constant, or plateau (halve after 3 flat epochs)",
    )
    parser.add_argument(
        "--warmup-epochs", type=float, default=d.warmup_epochs, help="default %(default)s"
    )
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=d.weight_decay,
        help="AdamW decoupled decay, multiplied by the learning rate each step (default "
        "%(default)s)",
    )
    _add_regularisation_arguments(parser, d)


def _add_regularisation_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Loss weighting, label smoothing, augmentation and training arithmetic."""
    from ..training.config import CLASS_WEIGHTINGS, PRECISIONS

    parser.add_argument(
        "--class-weighting",
        choices=CLASS_WEIGHTINGS,
        default=d.class_weighting,
        help="loss weight per class: none, balanced (1/n) or sqrt (1/sqrt(n)); "
        "default %(default)s",
    )
    parser.add_argument(
        "--label-smoothing", type=float, default=d.label_smoothing, help="default %(default)s"
    )
    parser.add_argument(
        "--no-augment", action="store_true", help="turn off flip/rotate/shift/zoom/brightness"
    )
    parser.add_argument(
        "--random-erasing",
        type=float,
        default=d.random_erasing,
        metavar="P",
        help="erase a random rectangle of a training face with probability P "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=d.precision,
        help="training arithmetic: mixed_bfloat16 is faster on CPUs with AVX-512 BF16 or AMX and "
        "far "
        "slower without; auto picks by the CPU; exported models are float32 either way (default "
        "%(default)s)",
    )


def _add_run_arguments(parser: argparse.ArgumentParser, d: Any) -> None:
    """Which data and how the run is driven: seed, quick limits, k-fold, resume."""
    parser.add_argument("--seed", type=int, default=d.seed, help="default %(default)s")
    parser.add_argument(
        "--limit", type=int, default=None, help="use at most N rows per split (quick runs)"
    )
    parser.add_argument(
        "--kfold", type=int, default=0, help="k-fold cross-validation on Training (Huo: 10)"
    )
    parser.set_defaults(epochs_given=False)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir from its last finished epoch (settings from run.json)",
    )


def main(args: argparse.Namespace) -> int:
    from ..training.models import get_architecture, parse_arch_args
    from ..training.train import TrainConfig, train

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    arch = get_architecture(args.arch)
    cfg = TrainConfig(
        data=args.data,
        run_dir=args.run_dir,
        architecture=args.arch,
        arch_args=parse_arch_args(arch, args.arch_arg),
        preprocessing=args.preprocessing,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_schedule=args.lr_schedule,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        class_weighting=args.class_weighting,
        label_smoothing=args.label_smoothing,
        augment=not args.no_augment,
        random_erasing=args.random_erasing,
        precision=args.precision,
        seed=args.seed,
        limit=args.limit,
        kfold=args.kfold,
    )
    resume_epochs = args.epochs if args.resume and args.epochs_given else None
    result = train(
        cfg,
        resume=args.resume,
        verbose=1 if sys.stdout.isatty() else 2,
        resume_epochs=resume_epochs,
    )
    summary = {k: v for k, v in result.items() if k != "history"}
    print(json.dumps(summary, indent=2))
    return 0
