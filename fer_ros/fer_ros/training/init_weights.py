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
Fine-tuning: start a new run from a trained network's weights (``--init-from``).

The new run builds its network from its own settings, then copies in the
weights of a ``.keras`` checkpoint (or a run directory's ``best.keras``) of
the same architecture and classes; the optimizer, the schedule and the data
are the new run's. ``init_from.json`` in the run directory records the file
and its sha256, so the card's command names what the run started from.

Only Keras checkpoints qualify: an exported ``.onnx`` holds the inference graph,
not the layers' weights in Keras' order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .checkpoints import model_file, save_json
from ..errors import ModelError, SettingsError

INIT_FILE = 'init_from.json'


def load_initial_weights(model: Any, source: str, labels: Sequence[str], run_dir: Path) -> Path:
    """
    Copy the weights of ``source`` into ``model``; return the file they came from.

    :class:`SettingsError` names the file when it is not a Keras checkpoint, was
    trained for other classes, or has weights of other shapes (another
    architecture, width or input mode).
    """
    from .distill import file_sha256
    from .evaluate import keras_run_info, load_checkpoint

    path = model_file(source, 'initial weights')
    if path.suffix != '.keras':
        raise SettingsError(
            f'--init-from {path}: expected a .keras checkpoint or a run directory (an .onnx '
            'model holds no trainable Keras weights)'
        )
    try:
        info, _ = keras_run_info(path)
        trained = load_checkpoint(path)
    except ModelError as exc:
        raise SettingsError(f'--init-from: {exc}') from None
    if tuple(info.labels) != tuple(labels):
        raise SettingsError(
            f'--init-from {path} was trained for {list(info.labels)}; this run has {list(labels)}'
        )
    _check_shapes(model, trained, path)
    model.set_weights(trained.get_weights())
    save_json(run_dir / INIT_FILE, {'init_from': str(path), 'sha256': file_sha256(path)})
    return path


def _check_shapes(model: Any, trained: Any, path: Path) -> None:
    """Raise :class:`SettingsError` at the first weight whose shape differs."""
    ours = [tuple(w.shape) for w in model.weights]
    theirs = [tuple(w.shape) for w in trained.weights]
    if len(ours) != len(theirs):
        raise SettingsError(
            f'--init-from {path} has {len(theirs)} weight arrays, this network {len(ours)}: '
            'not the same architecture'
        )
    for mine, other, weight in zip(ours, theirs, model.weights):
        if mine != other:
            raise SettingsError(
                f'--init-from {path}: weight {weight.path} is {other} there and {mine} here: '
                'not the same architecture, width or input mode'
            )
