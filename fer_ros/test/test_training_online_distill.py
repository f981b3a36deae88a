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

"""Online distillation (``--distill-mode online``): the teachers label every batch as trained."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip('keras', reason='needs the `train` extra')
pytestmark = pytest.mark.training

from fer_ros import cli  # noqa: E402, I100 (after the skip check)
from fer_ros.classifier import Classifier  # noqa: E402
from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.model_metadata import FER2013_LABELS, ModelInfo  # noqa: E402
from fer_ros.training.augment import AugmentSettings  # noqa: E402
from fer_ros.training.config import training_command  # noqa: E402
from fer_ros.training.data import FaceDataset  # noqa: E402
from fer_ros.training.distill import OnlineTeachers, soften  # noqa: E402
from fer_ros.training.mixing import MixSettings  # noqa: E402
from fer_ros.training.sequence import FaceBatches  # noqa: E402
from tiny_data import write_random_fer2013  # noqa: E402
from tiny_models import linear_softmax_model  # noqa: E402

SPLITS = {'Training': 48, 'PublicTest': 14}


@pytest.fixture(scope='module')
def faces():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (24, 48, 48), dtype=np.uint8)
    targets = np.arange(24) % len(FER2013_LABELS)
    return FaceDataset(images, targets, FER2013_LABELS, 'random faces')


def _teacher(path, labels=FER2013_LABELS, preprocessing='grey', seed=0) -> str:
    channels = 3 if preprocessing == 'canny_grey_grey' else 1
    metadata = ModelInfo(tuple(labels), preprocessing, 48).to_metadata()
    return str(
        linear_softmax_model(
            path, classes=len(labels), channels=channels, metadata=metadata, seed=seed
        )
    )


def test_online_teachers_average_reorder_and_soften_on_the_inputs_given(faces, tmp_path):
    first = _teacher(tmp_path / 'a.onnx', seed=1)
    second = _teacher(tmp_path / 'b.onnx', labels=tuple(reversed(FER2013_LABELS)), seed=2)
    teachers = OnlineTeachers([first, second], FER2013_LABELS, 'grey', 48, temperature=2.0)
    x = np.random.default_rng(0).random((5, 48, 48, 1), dtype=np.float32)
    by_hand = 0.5 * (Classifier(first).predict(x) + Classifier(second).predict(x)[:, ::-1])
    got = teachers(x)
    assert got.dtype == np.float32 and got.shape == (5, 7)
    np.testing.assert_allclose(got, soften(by_hand, 2.0), atol=1e-5)


def test_the_teacher_labels_the_augmented_mixed_batch_the_student_sees(faces, tmp_path):
    teacher = OnlineTeachers([_teacher(tmp_path / 't.onnx')], FER2013_LABELS, 'grey', 48)
    settings = {
        'augment': AugmentSettings(erasing=0.5),
        'shuffle': True,
        'seed': 4,
        'soft_weight': 0.3,
    }
    mix = MixSettings(mixup=0.4, cutmix=0.0, prob=1.0)
    plain = FaceBatches(faces, 'grey', 8, mix=mix, **settings)
    taught = FaceBatches(faces, 'grey', 8, mix=mix, teacher=teacher, **settings)
    for index in range(len(plain)):
        x, mixed_labels = plain[index]
        taught_x, y = taught[index]
        np.testing.assert_array_equal(taught_x, x)  # the same augmented, mixed inputs
        np.testing.assert_allclose(y, 0.7 * mixed_labels + 0.3 * teacher(x), atol=1e-6)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match='distil one way'):
        FaceBatches(faces, 'grey', 8, soft_targets=np.full((24, 7), 1 / 7), teacher=teacher)


def test_a_teacher_with_another_input_or_a_kfold_run_is_refused_naming_why(tmp_path):
    canny = _teacher(tmp_path / 'canny.onnx', preprocessing='canny_grey_grey')
    with pytest.raises(SettingsError, match=r'canny\.onnx takes 48px canny_grey_grey input.*'):
        OnlineTeachers([canny], FER2013_LABELS, 'grey', 48)
    kfold = tmp_path / 'kfold'
    kfold.mkdir()
    (kfold / 'kfold_run.json').write_text('{}')
    with pytest.raises(SettingsError, match='is a k-fold run: .*--distill-mode offline'):
        OnlineTeachers([str(kfold)], FER2013_LABELS, 'grey', 48)


@pytest.fixture(scope='module')
def csv_file(tmp_path_factory):
    """Write a small FER2013-format CSV of random faces (every class in every split)."""
    return write_random_fer2013(tmp_path_factory.mktemp('data') / 'faces.csv', SPLITS)


def _train(csv_file, run_dir, *extra: str) -> int:
    args = ['train', '--data', str(csv_file), '--run-dir', str(run_dir), '--epochs', '1']
    args += ['--arch', 'vgg_small', '--arch-arg', 'width=0.25', '--batch-size', '16']
    return cli.main([*args, '--precision', 'float32', *extra])


def test_a_student_trains_online_from_a_keras_teacher_end_to_end(csv_file, tmp_path):
    """The teacher is a run directory: a Keras model called inside Keras' own input pipeline."""
    teacher = tmp_path / 'teacher'
    assert _train(csv_file, teacher) == 0
    student = tmp_path / 'student'
    assert _train(csv_file, student, '--teacher', str(teacher), '--distill-mode', 'online') == 0
    config = json.loads((student / 'run.json').read_text())
    assert config['distill_mode'] == 'online'
    assert json.loads((student / 'state.json').read_text())['epochs_done'] == 1
    assert '--distill-mode online' in training_command(config)
    assert list(json.loads((student / 'teachers.json').read_text())['teachers']) == [
        str(teacher / 'best.keras')
    ]
    offline = dict(config, distill_mode='offline')
    assert '--distill-mode' not in training_command(offline)  # the default stays unnamed


def test_an_unknown_distill_mode_is_refused_listing_the_allowed(csv_file, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _train(csv_file, tmp_path / 'run', '--teacher', 'x.onnx', '--distill-mode', 'live')
    assert "choose from 'offline', 'online'" in capsys.readouterr().err
    from fer_ros.training.config import TrainConfig

    written = TrainConfig(data='d.csv', run_dir='r', teachers=['t.onnx'], distill_mode='live')
    with pytest.raises(SettingsError, match="distill mode 'live'; allowed: offline, online"):
        written.validate()  # e.g. a hand-edited run.json
