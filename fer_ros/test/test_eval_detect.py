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

"""``fer-ros eval --detect``: held-out photographs scored through the run-time pipeline."""

from __future__ import annotations

import json

import cv2
from fer_ros import cli
from fer_ros.pipeline import Pipeline
from fer_ros.resources import MODELS_DIR
from fer_ros.settings import PipelineSettings
from fer_ros.training.data import FER2013_LABELS
import numpy as np
import pytest

MODEL = MODELS_DIR / 'fer_small.onnx'


def _astronaut_bgr() -> np.ndarray:
    """scikit-image's public-domain astronaut photograph (ships in the wheel), as BGR."""
    data = pytest.importorskip('skimage.data')
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture
def held_out(tmp_path):
    """Make a CK+-style root of class folders: a face, a frame without one, an unknown class."""
    root = tmp_path / 'held_out'
    for folder in ('happy', 'sadness', 'contempt'):
        (root / folder).mkdir(parents=True)
    cv2.imwrite(str(root / 'happy' / 'astronaut.png'), _astronaut_bgr())
    cv2.imwrite(str(root / 'sadness' / 'wall.png'), np.full((240, 320, 3), 90, np.uint8))
    cv2.imwrite(str(root / 'contempt' / 'x.png'), _astronaut_bgr())
    return root


def _expected_label(image: np.ndarray, **settings) -> str:
    """Return what the node's pipeline says about the largest face of a still image."""
    pipeline = Pipeline(PipelineSettings(model=str(MODEL), **settings))
    faces = pipeline.process(image, still=True).faces
    largest = max(faces, key=lambda face: face.box[2] * face.box[3])
    return pipeline.labels[int(np.argmax(largest.probabilities))]


def test_detect_scores_the_pipelines_answer_and_counts_images_without_a_face(
    held_out, tmp_path, capsys
):
    out = tmp_path / 'report'
    args = ['eval', str(MODEL), '--data', str(held_out), '--detect', '--out-dir', str(out)]
    assert cli.main(args) == 0
    assert '2 images, a face found in 1 (1 without)' in capsys.readouterr().out
    report = json.loads((out / 'fer_small_pipeline_PrivateTest.json').read_text())
    assert report['dataset'] == 'held_out' and report['through_pipeline']
    assert (report['images'], report['n'], report['images_without_face']) == (2, 1, 1)
    assert report['images_without_face_per_class']['sad'] == 1
    confusion = np.asarray(report['confusion'])
    predicted = FER2013_LABELS[int(np.argmax(confusion[FER2013_LABELS.index('happy')]))]
    assert confusion.sum() == 1
    assert predicted == _expected_label(_astronaut_bgr())
    assert report['accuracy_all_images'] == pytest.approx(report['accuracy'] / 2)
    assert report['settings']['detector'] == 'yunet'


def test_detect_passes_pipeline_settings_through(held_out, tmp_path):
    out = tmp_path / 'report'
    args = ['eval', str(MODEL), '--data', str(held_out), '--detect', '--out-dir', str(out)]
    args += ['--detection-width', '240', '--no-face-alignment', '--flip-tta']
    assert cli.main(args) == 0
    report = json.loads((out / 'fer_small_pipeline_PrivateTest_tta.json').read_text())
    assert report['settings']['detection_width'] == 240
    assert report['settings']['face_alignment'] is False
    assert report['settings']['tta'] == 'flip'
    expected = _expected_label(
        _astronaut_bgr(), detection_width=240, face_alignment=False, tta='flip'
    )
    predicted = FER2013_LABELS[int(np.argmax(np.asarray(report['confusion']).sum(axis=0)))]
    assert predicted == expected


def test_a_flat_root_of_class_folders_is_one_split_for_eval(held_out, capsys):
    assert cli.main(['eval', str(MODEL), '--data', str(held_out)]) == 0
    assert '(n=2)' in capsys.readouterr().out  # whole images resized: contempt skipped


@pytest.mark.parametrize(
    'model, data, message',
    [
        ('{tmp}/run', '{root}', '--detect runs one .onnx model'),
        (str(MODEL), '{tmp}/fer2013.csv', 'needs an image folder'),
    ],
)
def test_detect_refuses_what_it_cannot_score(held_out, tmp_path, capsys, model, data, message):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'best.keras').write_bytes(b'not read')
    (tmp_path / 'fer2013.csv').write_text('emotion,pixels,Usage\n')
    fill = {'tmp': tmp_path, 'root': held_out}
    args = ['eval', model.format(**fill), '--data', data.format(**fill), '--detect']
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err
