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

Checkpoints survive SIGKILL and power loss at any instant. At the end of
epoch ``e`` the model is saved to ``last.epoch-<e>.pending.keras`` (and copied
to ``best.epoch-<e>.pending.keras`` when it is the best so far) and flushed to
disk; then ``state.json`` is replaced atomically, which is the commit point;
then the pending files are renamed over ``last.keras``/``best.keras``. On
resume, :func:`recover_checkpoints` finishes the renames of the committed
epoch and deletes anything newer or half-written, so ``last.keras``,
``best.keras``, ``state.json`` and ``log.csv`` always describe the same epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .. import atomic
from ..errors import ModelError, SettingsError
from ..preprocess import channels_for
from .augment import AugmentSettings
from .data import FaceDataset, kfold_indices, load_dataset
from .evaluate import load_checkpoint

log = logging.getLogger(__name__)

LR_SCHEDULES = ("cosine", "constant", "plateau")
CLASS_WEIGHTINGS = ("none", "balanced", "sqrt")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
# CPU features that make bf16 matrix products fast; without them bf16 is emulated and much slower
# (measured on an AVX2-only AMD EPYC: vgg_small width 1, batch 128, 75 img/s float32 vs 8 img/s bf16).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass
class TrainConfig:
    """All settings of a run; saved as ``run.json`` and checked on ``--resume``."""

    data: str
    run_dir: str
    architecture: str = "vgg_small"  # what the shipped default is
    arch_args: Dict[str, Any] = field(default_factory=dict)
    preprocessing: Optional[str] = None  # None: the architecture's own
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"
    warmup_epochs: float = 1.0
    weight_decay: float = 1e-4
    class_weighting: str = "sqrt"
    label_smoothing: float = 0.1
    augment: bool = True
    random_erasing: float = 0.0  # probability of erasing a random rectangle of each training face
    precision: str = "auto"  # float32, mixed_bfloat16 (bf16 compute, float32 weights), auto: by the CPU
    seed: int = 0
    limit: Optional[int] = None  # rows per split, for quick runs
    kfold: int = 0  # >1: k-fold cross-validation on the training split
    fold: Optional[int] = None  # which fold this run is (set internally)

    def validate(self) -> None:
        if self.epochs < 1:
            raise SettingsError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise SettingsError(f"batch size must be >= 1, got {self.batch_size}")
        if not 0 < self.learning_rate < 1:
            raise SettingsError(f"learning rate must be in (0, 1), got {self.learning_rate}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise SettingsError(f"lr schedule {self.lr_schedule!r}; allowed: {', '.join(LR_SCHEDULES)}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise SettingsError(
                f"class weighting {self.class_weighting!r}; allowed: {', '.join(CLASS_WEIGHTINGS)}"
            )
        if not 0 <= self.label_smoothing < 1:
            raise SettingsError(f"label smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.precision not in PRECISIONS:
            raise SettingsError(f"precision {self.precision!r}; allowed: {', '.join(PRECISIONS)}")
        if not 0 <= self.random_erasing <= 1:
            raise SettingsError(f"random erasing probability must be in [0, 1], got {self.random_erasing}")
        if self.kfold == 1 or self.kfold < 0:
            raise SettingsError(f"kfold must be 0 (off) or >= 2, got {self.kfold}")


def cpu_has_fast_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises AVX-512 BF16 or AMX-BF16 (Linux; False where it cannot tell)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []
    )
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str) -> str:
    """``auto`` -> mixed_bfloat16 on CPUs with fast bf16, float32 elsewhere; other values unchanged."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if cpu_has_fast_bf16() else "float32"


def class_weights(counts: np.ndarray, mode: str) -> Optional[np.ndarray]:
    """Per-class loss weights with mean 1 over the samples: inverse frequency or its square root."""
    if mode == "none":
        return None
    counts = np.maximum(counts.astype(np.float64), 1.0)
    weights = 1.0 / counts if mode == "balanced" else 1.0 / np.sqrt(counts)
    weights *= counts.sum() / (weights * counts).sum()
    return weights.astype(np.float32)


def _save_json(path: Path, payload: Dict[str, Any]) -> None:
    atomic.write_text(path, json.dumps(payload, indent=2) + "\n")


_PENDING = re.compile(r"^(last|best)\.epoch-(\d+)\.pending\.keras$")


def _pending_path(run_dir: Path, kind: str, epoch: int) -> Path:
    return run_dir / f"{kind}.epoch-{epoch:04d}.pending.keras"


def _write_log_csv(run_dir: Path, history: List[Dict[str, Any]]) -> None:
    """``log.csv``: one row per finished epoch (1-based), derived from ``state.json``'s history."""
    keys = sorted({k for row in history for k in row} - {"epoch"})
    lines = [",".join(["epoch", *keys])]
    lines += [",".join(str(row.get(k, "")) for k in ["epoch", *keys]) for row in history]
    atomic.write_text(run_dir / "log.csv", "\n".join(lines) + "\n")


def recover_checkpoints(run_dir: Path) -> Optional[Dict[str, Any]]:
    """Bring a run directory back to its last committed epoch; returns its state (None: no epoch yet).

    Pending checkpoints of the epoch ``state.json`` commits are renamed into
    place (the run was killed between the commit and the renames); pending
    checkpoints of a later epoch and half-written temporary files are deleted
    (killed before the commit). ``log.csv`` is rewritten from the committed history.
    """
    state_path = run_dir / "state.json"
    state = _read_json(state_path, "epochs_done", "history") if state_path.is_file() else None
    done = state["epochs_done"] if state else 0
    for path in sorted(run_dir.glob("*.pending.keras")):
        match = _PENDING.match(path.name)
        if match and int(match.group(2)) == done:
            log.info("completing checkpoint of epoch %d: %s -> %s.keras", done, path.name, match.group(1))
            atomic.commit(path, run_dir / f"{match.group(1)}.keras")
        else:
            log.info("removing uncommitted checkpoint %s", path.name)
            path.unlink()
    for path in run_dir.glob(f".*{atomic.PARTIAL_MARK}*"):
        log.info("removing half-written %s", path.name)
        path.unlink()
    if state is not None:
        _write_log_csv(run_dir, state["history"])
    return state


def _read_json(path: Path, *required: str) -> Dict[str, Any]:
    """A run file (``state.json``, ``run.json``) with its ``required`` keys, or a SettingsError naming it."""
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot resume: {path} is unreadable or not JSON ({exc})") from None
    missing = [key for key in required if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise SettingsError(f"cannot resume: {path} lacks {', '.join(missing)}")
    return payload


def checkpoint_fingerprint(model: Any) -> Tuple[int, str]:
    """(optimizer step, sha256 of every weight and optimizer variable): what a checkpoint must restore."""
    import keras

    digest = hashlib.sha256()
    for variable in [*model.weights, *model.optimizer.variables]:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(variable)).tobytes())
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations)), digest.hexdigest()[:16]


def _make_callbacks(run_dir: Path, state: Dict[str, Any], batches: Any) -> List[Any]:
    import keras

    class EpochCheckpoint(keras.callbacks.Callback):
        """After each epoch: commit last.keras (resume point), best.keras when val accuracy improves.

        The order (pending files on disk, then state.json, then renames) is what
        makes a kill at any instant recoverable; see the module docstring.
        """

        def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
            logs = logs or {}
            done = epoch + 1
            val_acc = float(logs.get("val_accuracy", float("nan")))
            pending = {"last": _pending_path(run_dir, "last", done)}
            self.model.save(pending["last"])
            atomic.fsync_file(pending["last"])
            if val_acc > state["best_val_accuracy"]:
                pending["best"] = _pending_path(run_dir, "best", done)
                shutil.copyfile(pending["last"], pending["best"])
                atomic.fsync_file(pending["best"])
                state["best_val_accuracy"] = val_acc
                state["best_epoch"] = done
            seconds = time.time() - self._start
            images_per_second = len(batches.data) / seconds
            state["epochs_done"] = done
            state["history"].append(
                {
                    "epoch": done,
                    **{k: float(v) for k, v in logs.items()},
                    "seconds": round(seconds, 1),
                    "train_images_per_second": round(images_per_second, 1),
                }
            )
            state["train_seconds"] = state.get("train_seconds", 0.0) + seconds
            _save_json(run_dir / "state.json", state)  # the commit point
            for kind, path in pending.items():
                atomic.commit(path, run_dir / f"{kind}.keras")
            _write_log_csv(run_dir, state["history"])
            step, fingerprint = checkpoint_fingerprint(self.model)
            log.info(
                "epoch %d: val_accuracy %.4f (best %.4f at epoch %d); %.0f s, %.0f img/s (with "
                "validation); checkpoint: optimizer step %d, state %s",
                done,
                val_acc,
                state["best_val_accuracy"],
                state["best_epoch"],
                seconds,
                images_per_second,
                step,
                fingerprint,
            )

        def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
            self._start = time.time()
            batches.set_epoch(epoch)

    return [
        EpochCheckpoint(),
        keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False, profile_batch=0),
    ]


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
    arch = get_architecture(cfg.architecture)
    if cfg.preprocessing is None:
        cfg.preprocessing = arch.preprocessing
    channels_for(cfg.preprocessing)  # validates the mode
    run_dir = Path(cfg.run_dir)
    config_path, state_path, last_path = run_dir / "run.json", run_dir / "state.json", run_dir / "last.keras"

    if resume:
        if run_dir.is_dir():
            recover_checkpoints(run_dir)
        if not config_path.is_file() or not last_path.is_file() or not state_path.is_file():
            raise SettingsError(
                f"cannot resume: {run_dir} has no finished epoch (run.json, state.json, last.keras); "
                "start it without --resume"
            )
        saved = _read_json(config_path, "data", "run_dir")
        try:
            cfg = TrainConfig(**saved)
        except TypeError as exc:
            raise SettingsError(f"cannot resume: {config_path} is not a run's settings ({exc})") from None
        state = _read_json(state_path, "epochs_done", "history")
        rescheduled = resume_epochs is not None and resume_epochs != cfg.epochs
        if rescheduled:
            if resume_epochs <= state["epochs_done"]:
                raise SettingsError(
                    f"--epochs {resume_epochs} must exceed the {state['epochs_done']} epochs already done"
                )
            log.info("changing the run's length from %d to %d epochs", cfg.epochs, resume_epochs)
            state.setdefault("epoch_changes", []).append(
                {"after_epoch": state["epochs_done"], "from": cfg.epochs, "to": resume_epochs}
            )
            cfg.epochs = resume_epochs
        if state["epochs_done"] >= cfg.epochs:
            log.info("%s already finished %d epochs", run_dir, cfg.epochs)
            return state
    else:
        if last_path.exists() or state_path.exists():
            raise SettingsError(
                f"{run_dir} already holds a run; use --resume to continue it or pick a new --run-dir"
            )
        run_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "epochs_done": 0,
            "best_val_accuracy": -1.0,
            "best_epoch": 0,
            "history": [],
            "train_seconds": 0.0,
        }

    keras.utils.set_random_seed(cfg.seed)
    cfg.precision = resolve_precision(cfg.precision)  # run.json records what was used
    keras.mixed_precision.set_global_policy(cfg.precision)
    train, val = split_for_run(cfg)
    labels = train.labels
    _save_json(config_path, asdict(cfg))
    _save_json(run_dir / "labels.json", {"labels": list(labels)})
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
    val_batches = _batches(val, cfg, None, training=False)
    if resume:
        try:
            model = load_checkpoint(last_path)
        except ModelError as exc:
            raise SettingsError(
                f"cannot resume: {exc}; best.keras holds epoch {state['best_epoch']}, but without a "
                "readable last.keras the run must start again"
            ) from None
        step, fingerprint = checkpoint_fingerprint(model)  # as loaded, before any rescheduling
        if rescheduled and cfg.lr_schedule == "cosine":
            model.optimizer.learning_rate = _learning_rate(cfg, len(batches))
        log.info(
            "resumed from %s after epoch %d: optimizer step %d, state %s",
            last_path,
            state["epochs_done"],
            step,
            fingerprint,
        )
    else:
        model = _build_and_compile(cfg, labels, len(batches))
    callbacks = _make_callbacks(run_dir, state, batches)
    if cfg.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5, patience=3)
        )
    model.fit(
        batches,
        validation_data=val_batches,
        epochs=cfg.epochs,
        initial_epoch=state["epochs_done"],
        callbacks=callbacks,
        verbose=verbose,
    )
    return state


def _batches(
    data: FaceDataset, cfg: TrainConfig, weights: Optional[np.ndarray], training: bool = True
) -> Any:
    from .sequence import FaceBatches

    return FaceBatches(
        data,
        cfg.preprocessing,
        cfg.batch_size if training else 256,
        augment=AugmentSettings(erasing=cfg.random_erasing) if (training and cfg.augment) else None,
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
        fold_cfg = TrainConfig(**{**asdict(cfg), "run_dir": str(root / f"fold_{fold}"), "fold": fold})
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
    _save_json(root / "kfold.json", summary)
    log.info("%d-fold accuracy %.4f +- %.4f", cfg.kfold, summary["mean_accuracy"], summary["std_accuracy"])
    return summary


def steps_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def training_command(cfg: Dict[str, Any]) -> str:
    """The ``fer-ros train`` command line that reproduces a run from its ``run.json``."""
    d = TrainConfig(data="", run_dir="")
    parts = [
        "fer-ros train",
        f"--data {cfg['data']}",
        f"--run-dir {cfg['run_dir']}",
        f"--arch {cfg['architecture']}",
    ]
    parts += [f"--arch-arg {k}={v}" for k, v in sorted(cfg.get("arch_args", {}).items())]
    options = [
        ("preprocessing", "--preprocessing", None),
        ("epochs", "--epochs", d.epochs),
        ("batch_size", "--batch-size", d.batch_size),
        ("learning_rate", "--lr", d.learning_rate),
        ("lr_schedule", "--lr-schedule", d.lr_schedule),
        ("warmup_epochs", "--warmup-epochs", d.warmup_epochs),
        ("weight_decay", "--weight-decay", d.weight_decay),
        ("class_weighting", "--class-weighting", d.class_weighting),
        ("label_smoothing", "--label-smoothing", d.label_smoothing),
        ("random_erasing", "--random-erasing", d.random_erasing),
        ("precision", "--precision", d.precision),
        ("seed", "--seed", d.seed),
        ("limit", "--limit", None),
        ("kfold", "--kfold", 0),
    ]
    for key, flag, default in options:
        value = cfg.get(key)
        if key == "preprocessing":
            from .models import get_architecture

            if value == get_architecture(cfg["architecture"]).preprocessing:
                continue
        if value is not None and value != default:
            parts.append(f"{flag} {value}")
    if not cfg.get("augment", True):
        parts.append("--no-augment")
    return " ".join(parts)
