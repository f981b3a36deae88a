"""Train one network (or k folds of it) on FER2013 or an image-folder dataset.

Everything a run produces lives in its run directory::

    run.json        the settings (architecture, arguments, preprocessing, labels ...)
    last.keras      model + optimizer state after the last finished epoch (resume point)
    best.keras      the epoch with the best validation (PublicTest) accuracy
    state.json      last finished epoch, best accuracy and epoch, per-epoch history
    log.csv         per-epoch metrics, one row per finished epoch (rewritten from state.json)
    tensorboard/    TensorBoard logs

``--resume`` reloads ``last.keras`` (weights AND optimizer state, so Adam's
moments and the learning-rate schedule's step continue) and carries on with
the next epoch: a killed run loses at most the epoch in progress.

Checkpoints survive SIGKILL and power loss at any instant: the commit protocol
is in :mod:`fer_ros.training.checkpoints`; the settings in
:mod:`fer_ros.training.config`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ..errors import ModelError, SettingsError
from ..preprocess import channels_for
from .augment import AugmentSettings
from .checkpoints import (
    checkpoint_fingerprint,
    epoch_checkpoint,
    read_json,
    recover_checkpoints,
    save_json,
)
from .config import CLASS_WEIGHTINGS, LR_SCHEDULES, PRECISIONS, TrainConfig, training_command
from .data import FaceDataset, kfold_indices, load_dataset
from .evaluate import load_checkpoint

# Re-exported: callers and tests reach a run's settings and recovery through this module too.
__all__ = [
    "CLASS_WEIGHTINGS",
    "LR_SCHEDULES",
    "PRECISIONS",
    "TrainConfig",
    "recover_checkpoints",
    "train",
    "train_one",
    "training_command",
]

log = logging.getLogger(__name__)

# CPU features that make bf16 matrix products fast; without them bf16 is emulated and much slower
# (measured on an AVX2-only AMD EPYC: vgg_small width 1, batch 128, 75 img/s float32 vs 8 img/s
# bf16).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_fast_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises AVX-512 BF16 or AMX-BF16 (Linux; False where it cannot
    tell).
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")),
        [],
    )
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str) -> str:
    """``auto`` -> mixed_bfloat16 on CPUs with fast bf16, float32 elsewhere; other values
    unchanged.
    """
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if cpu_has_fast_bf16() else "float32"


def class_weights(counts: np.ndarray, mode: str) -> Optional[np.ndarray]:
    """Per-class loss weights with mean 1 over the samples: inverse frequency or its square
    root.
    """
    if mode == "none":
        return None
    counts = np.maximum(counts.astype(np.float64), 1.0)
    weights = 1.0 / counts if mode == "balanced" else 1.0 / np.sqrt(counts)
    weights *= counts.sum() / (weights * counts).sum()
    return weights.astype(np.float32)


def _learning_rate(cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """Cosine decay over all ``cfg.epochs`` (after a linear warm-up), or a constant rate."""
    import keras

    if cfg.lr_schedule != "cosine":
        return cfg.learning_rate
    total = cfg.epochs * steps_per_epoch
    warmup = int(round(cfg.warmup_epochs * steps_per_epoch))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.learning_rate * 0.1 if warmup else cfg.learning_rate,
        decay_steps=max(total - warmup, 1),
        alpha=0.01,
        warmup_target=cfg.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def _build_and_compile(cfg: TrainConfig, labels: Tuple[str, ...], steps_per_epoch: int) -> Any:
    import keras

    from .models import build_model

    mode = cfg.preprocessing
    model = build_model(cfg.architecture, 48, channels_for(mode), len(labels), cfg.arch_args)
    from .optimizers import DecoupledAdamW

    optimizer = DecoupledAdamW(
        learning_rate=_learning_rate(cfg, steps_per_epoch), weight_decay=cfg.weight_decay
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def split_for_run(cfg: TrainConfig) -> Tuple[FaceDataset, FaceDataset]:
    """(train, validation) for this run: Training/PublicTest, or a k-fold split of Training."""
    splits = load_dataset(cfg.data, ["Training", "PublicTest"], limit=cfg.limit)
    train = splits["Training"]
    if cfg.fold is None:
        return train, splits["PublicTest"]
    train_idx, val_idx = kfold_indices(len(train), cfg.kfold, cfg.fold, seed=cfg.seed)
    return train.subset(train_idx), train.subset(val_idx)


def train_one(
    cfg: TrainConfig, resume: bool = False, verbose: int = 1, resume_epochs: Optional[int] = None
) -> Dict[str, Any]:
    """Train (or resume) one run; returns its final state (best accuracy, epoch, history).

    ``resume_epochs`` changes the total number of epochs of a resumed run (to
    lengthen or shorten it): the cosine schedule is re-laid over the new total
    from the optimizer's current step, Adam's moments are kept.
    """
    import keras

    from .models import get_architecture

    cfg.validate()
    if cfg.preprocessing is None:
        cfg.preprocessing = get_architecture(cfg.architecture).preprocessing
    channels_for(cfg.preprocessing)  # validates the mode
    run_dir = Path(cfg.run_dir)
    rescheduled = False
    if resume:
        cfg, state, rescheduled = _resumed_run(run_dir, resume_epochs)
        if state["epochs_done"] >= cfg.epochs:
            log.info("%s already finished %d epochs", run_dir, cfg.epochs)
            return state
    else:
        state = _new_run(run_dir)

    keras.utils.set_random_seed(cfg.seed)
    cfg.precision = resolve_precision(cfg.precision)  # run.json records what was used
    keras.mixed_precision.set_global_policy(cfg.precision)
    train, val = split_for_run(cfg)
    save_json(run_dir / "run.json", asdict(cfg))
    save_json(run_dir / "labels.json", {"labels": list(train.labels)})
    weights = class_weights(train.class_counts(), cfg.class_weighting)
    log.info(
        "training %s %s (%s) on %d faces, validating on %d; class weights %s",
        cfg.architecture,
        cfg.arch_args,
        cfg.preprocessing,
        len(train),
        len(val),
        None if weights is None else np.round(weights, 2).tolist(),
    )
    batches = _batches(train, cfg, weights)
    if resume:
        model = _resumed_model(run_dir, cfg, state, rescheduled, len(batches))
    else:
        model = _build_and_compile(cfg, train.labels, len(batches))
    model.fit(
        batches,
        validation_data=_batches(val, cfg, None, training=False),
        epochs=cfg.epochs,
        initial_epoch=state["epochs_done"],
        callbacks=_callbacks(cfg, run_dir, state, batches),
        verbose=verbose,
    )
    return state


def _new_run(run_dir: Path) -> Dict[str, Any]:
    """The state of a fresh run; refuses a directory that already holds one."""
    if (run_dir / "last.keras").exists() or (run_dir / "state.json").exists():
        raise SettingsError(
            f"{run_dir} already holds a run; use --resume to continue it or pick a new --run-dir"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return {
        "epochs_done": 0,
        "best_val_accuracy": -1.0,
        "best_epoch": 0,
        "history": [],
        "train_seconds": 0.0,
    }


def _resumed_run(
    run_dir: Path, resume_epochs: Optional[int]
) -> Tuple[TrainConfig, Dict[str, Any], bool]:
    """(settings, state, whether the length changed) of the run to resume, after recovery."""
    config_path, state_path = run_dir / "run.json", run_dir / "state.json"
    if run_dir.is_dir():
        recover_checkpoints(run_dir)
    if (
        not config_path.is_file()
        or not (run_dir / "last.keras").is_file()
        or not state_path.is_file()
    ):
        raise SettingsError(
            f"cannot resume: {run_dir} has no finished epoch (run.json, state.json, last.keras); "
            "start it without --resume"
        )
    saved = read_json(config_path, "data", "run_dir")
    try:
        cfg = TrainConfig(**saved)
    except TypeError as exc:
        raise SettingsError(
            f"cannot resume: {config_path} is not a run's settings ({exc})"
        ) from None
    state = read_json(state_path, "epochs_done", "history")
    rescheduled = resume_epochs is not None and resume_epochs != cfg.epochs
    if rescheduled:
        if resume_epochs <= state["epochs_done"]:
            raise SettingsError(
                f"--epochs {resume_epochs} must exceed the {state['epochs_done']} epochs already "
                f"done"
            )
        log.info("changing the run's length from %d to %d epochs", cfg.epochs, resume_epochs)
        state.setdefault("epoch_changes", []).append(
            {"after_epoch": state["epochs_done"], "from": cfg.epochs, "to": resume_epochs}
        )
        cfg.epochs = resume_epochs
    return cfg, state, rescheduled


def _resumed_model(
    run_dir: Path, cfg: TrainConfig, state: Dict[str, Any], rescheduled: bool, steps_per_epoch: int
) -> Any:
    """``last.keras`` with its optimizer state; the cosine schedule re-laid if the length
    changed.
    """
    last_path = run_dir / "last.keras"
    try:
        model = load_checkpoint(last_path)
    except ModelError as exc:
        raise SettingsError(
            f"cannot resume: {exc}; best.keras holds epoch {state['best_epoch']}, but without a "
            "readable last.keras the run must start again"
        ) from None
    step, fingerprint = checkpoint_fingerprint(model)  # as loaded, before any rescheduling
    if rescheduled and cfg.lr_schedule == "cosine":
        model.optimizer.learning_rate = _learning_rate(cfg, steps_per_epoch)
    log.info(
        "resumed from %s after epoch %d: optimizer step %d, state %s",
        last_path,
        state["epochs_done"],
        step,
        fingerprint,
    )
    return model


def _callbacks(cfg: TrainConfig, run_dir: Path, state: Dict[str, Any], batches: Any) -> list:
    """Epoch commits, TensorBoard, and the plateau schedule when chosen."""
    import keras

    callbacks = [
        epoch_checkpoint(run_dir, state, batches),
        keras.callbacks.TensorBoard(
            str(run_dir / "tensorboard"), write_graph=False, profile_batch=0
        ),
    ]
    if cfg.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_accuracy", mode="max", factor=0.5, patience=3
            )
        )
    return callbacks


def _batches(
    data: FaceDataset, cfg: TrainConfig, weights: Optional[np.ndarray], training: bool = True
) -> Any:
    from .sequence import FaceBatches

    return FaceBatches(
        data,
        cfg.preprocessing,
        cfg.batch_size if training else 256,
        augment=AugmentSettings(erasing=cfg.random_erasing)
        if (training and cfg.augment)
        else None,
        shuffle=training,
        seed=cfg.seed,
        sample_weights=weights,
    )


def train(
    cfg: TrainConfig, resume: bool = False, verbose: int = 1, resume_epochs: Optional[int] = None
) -> Dict[str, Any]:
    """Train one run, or ``cfg.kfold`` runs (one per fold, under ``fold_<i>/``) with a summary."""
    if cfg.kfold < 2:
        return train_one(cfg, resume=resume, verbose=verbose, resume_epochs=resume_epochs)
    root = Path(cfg.run_dir)
    results = []
    for fold in range(cfg.kfold):
        fold_cfg = TrainConfig(
            **{**asdict(cfg), "run_dir": str(root / f"fold_{fold}"), "fold": fold}
        )
        fold_dir = root / f"fold_{fold}"
        fold_resume = resume and fold_dir.is_dir() and recover_checkpoints(fold_dir) is not None
        state = train_one(fold_cfg, resume=fold_resume, verbose=verbose)
        results.append(state["best_val_accuracy"])
    summary = {
        "kfold": cfg.kfold,
        "fold_accuracies": results,
        "mean_accuracy": float(np.mean(results)),
        "std_accuracy": float(np.std(results)),
    }
    root.mkdir(parents=True, exist_ok=True)
    save_json(root / "kfold.json", summary)
    log.info(
        "%d-fold accuracy %.4f +- %.4f",
        cfg.kfold,
        summary["mean_accuracy"],
        summary["std_accuracy"],
    )
    return summary
