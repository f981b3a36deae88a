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
Train one network (or k folds of it) on FER2013 or an image-folder dataset.

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

import contextlib
from dataclasses import asdict
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .augment import AugmentSettings
from .checkpoints import (
    checkpoint_fingerprint,
    epoch_checkpoint,
    read_json,
    recover_checkpoints,
    save_json,
)
from .config import CLASS_WEIGHTINGS, LR_SCHEDULES, PRECISIONS, TrainConfig, training_command
from .data import concatenate, FaceDataset, load_dataset
from .evaluate import load_checkpoint
from .folds import fold_dir, fold_indices, is_kfold_run, KFOLD_FACES, KFOLD_RUN
from ..errors import ModelError, SettingsError
from ..preprocess import channels_for

# Re-exported: callers and tests reach a run's settings and recovery through this module too.
__all__ = [
    'CLASS_WEIGHTINGS',
    'LR_SCHEDULES',
    'PRECISIONS',
    'TrainConfig',
    'recover_checkpoints',
    'train',
    'train_one',
    'training_command',
]

log = logging.getLogger(__name__)

# CPU features that make bf16 matrix products fast; without them bf16 is emulated and much slower
# (measured on an AVX2-only AMD EPYC: vgg_small width 1, batch 128, 75 img/s float32 vs 8 img/s
# bf16).
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


def cpu_has_fast_bf16(cpuinfo: str = '/proc/cpuinfo') -> bool:
    """Tell whether the CPU advertises AVX-512 BF16 or AMX-BF16 (Linux; False if unknown)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next(
        (line.split(':', 1)[1].split() for line in text.splitlines() if line.startswith('flags')),
        [],
    )
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str) -> str:
    """
    ``auto`` -> mixed_bfloat16 on CPUs with fast bf16, float32 elsewhere.

    Other values unchanged.
    """
    if precision != 'auto':
        return precision
    return 'mixed_bfloat16' if cpu_has_fast_bf16() else 'float32'


def training_hardware() -> str:
    """
    Say what a run trains on, for its model card: the GPUs Keras uses, or the CPU cores.

    E.g. ``1 x NVIDIA H200, Keras on jax`` or ``2 CPU cores, Keras on tensorflow``.
    """
    import keras

    backend = keras.backend.backend()
    names: List[str] = []
    try:
        if backend == 'jax':
            import jax

            names = [d.device_kind for d in jax.devices() if d.platform == 'gpu']
        elif backend == 'torch':
            import torch

            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        elif backend == 'tensorflow':
            import tensorflow as tf

            names = [
                tf.config.experimental.get_device_details(d).get('device_name', 'GPU')
                for d in tf.config.list_physical_devices('GPU')
            ]
    except Exception as exc:  # noqa: BLE001  (a card figure, never a reason to stop a run)
        log.debug('could not list GPUs: %s', exc)
    if names:
        return f'{len(names)} x {names[0]}, Keras on {backend}'
    return f'{os.cpu_count()} CPU cores, Keras on {backend}'


def class_weights(counts: np.ndarray, mode: str) -> Optional[np.ndarray]:
    """Return per-class loss weights, mean 1 over the samples: 1/n or 1/sqrt(n)."""
    if mode == 'none':
        return None
    counts = np.maximum(counts.astype(np.float64), 1.0)
    weights = 1.0 / counts if mode == 'balanced' else 1.0 / np.sqrt(counts)
    weights *= counts.sum() / (weights * counts).sum()
    return weights.astype(np.float32)


def _learning_rate(cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """Cosine decay over all ``cfg.epochs`` (after a linear warm-up), or a constant rate."""
    import keras

    if cfg.lr_schedule != 'cosine':
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
    from .optimizers import build_optimizer

    # With --ema an average of the weights is validated and exported (ema.py).
    optimizer = build_optimizer(
        cfg.optimizer, _learning_rate(cfg, steps_per_epoch), cfg.weight_decay, cfg.ema
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=['accuracy'],
    )
    return model


def split_for_run(cfg: TrainConfig) -> Tuple[FaceDataset, Optional[FaceDataset]]:
    """
    Return (train, validation) for this run.

    Training and PublicTest; Training+PublicTest and no validation; or a fold's parts.
    """
    if cfg.fold is None:
        splits = load_dataset(cfg.data, ['Training', 'PublicTest'], limit=cfg.limit)
        if cfg.train_on == 'Training+PublicTest':
            return concatenate([splits['Training'], splits['PublicTest']], cfg.train_on), None
        return splits['Training'], splits['PublicTest']
    train, val, _ = fold_parts(cfg)
    return train, val


def folded_faces(cfg: TrainConfig) -> FaceDataset:
    """Return the faces a k-fold run deals into parts: Training, or every split in name order."""
    if cfg.kfold_scope == 'all':
        splits = load_dataset(cfg.data, None, limit=cfg.limit)
        return concatenate([splits[name] for name in sorted(splits)], 'all splits')
    return load_dataset(cfg.data, ['Training'], limit=cfg.limit)['Training']


def fold_parts(cfg: TrainConfig) -> Tuple[FaceDataset, FaceDataset, FaceDataset]:
    """(train, validation, test) of fold ``cfg.fold``, over Training or over every split."""
    faces = folded_faces(cfg)
    parts = fold_indices(faces.targets, cfg.kfold, cfg.fold, seed=cfg.seed)
    train, val, test = (faces.subset(index) for index in parts)
    for data, role in zip((train, val, test), ('train', 'validation', 'test')):
        data.name = f'fold {cfg.fold} {role}'
    return train, val, test


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """
    Set Keras' global dtype policy (``float32`` or ``mixed_bfloat16``) inside the block.

    The policy is process-wide: without restoring it, every model built after a
    bf16 run in the same process (an export, a test, the next fold) would be
    built in bf16 too.
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def train_one(
    cfg: TrainConfig, resume: bool = False, verbose: int = 1, resume_epochs: Optional[int] = None
) -> Dict[str, Any]:
    """
    Train (or resume) one run; returns its final state (best accuracy, epoch, history).

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
        if state['epochs_done'] >= cfg.epochs:
            log.info('%s already finished %d epochs', run_dir, cfg.epochs)
            return state
    else:
        state = _new_run(run_dir)

    keras.utils.set_random_seed(cfg.seed)
    cfg.precision = resolve_precision(cfg.precision)  # run.json records what was used
    with dtype_policy(cfg.precision):  # the process's policy is restored afterwards
        train, val = split_for_run(cfg)
        save_json(run_dir / 'run.json', asdict(cfg))
        save_json(run_dir / 'labels.json', {'labels': list(train.labels)})
        weights = class_weights(train.class_counts(), cfg.class_weighting)
        log.info(
            'training %s %s (%s) on %d faces, validating on %s; class weights %s',
            cfg.architecture,
            cfg.arch_args,
            cfg.preprocessing,
            len(train),
            'none (the last epoch is kept)' if val is None else len(val),
            None if weights is None else np.round(weights, 2).tolist(),
        )
        batches = _batches(train, cfg, weights, **_teaching(cfg, run_dir, train))
        if resume:
            model = _resumed_model(run_dir, cfg, state, rescheduled, len(batches))
        else:
            model = _build_and_compile(cfg, train.labels, len(batches))
            if cfg.init_from:
                _start_from(model, cfg, train.labels, run_dir)
        val_batches = None if val is None else _batches(val, cfg, None, training=False)
        state['hardware'] = training_hardware()  # for the model card (the last part's, if resumed)
        model.fit(
            batches,
            validation_data=val_batches,
            epochs=cfg.epochs,
            initial_epoch=state['epochs_done'],
            callbacks=_callbacks(cfg, run_dir, state, batches, val_batches),
            verbose=verbose,
        )
    return state


def _new_run(run_dir: Path) -> Dict[str, Any]:
    """Return the state of a fresh run; refuses a directory that already holds one."""
    if (run_dir / 'last.keras').exists() or (run_dir / 'state.json').exists():
        raise SettingsError(
            f'{run_dir} already holds a run; use --resume to continue it or pick a new --run-dir'
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return {
        'epochs_done': 0,
        'best_val_accuracy': -1.0,
        'best_epoch': 0,
        'history': [],
        'train_seconds': 0.0,
    }


def _resumed_run(
    run_dir: Path, resume_epochs: Optional[int]
) -> Tuple[TrainConfig, Dict[str, Any], bool]:
    """
    Return the settings, state and whether the length changed, of the run to resume.

    The run directory is recovered first.
    """
    config_path, state_path = run_dir / 'run.json', run_dir / 'state.json'
    if run_dir.is_dir():
        recover_checkpoints(run_dir)
    if (
        not config_path.is_file()
        or not (run_dir / 'last.keras').is_file()
        or not state_path.is_file()
    ):
        raise SettingsError(
            f'cannot resume: {run_dir} has no finished epoch (run.json, state.json, last.keras); '
            'start it without --resume'
        )
    saved = read_json(config_path, 'data', 'run_dir')
    try:
        cfg = TrainConfig(**saved)
    except TypeError as exc:
        raise SettingsError(
            f"cannot resume: {config_path} is not a run's settings ({exc})"
        ) from None
    state = read_json(state_path, 'epochs_done', 'history')
    rescheduled = resume_epochs is not None and resume_epochs != cfg.epochs
    if rescheduled:
        if resume_epochs <= state['epochs_done']:
            raise SettingsError(
                f'--epochs {resume_epochs} must exceed the {state["epochs_done"]} epochs already '
                f'done'
            )
        log.info("changing the run's length from %d to %d epochs", cfg.epochs, resume_epochs)
        state.setdefault('epoch_changes', []).append(
            {'after_epoch': state['epochs_done'], 'from': cfg.epochs, 'to': resume_epochs}
        )
        cfg.epochs = resume_epochs
    return cfg, state, rescheduled


def _resumed_model(
    run_dir: Path, cfg: TrainConfig, state: Dict[str, Any], rescheduled: bool, steps_per_epoch: int
) -> Any:
    """Load ``last.keras`` with its optimizer state; re-lay the cosine schedule if needed."""
    last_path = run_dir / 'last.keras'
    try:
        model = load_checkpoint(last_path)
    except ModelError as exc:
        raise SettingsError(
            f'cannot resume: {exc}; best.keras holds epoch {state["best_epoch"]}, but without a '
            'readable last.keras the run must start again'
        ) from None
    step, fingerprint = checkpoint_fingerprint(model)  # as loaded, before any rescheduling
    if rescheduled and cfg.lr_schedule == 'cosine':
        model.optimizer.learning_rate = _learning_rate(cfg, steps_per_epoch)
    log.info(
        'resumed from %s after epoch %d: optimizer step %d, state %s',
        last_path,
        state['epochs_done'],
        step,
        fingerprint,
    )
    return model


def _callbacks(
    cfg: TrainConfig,
    run_dir: Path,
    state: Dict[str, Any],
    batches: Any,
    val_batches: Optional[Any],
) -> list:
    """
    Epoch commits, TensorBoard, and the plateau schedule when chosen.

    With ``--ema`` the weight-averaging callbacks come first: the epoch's logs must hold both
    accuracies when the checkpoint records them.
    """
    import keras

    callbacks = []
    if cfg.ema > 0:
        from .ema import ema_callbacks

        callbacks += ema_callbacks(val_batches)
    callbacks.append(epoch_checkpoint(run_dir, state, batches))
    if importlib.util.find_spec('tensorflow') is not None:  # Keras writes its logs with it
        callbacks.append(
            keras.callbacks.TensorBoard(
                str(run_dir / 'tensorboard'), write_graph=False, profile_batch=0
            )
        )
    else:
        log.info('no TensorFlow (Keras backend %s): no TensorBoard logs', keras.backend.backend())
    if cfg.lr_schedule == 'plateau':
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor='val_accuracy', mode='max', factor=0.5, patience=3
            )
        )
    return callbacks


def _start_from(model: Any, cfg: TrainConfig, labels: Tuple[str, ...], run_dir: Path) -> None:
    """Fine-tune: give a new run's network the weights of ``cfg.init_from`` (init_weights.py)."""
    from .init_weights import load_initial_weights

    path = load_initial_weights(model, cfg.init_from, labels, run_dir)
    log.info('starting from the weights of %s (fine-tuning)', path)


def _teaching(cfg: TrainConfig, run_dir: Path, train: FaceDataset) -> Dict[str, Any]:
    """
    Return the teachers' part of the training batches (``_batches`` keywords); none without.

    Offline: ``soft_targets`` for every training face; online: a ``teacher`` for every batch.
    """
    if not cfg.teachers:
        return {}
    from .distill import OnlineTeachers, record_teachers, teacher_targets

    record_teachers(run_dir, cfg.teachers)
    log.info(
        'distilling %s from %s (weight %g, temperature %g)',
        cfg.distill_mode,
        ', '.join(cfg.teachers),
        cfg.distill_weight,
        cfg.distill_temperature,
    )
    if cfg.distill_mode == 'online':
        size = train.images.shape[1]
        teacher = OnlineTeachers(
            cfg.teachers, train.labels, cfg.preprocessing, size, cfg.distill_temperature
        )
        return {'teacher': teacher}
    return {'soft_targets': teacher_targets(cfg.teachers, train, cfg.distill_temperature)}


def _batches(
    data: FaceDataset,
    cfg: TrainConfig,
    weights: Optional[np.ndarray],
    training: bool = True,
    soft_targets: Optional[np.ndarray] = None,
    teacher: Optional[Callable[[np.ndarray], np.ndarray]] = None,
) -> Any:
    from .mixing import MixSettings
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
        soft_targets=soft_targets,
        soft_weight=cfg.distill_weight,
        mix=MixSettings(cfg.mixup, cfg.cutmix, cfg.mix_prob) if training else None,
        teacher=teacher,
    )


def train(
    cfg: TrainConfig, resume: bool = False, verbose: int = 1, resume_epochs: Optional[int] = None
) -> Dict[str, Any]:
    """
    Train one run, or ``cfg.kfold`` runs (one per fold, under ``fold_<i>/``) with a summary.

    Each fold trains on ``k - 2`` parts, keeps the epoch that is best on the next part, and is
    then tested once on its own part (``fold_<i>/test.json``); ``kfold.json`` has the test
    accuracies, their mean and spread. ``kfold_run.json`` holds the k-fold settings, so
    ``--resume`` on the run directory alone continues with the next unfinished fold. With
    ``cfg.fold`` set (``--fold``) only that fold trains, so several processes can share the
    folds; the summary is written by whichever finds every fold tested.
    """
    root = Path(cfg.run_dir)
    only_fold = cfg.fold  # --fold: this process trains one fold of the k-fold run
    if resume and is_kfold_run(root):  # the settings of a k-fold run rule
        cfg = TrainConfig(**read_json(root / KFOLD_RUN, 'kfold', 'run_dir'))
        cfg.fold = only_fold
    if cfg.kfold < 2:
        return train_one(cfg, resume=resume, verbose=verbose, resume_epochs=resume_epochs)
    cfg.validate()
    cfg = _start_kfold(cfg, root, resume)
    for fold in range(cfg.kfold) if only_fold is None else [only_fold]:
        fold_run = fold_dir(root, fold)
        fold_cfg = TrainConfig(**{**asdict(cfg), 'run_dir': str(fold_run), 'fold': fold})
        fold_resume = resume and fold_run.is_dir() and recover_checkpoints(fold_run) is not None
        state = train_one(fold_cfg, resume=fold_resume, verbose=verbose)
        _tested_fold(fold_cfg, state)
    tested = [fold_dir(root, fold) / 'test.json' for fold in range(cfg.kfold)]
    if not all(path.is_file() for path in tested):
        done = sum(path.is_file() for path in tested)
        log.info('fold %s finished; %d of %d folds tested so far', only_fold, done, cfg.kfold)
        return {'kfold': cfg.kfold, 'folds_tested': done}
    folds = [read_json(path, 'test_accuracy') for path in tested]
    summary = _kfold_summary(cfg, folds)
    save_json(root / 'kfold.json', summary)
    log.info(
        '%d-fold (%s) test accuracy %.4f +- %.4f',
        cfg.kfold,
        cfg.kfold_scope,
        summary['mean_test_accuracy'],
        summary['std_test_accuracy'],
    )
    return summary


def _start_kfold(cfg: TrainConfig, root: Path, resume: bool) -> TrainConfig:
    """
    Write (or, for ``--fold``, check) the k-fold run's settings and faces; return its settings.

    ``kfold_run.json`` holds the settings without ``fold``; ``kfold_faces.json`` the folded
    faces' count and fingerprint, which out-of-fold teachers (oof.py) check. Processes that
    each train one fold (``--fold``) of the same run share the directory: a second one finds
    the settings written and goes on if they are its own.
    """
    whole = TrainConfig(**{**asdict(cfg), 'fold': None})
    path = root / KFOLD_RUN
    if path.exists() and not resume:
        if cfg.fold is None or read_json(path, 'kfold') != asdict(whole):
            raise SettingsError(
                f'{root} already holds a k-fold run; use --resume to continue it or pick a new '
                '--run-dir' + ('' if cfg.fold is None else ' (its settings differ from these)')
            )
    root.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        save_json(path, asdict(whole))
    if not (root / KFOLD_FACES).is_file():
        faces = folded_faces(whole)
        save_json(
            root / KFOLD_FACES,
            {'scope': whole.kfold_scope, 'faces': len(faces), 'sha256': faces.fingerprint()},
        )
    return whole


def _tested_fold(cfg: TrainConfig, state: Dict[str, Any]) -> Dict[str, Any]:
    """Return the fold's figures: its best epoch on validation, and that epoch's test accuracy."""
    from .evaluate import evaluate, load_predictor

    run_dir = Path(cfg.run_dir)
    test_path = run_dir / 'test.json'
    if test_path.is_file():  # tested before an interruption
        return read_json(test_path, 'test_accuracy')
    _, _, test = fold_parts(cfg)
    report = evaluate(load_predictor(str(run_dir / 'best.keras')), test)
    result = {
        'fold': cfg.fold,
        'best_epoch': state['best_epoch'],
        'validation_accuracy': state['best_val_accuracy'],
        'test_accuracy': report['accuracy'],
        'test_faces': report['n'],
    }
    save_json(test_path, result)
    return result


def _kfold_summary(cfg: TrainConfig, folds: list) -> Dict[str, Any]:
    tests = [f['test_accuracy'] for f in folds]
    return {
        'kfold': cfg.kfold,
        'kfold_scope': cfg.kfold_scope,
        'protocol': 'stratified; per fold: k-2 parts trained, the next part picks the epoch, '
        "the fold's own part tested once",
        'folds': folds,
        'mean_test_accuracy': float(np.mean(tests)),
        'std_test_accuracy': float(np.std(tests)),
    }
