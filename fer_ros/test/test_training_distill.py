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

"""Knowledge distillation: soft targets from teachers, and the batches that mix them in."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip('keras', reason='needs the `train` extra')
pytestmark = pytest.mark.training

from fer_ros.classifier import Classifier  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import ModelError, SettingsError  # noqa: E402
from fer_ros.model_metadata import FER2013_LABELS, ModelInfo  # noqa: E402
from fer_ros.preprocess import faces_to_input  # noqa: E402
from fer_ros.training.data import FaceDataset  # noqa: E402
from fer_ros.training.distill import (  # noqa: E402
    record_teachers,
    soften,
    teacher_targets,
)
from fer_ros.training.sequence import FaceBatches  # noqa: E402
from tiny_models import linear_softmax_model  # noqa: E402


@pytest.fixture(scope='module')
def faces():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 48, 48), dtype=np.uint8)
    targets = rng.integers(0, len(FER2013_LABELS), 40)
    return FaceDataset(images, targets, FER2013_LABELS, 'random faces')


def _teacher(path, labels=FER2013_LABELS, seed=0):
    metadata = ModelInfo(tuple(labels), 'grey', 48).to_metadata()
    return str(linear_softmax_model(path, classes=len(labels), metadata=metadata, seed=seed))


def _face_and_mirror(model: str, images: np.ndarray) -> np.ndarray:
    """Return what one teacher says of each face, averaged with its mirror, by hand."""
    classifier = Classifier(model)
    plain = classifier.predict(faces_to_input(images, 'grey'))
    mirrored = classifier.predict(faces_to_input(np.ascontiguousarray(images[:, :, ::-1]), 'grey'))
    return 0.5 * (plain + mirrored)


def test_soften_keeps_at_one_flattens_above_and_survives_zeros():
    p = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25]], np.float32)
    np.testing.assert_allclose(soften(p, 1.0), p, atol=1e-6)
    hot = soften(p, 4.0)
    np.testing.assert_allclose(hot.sum(axis=1), 1.0, atol=1e-6)
    assert hot[0, 0] < p[0, 0] and hot[0, 3] > 0  # flatter, and the zero is finite
    np.testing.assert_allclose(hot[1], 0.25, atol=1e-6)  # uniform stays uniform
    assert soften(p, 0.5)[0, 0] > p[0, 0]  # sharper
    with pytest.raises(ValueError, match='temperature must be > 0'):
        soften(p, 0.0)


def test_teachers_are_averaged_over_mirrors_and_reordered_by_label_name(faces, tmp_path):
    first = _teacher(tmp_path / 'a.onnx', seed=1)
    shuffled = tuple(reversed(FER2013_LABELS))  # same classes, other column order
    second = _teacher(tmp_path / 'b.onnx', labels=shuffled, seed=2)
    expected = 0.5 * (
        _face_and_mirror(first, faces.images)
        + _face_and_mirror(second, faces.images)[:, ::-1]  # back to FER2013's order
    )
    targets = teacher_targets([first, second], faces)
    assert targets.dtype == np.float32 and targets.shape == (40, 7)
    np.testing.assert_allclose(targets, expected, atol=1e-5)


def test_a_teacher_of_other_classes_or_a_missing_one_is_refused_naming_it(faces, tmp_path):
    six = _teacher(tmp_path / 'six.onnx', labels=FER2013_LABELS[:6])
    with pytest.raises(ModelError, match='six.onnx has labels .* exactly the classes'):
        teacher_targets([six], faces)
    with pytest.raises(ModelError, match='teacher model not found: .*gone.onnx'):
        teacher_targets([str(tmp_path / 'gone.onnx')], faces)


def test_a_resumed_run_refuses_a_teacher_that_changed(tmp_path):
    teacher = _teacher(tmp_path / 't.onnx', seed=1)
    run = tmp_path / 'run'
    run.mkdir()
    record_teachers(run, [teacher])
    record_teachers(run, [teacher])  # the same file: fine
    _teacher(tmp_path / 't.onnx', seed=2)  # retrained in place
    with pytest.raises(SettingsError, match='t.onnx is not the file this run started with'):
        record_teachers(run, [teacher])


def test_batches_mix_one_hot_and_soft_targets_by_the_weight(faces):
    soft = np.full((len(faces), 7), 1 / 7, np.float32)
    batches = FaceBatches(faces, 'grey', 8, soft_targets=soft, soft_weight=0.25)
    _, y = batches[0]
    one_hot = np.eye(7, dtype=np.float32)[faces.targets[:8]]
    np.testing.assert_allclose(y, 0.75 * one_hot + 0.25 / 7, atol=1e-6)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match='soft targets of shape'):
        FaceBatches(faces, 'grey', 8, soft_targets=soft[:5], soft_weight=0.5)
