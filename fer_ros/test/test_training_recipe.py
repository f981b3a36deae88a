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
The training recipe's parts.

Decoupled weight decay that skips BN and biases, random erasing, precision.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip('keras', reason='needs the `train` extra')

from fer_ros.errors import SettingsError  # noqa: E402, I100 (after the skip check)
from fer_ros.training.augment import augment_faces, AugmentSettings, erase_rectangles  # noqa: E402
from fer_ros.training.optimizers import build_optimizer, DecoupledAdamW, DecoupledSGD  # noqa: E402
from fer_ros.training.train import TrainConfig, training_command  # noqa: E402
import keras  # noqa: E402


def _tiny_model():
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(2, 3, padding='same', name='conv')(inputs)
    x = keras.layers.BatchNormalization(name='bn')(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(
        inputs, keras.layers.Dense(3, activation='softmax', name='probabilities')(x)
    )


def test_weight_decay_shrinks_kernels_but_not_batchnorm_or_biases():
    """
    With zero gradients, AdamW's update is the decay alone.

    Kernels shrink, gamma/beta/bias stay.
    """
    model = _tiny_model()
    optimizer = DecoupledAdamW(learning_rate=0.1, weight_decay=0.5)
    optimizer.build(model.trainable_variables)
    for variable in model.trainable_variables:
        variable.assign(np.ones(variable.shape, np.float32))
    optimizer.apply_gradients(
        [(np.zeros(v.shape, np.float32), v) for v in model.trainable_variables]
    )
    values = {v.path: float(np.asarray(v).mean()) for v in model.trainable_variables}
    for path, value in values.items():
        if path.endswith('kernel'):
            assert value == pytest.approx(1 - 0.1 * 0.5, rel=1e-5), path
        else:
            assert value == pytest.approx(1.0), path
    assert {p.rsplit('/', 1)[1] for p in values} == {'kernel', 'gamma', 'beta', 'bias'}


def test_sgd_decays_kernels_only_and_moves_with_nesterov_momentum():
    """
    With SGD the decay is decoupled and skips BN/biases, as AdamW's; steps carry Nesterov momentum.

    One step with gradient g from rest moves a weight by rate * g * (1 + momentum) under
    Nesterov (the velocity, then the look-ahead), against rate * g for plain SGD.
    """
    model = _tiny_model()
    optimizer = build_optimizer('sgd', learning_rate=0.1, weight_decay=0.5)
    assert isinstance(optimizer, DecoupledSGD) and optimizer.nesterov
    optimizer.build(model.trainable_variables)
    for variable in model.trainable_variables:
        variable.assign(np.ones(variable.shape, np.float32))
    optimizer.apply_gradients(
        [(np.zeros(v.shape, np.float32), v) for v in model.trainable_variables]
    )
    for variable in model.trainable_variables:
        expected = 1 - 0.1 * 0.5 if variable.path.endswith('kernel') else 1.0
        assert float(np.asarray(variable).mean()) == pytest.approx(expected, rel=1e-5)
    bias = next(v for v in model.trainable_variables if v.path.endswith('bias'))
    before = np.asarray(bias).copy()
    optimizer.apply_gradients([(np.ones(bias.shape, np.float32), bias)])
    np.testing.assert_allclose(before - np.asarray(bias), 0.1 * 1.9, rtol=1e-5)


def test_an_unknown_optimizer_is_refused_naming_the_allowed_ones():
    with pytest.raises(SettingsError, match='allowed: adamw, sgd'):
        TrainConfig(data='x', run_dir='y', optimizer='rmsprop').validate()
    with pytest.raises(SettingsError, match='weight decay must be >= 0'):
        TrainConfig(data='x', run_dir='y', weight_decay=-0.1).validate()
    assert isinstance(build_optimizer('adamw', 1e-3, 0.05), DecoupledAdamW)


def test_the_exclusion_survives_save_and_load(tmp_path):
    model = _tiny_model()
    model.compile(
        optimizer=DecoupledAdamW(learning_rate=1e-3, weight_decay=0.05),
        loss='categorical_crossentropy',
    )
    model.fit(np.zeros((4, 4, 4, 1)), np.eye(3)[[0, 1, 2, 0]], verbose=0)
    model.save(tmp_path / 'm.keras')
    from fer_ros.training.evaluate import load_checkpoint

    loaded = load_checkpoint(tmp_path / 'm.keras').optimizer
    assert isinstance(loaded, DecoupledAdamW) and loaded.no_decay == ('gamma', 'beta', 'bias')
    assert loaded.weight_decay == pytest.approx(0.05)


def test_a_saved_sgd_run_loads_with_its_momentum_and_exclusion(tmp_path):
    model = _tiny_model()
    model.compile(optimizer=build_optimizer('sgd', 0.05, 5e-3), loss='categorical_crossentropy')
    model.fit(np.zeros((4, 4, 4, 1)), np.eye(3)[[0, 1, 2, 0]], verbose=0)
    model.save(tmp_path / 'm.keras')
    from fer_ros.training.evaluate import load_checkpoint

    loaded = load_checkpoint(tmp_path / 'm.keras').optimizer
    assert isinstance(loaded, DecoupledSGD) and loaded.no_decay == ('gamma', 'beta', 'bias')
    assert loaded.nesterov and loaded.momentum == pytest.approx(0.9)
    assert loaded.weight_decay == pytest.approx(5e-3)


def test_random_erasing_covers_one_rectangle_of_a_chosen_share_of_faces():
    faces = np.full((400, 48, 48), 128, np.uint8)
    settings = AugmentSettings(erasing=0.5)
    erase_rectangles(faces, np.random.default_rng(0), settings)
    changed = (faces != 128).reshape(400, -1)
    share = changed.any(axis=1).mean()
    assert 0.4 < share < 0.6
    areas = changed.sum(axis=1)[changed.any(axis=1)] / (48 * 48)
    assert (
        areas.max() <= settings.erase_area[1] + 0.02
    )  # about the rectangle's area (noise may hit 128)
    untouched = np.full((10, 48, 48), 128, np.uint8)
    assert np.array_equal(
        augment_faces(untouched, np.random.default_rng(1), AugmentSettings.none()), untouched
    )


@pytest.mark.parametrize(
    'change, message',
    [
        ({'precision': 'float16'}, 'allowed: auto, float32, mixed_bfloat16'),
        ({'random_erasing': 1.5}, 'erasing'),
        ({'train_on': 'Training+PublicTest', 'lr_schedule': 'plateau'}, 'cosine or constant'),
    ],
)
def test_bad_recipe_settings_are_refused(change, message):
    with pytest.raises(SettingsError, match=message):
        TrainConfig(data='x', run_dir='y', **change).validate()


def test_the_reproducing_command_names_the_new_options():
    cfg = TrainConfig(
        data='d.csv',
        run_dir='r',
        architecture='vgg_small',
        random_erasing=0.25,
        precision='mixed_bfloat16',
        optimizer='sgd',
    )
    command = training_command(cfg.__dict__)
    assert '--random-erasing 0.25' in command and '--precision mixed_bfloat16' in command
    assert '--optimizer sgd' in command
    before_the_option = {k: v for k, v in cfg.__dict__.items() if k != 'optimizer'}
    assert '--optimizer adamw' in training_command(before_the_option)


def test_auto_precision_follows_the_cpu_flags(tmp_path, monkeypatch):
    from fer_ros.training import train

    with_bf16, without = tmp_path / 'amx', tmp_path / 'avx2'
    with_bf16.write_text('processor : 0\nflags : fpu sse avx2 avx512f avx512_bf16 amx_bf16\n')
    without.write_text('processor : 0\nflags : fpu sse avx2 fma\n')
    assert train.cpu_has_fast_bf16(str(with_bf16)) and not train.cpu_has_fast_bf16(str(without))
    assert not train.cpu_has_fast_bf16(str(tmp_path / 'missing'))
    monkeypatch.setattr(train, 'cpu_has_fast_bf16', lambda: True)
    assert train.resolve_precision('auto') == 'mixed_bfloat16'
    assert train.resolve_precision('float32') == 'float32'
    monkeypatch.setattr(train, 'cpu_has_fast_bf16', lambda: False)
    assert train.resolve_precision('auto') == 'float32'
