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

"""Fine-tuning (``--init-from``): a new run starts from a trained network's weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip('keras', reason='needs the `train` extra')
pytestmark = pytest.mark.training

from fer_ros import cli  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.training.config import TrainConfig, training_command  # noqa: E402
from tiny_data import write_random_fer2013  # noqa: E402

SPLITS = {'Training': 48, 'PublicTest': 14}


@pytest.fixture(scope='module')
def csv_file(tmp_path_factory):
    """Write a small FER2013-format CSV of random faces (every class in every split)."""
    return write_random_fer2013(tmp_path_factory.mktemp('data') / 'faces.csv', SPLITS)


def _train(csv_file, run_dir, *extra: str) -> int:
    args = ['train', '--data', str(csv_file), '--run-dir', str(run_dir), '--epochs', '1']
    args += ['--arch', 'vgg_small', '--batch-size', '16', '--precision', 'float32']
    return cli.main([*args, *extra])


@pytest.fixture(scope='module')
def source_run(csv_file, tmp_path_factory):
    """Return a one-epoch vgg_small run at width 0.25: the network later runs start from."""
    run = tmp_path_factory.mktemp('source') / 'source'
    assert _train(csv_file, run, '--arch-arg', 'width=0.25') == 0
    return run


def test_a_fine_tuned_network_starts_with_the_trained_weights(source_run, tmp_path):
    from fer_ros.training.distill import file_sha256
    from fer_ros.training.evaluate import load_checkpoint
    from fer_ros.training.init_weights import load_initial_weights
    from fer_ros.training.models import build_model
    import keras

    trained = load_checkpoint(source_run / 'best.keras')
    keras.utils.set_random_seed(7)
    fresh = build_model('vgg_small', 48, 1, 7, {'width': 0.25})
    labels = json.loads((source_run / 'labels.json').read_text())['labels']
    pairs = list(zip(fresh.weights, trained.weights))
    assert not all(np.array_equal(mine, theirs) for mine, theirs in pairs)
    path = load_initial_weights(fresh, str(source_run), labels, tmp_path)
    assert path == source_run / 'best.keras'
    assert all(np.array_equal(mine, theirs) for mine, theirs in pairs)
    recorded = json.loads((tmp_path / 'init_from.json').read_text())
    assert recorded == {'init_from': str(path), 'sha256': file_sha256(path)}


def test_a_fine_tuning_run_trains_and_its_command_names_the_start(csv_file, source_run, tmp_path):
    run = tmp_path / 'tuned'
    assert _train(csv_file, run, '--arch-arg', 'width=0.25', '--init-from', str(source_run)) == 0
    config = json.loads((run / 'run.json').read_text())
    assert config['init_from'] == str(source_run)
    assert f'--init-from {source_run}' in training_command(config)
    assert json.loads((run / 'state.json').read_text())['epochs_done'] == 1


def test_a_network_of_another_width_is_refused_naming_the_file(
    csv_file, source_run, tmp_path, capsys
):
    run = tmp_path / 'wider'
    assert _train(csv_file, run, '--arch-arg', 'width=0.5', '--init-from', str(source_run)) == 2
    err = capsys.readouterr().err
    assert str(source_run / 'best.keras') in err and 'not the same architecture' in err
    assert not (run / 'best.keras').exists()


def test_a_network_for_other_classes_is_refused(source_run, tmp_path):
    from fer_ros.training.init_weights import load_initial_weights
    from fer_ros.training.models import build_model

    fresh = build_model('vgg_small', 48, 1, 7, {'width': 0.25})
    labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
    with pytest.raises(SettingsError, match='was trained for'):
        load_initial_weights(fresh, str(source_run), labels, tmp_path)


def test_an_onnx_model_or_a_missing_run_is_refused(tmp_path):
    from fer_ros.errors import ModelError
    from fer_ros.training.init_weights import load_initial_weights

    onnx_file = tmp_path / 'model.onnx'
    onnx_file.write_bytes(b'not read')
    with pytest.raises(SettingsError, match='holds no trainable Keras weights'):
        load_initial_weights(None, str(onnx_file), [], tmp_path)
    with pytest.raises(ModelError, match='initial weights not found'):
        load_initial_weights(None, str(tmp_path / 'no_run'), [], tmp_path)


def test_fine_tuning_with_kfold_is_refused():
    cfg = TrainConfig(data='d.csv', run_dir='r', kfold=5, init_from='runs/x')
    with pytest.raises(SettingsError, match='--init-from with --kfold'):
        cfg.validate()
