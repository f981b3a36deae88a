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
``--ema``: the averaged weights are validated and exported, the raw ones trained and resumed.

Unit tests on a small dense network (no data), then runs on a few FER2013 rows.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip('tensorflow')
pytestmark = pytest.mark.training

from fer_ros import cli  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.training.config import TrainConfig, training_command  # noqa: E402


def _values(variables) -> list:
    import keras

    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _assert_same(a: list, b: list, atol: float = 1e-6) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol)


def _differ(a: list, b: list) -> bool:
    return any(not np.allclose(x, y, atol=1e-6) for x, y in zip(a, b))


def _dense_model(ema: float):
    from fer_ros.training.optimizers import DecoupledAdamW
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation='relu'), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=DecoupledAdamW(learning_rate=0.05, use_ema=True, ema_momentum=ema),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=['accuracy'],
    )
    return model


def _dense_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1).astype(np.int64)


def test_validation_scores_the_average_and_training_goes_on_with_the_raw_weights():
    from fer_ros.training.ema import ema_callbacks, RAW_ACCURACY
    import keras
    import tensorflow as tf

    model = _dense_model(ema=0.8)
    x, y = _dense_data()
    validation = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    seen = {}

    class Recorder(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen['validated'] = _values(self.model.trainable_weights)

        def on_epoch_end(self, epoch, logs=None):
            seen['raw'] = _values(self.model.trainable_weights)
            seen['average'] = _values(self.model.optimizer._model_variables_moving_average)
            seen['logs'] = dict(logs)
            seen['raw_accuracy'] = self.model.evaluate(x, y, verbose=0, return_dict=True)[
                'accuracy'
            ]

    model.fit(
        x,
        y,
        batch_size=16,
        epochs=2,
        validation_data=(x, y),
        verbose=0,
        callbacks=[*ema_callbacks(validation), Recorder()],
    )
    # Validation saw the optimizer's average; after it, the raw weights are back in the model.
    _assert_same(seen['validated'], seen['average'])
    assert _differ(seen['raw'], seen['average'])
    # The raw weights' own accuracy is logged beside the average's.
    assert seen['logs'][RAW_ACCURACY] == pytest.approx(seen['raw_accuracy'])
    assert 'val_accuracy' in seen['logs']


def test_averaged_weights_swaps_in_and_back():
    from fer_ros.training.ema import averaged_weights

    model = _dense_model(ema=0.5)
    x, y = _dense_data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    raw = _values(model.trainable_weights)
    average = _values(model.optimizer._model_variables_moving_average)
    with averaged_weights(model):
        _assert_same(_values(model.trainable_weights), average)
    _assert_same(_values(model.trainable_weights), raw)
    _assert_same(_values(model.optimizer._model_variables_moving_average), average)


def test_ema_decay_is_checked_and_named_in_the_reproducing_command():
    with pytest.raises(SettingsError, match=r'ema decay must be in \[0, 1\)'):
        TrainConfig(data='d', run_dir='r', ema=1.0).validate()
    with pytest.raises(SettingsError, match='ema decay'):
        TrainConfig(data='d', run_dir='r', ema=-0.1).validate()
    assert '--ema 0.999' in training_command(
        {'data': 'd', 'run_dir': 'r', 'architecture': 'vgg_small', 'ema': 0.999}
    )
    assert '--ema' not in training_command(
        {'data': 'd', 'run_dir': 'r', 'architecture': 'vgg_small'}
    )


ROWS = 64
TINY = [
    '--arch',
    'mini_xception',
    '--arch-arg',
    'width=0.25',
    '--arch-arg',
    'blocks=1',
    '--arch-arg',
    'dropout=0',
    '--limit',
    str(ROWS),
    '--batch-size',
    '16',
    '--no-augment',
    '--precision',
    'float32',
    '--lr-schedule',
    'constant',
    '--ema',
    '0.9',
]


def _load(path):
    from fer_ros.training.evaluate import load_checkpoint

    return load_checkpoint(path)


@pytest.mark.slow
def test_best_checkpoint_holds_the_average_and_last_the_raw_weights(fer2013_csv, tmp_path):
    run = tmp_path / 'run'
    args = ['train', '--data', str(fer2013_csv), '--run-dir', str(run), *TINY]
    # No validation split: the last epoch is the best, so both files are of the same epoch.
    assert cli.main([*args, '--epochs', '2', '--train-on', 'Training+PublicTest']) == 0
    last, best = _load(run / 'last.keras'), _load(run / 'best.keras')
    average = _values(last.optimizer._model_variables_moving_average)
    _assert_same(_values(best.trainable_weights), average)
    assert _differ(_values(last.trainable_weights), average)
    assert json.loads((run / 'run.json').read_text())['ema'] == 0.9


@pytest.mark.slow
def test_an_ema_run_resumes_with_its_raw_weights_and_average(fer2013_csv, tmp_path):
    from fer_ros.training.ema import RAW_ACCURACY

    run = tmp_path / 'run'
    common = ['train', '--data', str(fer2013_csv), '--run-dir', str(run)]
    assert cli.main([*common, *TINY, '--epochs', '1']) == 0
    first = _load(run / 'last.keras')
    assert first.optimizer.use_ema and first.optimizer.ema_momentum == pytest.approx(0.9)
    raw = _values(first.trainable_weights)
    average = _values(first.optimizer._model_variables_moving_average)
    assert _differ(raw, average)  # the checkpoint keeps both: training goes on from the raw
    assert cli.main([*common, '--resume', '--epochs', '2']) == 0
    second = _load(run / 'last.keras')
    assert int(second.optimizer.iterations.numpy()) == 2 * ROWS // 16
    # Epoch 2 moved the average on from epoch 1's, a tenth of the way to each new step.
    assert _differ(_values(second.optimizer._model_variables_moving_average), average)
    history = json.loads((run / 'state.json').read_text())['history']
    assert [row['epoch'] for row in history] == [1, 2]
    assert all(RAW_ACCURACY in row and 'val_accuracy' in row for row in history)
