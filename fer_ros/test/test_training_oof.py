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

"""Out-of-fold teachers, and k-fold runs trained one fold per process (``--fold``)."""

from __future__ import annotations

import json

from fer_ros.errors import SettingsError
from fer_ros.model_metadata import FER2013_LABELS
from fer_ros.training.config import TrainConfig
from fer_ros.training.data import FaceDataset
from fer_ros.training.folds import fold_indices
import numpy as np
import pytest
from tiny_data import write_random_fer2013

pytestmark = pytest.mark.training

K = 3
TRAINING_ROWS = 42


def _faces(count: int = TRAINING_ROWS, seed: int = 0) -> FaceDataset:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 48, 48), dtype=np.uint8)
    return FaceDataset(images, np.arange(count) % 7, FER2013_LABELS, 'Training')


def _kfold_dir(tmp_path, faces: FaceDataset, scope: str = 'training', seed: int = 0):
    """Return a k-fold run directory as training leaves it (the fold files are placeholders)."""
    run = tmp_path / 'kfold'
    run.mkdir()
    settings = {'kfold': K, 'kfold_scope': scope, 'seed': seed, 'run_dir': str(run)}
    (run / 'kfold_run.json').write_text(json.dumps(settings))
    record = {'scope': scope, 'faces': len(faces), 'sha256': faces.fingerprint()}
    (run / 'kfold_faces.json').write_text(json.dumps(record))
    for fold in range(K):
        (run / f'fold_{fold}').mkdir()
        (run / f'fold_{fold}' / 'best.keras').write_bytes(b'placeholder')
    return run


def _fold_of_model(model: str, faces: FaceDataset) -> np.ndarray:
    """Stand in for a network: fold f's model says class f for every face it is shown."""
    fold = int(model.split('fold_')[1].split('/')[0])
    probs = np.zeros((len(faces), len(faces.labels)), dtype=np.float32)
    probs[:, fold] = 1.0
    return probs


def test_each_face_is_labelled_by_the_fold_that_held_it_out(tmp_path):
    from fer_ros.training.oof import out_of_fold_probabilities

    faces = _faces()
    run = _kfold_dir(tmp_path, faces, seed=3)
    probs = out_of_fold_probabilities(run, faces, _fold_of_model)
    labelled_by = probs.argmax(axis=1)
    for fold in range(K):
        _, _, test = fold_indices(faces.targets, K, fold, seed=3)
        assert (labelled_by[test] == fold).all()
    assert np.allclose(probs.sum(axis=1), 1.0)  # every face labelled exactly once


def test_other_faces_another_scope_or_a_missing_fold_are_refused(tmp_path):
    from fer_ros.training.oof import out_of_fold_probabilities

    faces = _faces()
    run = _kfold_dir(tmp_path, faces)
    with pytest.raises(SettingsError, match='folded 42 faces; this run trains on 41'):
        out_of_fold_probabilities(run, faces.subset(slice(0, 41)), _fold_of_model)
    other = _faces(seed=1)  # as many faces, other pixels
    with pytest.raises(SettingsError, match='not those faces in that order'):
        out_of_fold_probabilities(run, other, _fold_of_model)
    (run / 'fold_2' / 'best.keras').unlink()
    with pytest.raises(SettingsError, match=r'1 of 3 folds have no trained network.*fold_2'):
        out_of_fold_probabilities(run, faces, _fold_of_model)
    (tmp_path / 'all').mkdir()
    everything = _kfold_dir(tmp_path / 'all', faces, scope='all')
    with pytest.raises(SettingsError, match='--kfold-scope training'):
        out_of_fold_probabilities(everything, faces, _fold_of_model)


def test_the_fingerprint_follows_faces_labels_and_order():
    faces = _faces()
    assert faces.fingerprint() == _faces().fingerprint()
    assert faces.fingerprint() != faces.subset(np.arange(TRAINING_ROWS)[::-1]).fingerprint()
    relabelled = FaceDataset(faces.images, (faces.targets + 1) % 7, faces.labels)
    assert faces.fingerprint() != relabelled.fingerprint()


@pytest.mark.parametrize(
    'kfold, fold, message',
    [(0, 1, 'no --kfold given'), (3, 3, r'here 0\.\.2'), (5, -1, r'here 0\.\.4')],
)
def test_a_fold_outside_the_run_is_refused(kfold, fold, message):
    with pytest.raises(SettingsError, match=message):
        TrainConfig(data='d.csv', run_dir='r', kfold=kfold, fold=fold).validate()


def test_folds_trained_in_separate_processes_teach_a_student_out_of_fold(tmp_path, capsys):
    """Three ``--fold`` calls make one k-fold run; a student then distils from it."""
    pytest.importorskip('keras', reason='needs the `train` extra')
    from fer_ros import cli
    from fer_ros.training.data import read_fer2013

    csv_file = write_random_fer2013(
        tmp_path / 'faces.csv', {'Training': TRAINING_ROWS, 'PublicTest': 14}
    )
    run = tmp_path / 'oof'
    words = ['train', '--data', str(csv_file), '--run-dir', str(run), '--epochs', '1']
    words += ['--arch', 'vgg_small', '--arch-arg', 'width=0.25', '--batch-size', '16']
    words += ['--precision', 'float32', '--kfold', str(K)]
    for fold in range(K):
        assert not (run / 'kfold.json').exists()  # the summary waits for the last fold
        assert cli.main([*words, '--fold', str(fold)]) == 0
    summary = json.loads((run / 'kfold.json').read_text())
    assert [fold['fold'] for fold in summary['folds']] == list(range(K))
    training = read_fer2013(csv_file, ['Training'])['Training']
    faces = json.loads((run / 'kfold_faces.json').read_text())
    assert faces == {'scope': 'training', 'faces': TRAINING_ROWS, 'sha256': training.fingerprint()}
    assert cli.main([*words, '--fold', '0', '--lr', '0.001']) == 2  # not this run's settings
    assert 'its settings differ' in capsys.readouterr().err

    student = tmp_path / 'student'
    args = ['train', '--data', str(csv_file), '--run-dir', str(student), '--epochs', '1']
    args += ['--arch', 'vgg_small', '--arch-arg', 'width=0.25', '--batch-size', '16']
    assert cli.main([*args, '--precision', 'float32', '--teacher', str(run)]) == 0
    recorded = json.loads((student / 'teachers.json').read_text())['teachers']
    assert sorted(recorded) == [str(run / f'fold_{fold}' / 'best.keras') for fold in range(K)]
    wrong = tmp_path / 'wrong'  # trains on Training+PublicTest: faces the folds never dealt
    args[4] = str(wrong)
    more = ['--precision', 'float32', '--teacher', str(run), '--train-on', 'Training+PublicTest']
    assert cli.main([*args, *more]) == 2
    assert 'not those faces' in capsys.readouterr().err
