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
The checkpoint commit protocol of a run directory: crash-safe at any instant.

At the end of epoch ``e`` the model is saved to ``last.epoch-<e>.pending.keras`` (and copied
to ``best.epoch-<e>.pending.keras`` when it is the best so far) and flushed to disk; then
``state.json`` is replaced atomically, which is the commit point; then the pending files are
renamed over ``last.keras``/``best.keras``. :func:`recover_checkpoints` finishes the renames of
the committed epoch and deletes anything newer or half-written, so ``last.keras``,
``best.keras``, ``state.json`` and ``log.csv`` always describe the same epoch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
import re
import shutil
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .. import atomic
from ..errors import ModelError, SettingsError

log = logging.getLogger(__name__)


def save_json(path: Path, payload: Dict[str, Any]) -> None:
    """Replace a run file atomically (see :mod:`fer_ros.atomic`)."""
    atomic.write_text(path, json.dumps(payload, indent=2) + '\n')


_PENDING = re.compile(r'^(last|best)\.epoch-(\d+)\.pending\.keras$')


def _pending_path(run_dir: Path, kind: str, epoch: int) -> Path:
    return run_dir / f'{kind}.epoch-{epoch:04d}.pending.keras'


def _write_log_csv(run_dir: Path, history: List[Dict[str, Any]]) -> None:
    """``log.csv``: one row per finished epoch (1-based), derived from ``state.json``'s history."""
    keys = sorted({k for row in history for k in row} - {'epoch'})
    lines = [','.join(['epoch', *keys])]
    lines += [','.join(str(row.get(k, '')) for k in ['epoch', *keys]) for row in history]
    atomic.write_text(run_dir / 'log.csv', '\n'.join(lines) + '\n')


def recover_checkpoints(run_dir: Path) -> Optional[Dict[str, Any]]:
    """
    Bring a run directory back to its last committed epoch.

    Returns its state (None: no epoch yet).

    Pending checkpoints of the epoch ``state.json`` commits are renamed into
    place (the run was killed between the commit and the renames); pending
    checkpoints of a later epoch and half-written temporary files are deleted
    (killed before the commit). ``log.csv`` is rewritten from the committed history.
    """
    state_path = run_dir / 'state.json'
    state = read_json(state_path, 'epochs_done', 'history') if state_path.is_file() else None
    done = state['epochs_done'] if state else 0
    for path in sorted(run_dir.glob('*.pending.keras')):
        match = _PENDING.match(path.name)
        if match and int(match.group(2)) == done:
            log.info(
                'completing checkpoint of epoch %d: %s -> %s.keras',
                done,
                path.name,
                match.group(1),
            )
            atomic.commit(path, run_dir / f'{match.group(1)}.keras')
        else:
            log.info('removing uncommitted checkpoint %s', path.name)
            path.unlink()
    for path in run_dir.glob(f'.*{atomic.PARTIAL_MARK}*'):
        log.info('removing half-written %s', path.name)
        path.unlink()
    if state is not None:
        _write_log_csv(run_dir, state['history'])
    return state


def read_json(path: Path, *required: str) -> Dict[str, Any]:
    """
    Read a run file (``state.json``, ``run.json``) that must hold the ``required`` keys.

    Raises a SettingsError naming the file otherwise.
    """
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f'cannot resume: {path} is unreadable or not JSON ({exc})') from None
    missing = [key for key in required if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise SettingsError(f'cannot resume: {path} lacks {", ".join(missing)}')
    return payload


def checkpoint_fingerprint(model: Any) -> Tuple[int, str]:
    """
    (optimizer step, sha256 of every weight and optimizer variable).

    What a checkpoint must restore.
    """
    import keras

    digest = hashlib.sha256()
    for variable in [*model.weights, *model.optimizer.variables]:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(variable)).tobytes())
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations)), digest.hexdigest()[:16]


def commit_epoch(
    run_dir: Path,
    model: Any,
    state: Dict[str, Any],
    logs: Dict[str, float],
    seconds: float,
    images: int,
) -> None:
    """
    Commit finished epoch ``state["epochs_done"] + 1``.

    Pending files, then state.json, then renames.

    That order is what makes a kill at any instant recoverable (see the module docstring).
    """
    done = state['epochs_done'] + 1
    val_acc = float(logs.get('val_accuracy', float('nan')))
    pending = {'last': _pending_path(run_dir, 'last', done)}
    model.save(pending['last'])
    atomic.fsync_file(pending['last'])
    validated = 'val_accuracy' in logs  # without a validation split the last epoch is kept
    if not validated or val_acc > state['best_val_accuracy']:
        pending['best'] = _pending_path(run_dir, 'best', done)
        _save_best(model, pending['last'], pending['best'])
        state['best_epoch'] = done
        if validated:
            state['best_val_accuracy'] = val_acc
    state['epochs_done'] = done
    state['history'].append(
        {
            'epoch': done,
            **{k: float(v) for k, v in logs.items()},
            'seconds': round(seconds, 1),
            'train_images_per_second': round(images / seconds, 1),
        }
    )
    state['train_seconds'] = state.get('train_seconds', 0.0) + seconds
    save_json(run_dir / 'state.json', state)  # the commit point
    for kind, path in pending.items():
        atomic.commit(path, run_dir / f'{kind}.keras')
    _write_log_csv(run_dir, state['history'])
    step, fingerprint = checkpoint_fingerprint(model)
    log.info(
        'epoch %d: %s; %.0f s, %.0f img/s%s; checkpoint: optimizer step %d, state %s',
        done,
        _selection_summary(state, val_acc, validated),
        seconds,
        images / seconds,
        ' (with validation)' if validated else '',
        step,
        fingerprint,
    )


def _save_best(model: Any, last: Path, best: Path) -> None:
    """
    Write the best epoch's checkpoint: a copy of ``last``, or the averaged weights with ``--ema``.

    ``best.keras`` is what evaluation, export and distillation read, so with a weight average
    it holds the average as the model's weights (the validated ones); ``last.keras`` keeps the
    raw weights for resuming.
    """
    from .ema import averaged_weights, uses_ema

    if uses_ema(model):
        with averaged_weights(model):
            model.save(best)
    else:
        shutil.copyfile(last, best)
    atomic.fsync_file(best)


def _selection_summary(state: Dict[str, Any], val_acc: float, validated: bool) -> str:
    """Say how the epoch scored and which is best, or that the run keeps its last epoch."""
    if not validated:
        return 'no validation split, the last epoch is kept'
    best, best_epoch = state['best_val_accuracy'], state['best_epoch']
    return f'val_accuracy {val_acc:.4f} (best {best:.4f} at epoch {best_epoch})'


def epoch_checkpoint(run_dir: Path, state: Dict[str, Any], batches: Any) -> Any:
    """Return the Keras callback that times each epoch and commits it with :func:`commit_epoch`."""
    import keras

    class EpochCheckpoint(keras.callbacks.Callback):
        """After each epoch: commit last.keras, and best.keras when val accuracy improves."""

        def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
            self._start = time.time()
            batches.set_epoch(epoch)

        def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
            seconds = time.time() - self._start
            commit_epoch(run_dir, self.model, state, logs or {}, seconds, len(batches.data))

    return EpochCheckpoint()


def model_file(source: str, what: str = 'model') -> Path:
    """
    Return the file a model lives in: ``source`` itself, or a run directory's ``best.keras``.

    :class:`ModelError` names the missing file (``what`` says which role it had).
    """
    path = Path(source)
    if path.is_dir():
        path = path / 'best.keras'
    if not path.is_file():
        raise ModelError(f'{what} not found: {path}')
    return path
