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
Knowledge distillation from trained teachers (Hinton et al. 2015), offline or online.

Each teacher is a fer_ros ``.onnx`` model, a ``.keras`` checkpoint or a run directory; or, offline
only, a k-fold run directory, whose folds each label the faces they held out (oof.py). A training
batch's target is ``(1 - weight) * one_hot + weight * soft``, where ``soft`` is the teachers'
averaged probabilities, optionally softened by a temperature.

- Offline (the default): every teacher classifies each training face and its mirror once, before
  the first epoch. That costs one inference pass per teacher (about a minute for FER2013 on two
  cores) instead of a teacher pass in every training step, but the student then sees augmented,
  erased or mixed faces labelled by the teachers' view of the clean face.
- Online (:class:`OnlineTeachers`): the teachers classify the very batch the student trains on,
  after augmentation and mixing, so that the student matches the teachers' function on every
  input it sees ("consistent teaching", Beyer et al. 2022, *Knowledge distillation: a good
  teacher is patient and consistent*). It costs a teacher forward pass per step.

``teachers.json`` in the run directory records each teacher's sha256, so a
resumed run refuses a teacher whose file changed since the run started.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from .checkpoints import model_file, read_json, save_json
from .data import FaceDataset
from .folds import is_kfold_run
from ..errors import SettingsError

log = logging.getLogger(__name__)

TEACHERS_FILE = 'teachers.json'


def soften(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """
    Return ``softmax(log(p) / T)`` row by row: T > 1 flattens, T < 1 sharpens, 1 keeps.

    Computed in log space so that zero probabilities stay finite.
    """
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    logits = np.log(np.clip(probabilities.astype(np.float64), 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return (expd / expd.sum(axis=1, keepdims=True)).astype(np.float32)


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open('rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def teacher_targets(
    teachers: Sequence[str], data: FaceDataset, temperature: float = 1.0
) -> np.ndarray:
    """
    Return the soft targets (N x classes, float32, rows sum to 1) for ``data``'s faces.

    Every teacher sees each face and its mirror; the teachers' probabilities
    are re-ordered to ``data.labels`` by name, averaged, then softened. A
    teacher whose labels are not the dataset's is rejected naming its file. A
    k-fold run directory is an out-of-fold teacher (oof.py): each face is
    labelled by the fold that held it out.
    """
    from .evaluate import model_probabilities
    from .oof import out_of_fold_probabilities

    if not teachers:
        raise ValueError('no teachers given')
    start = time.perf_counter()

    def face_and_mirror(model: str, faces: FaceDataset) -> np.ndarray:
        return model_probabilities(model, faces, flip_tta=True)

    total = np.zeros((len(data), len(data.labels)), dtype=np.float64)
    for source in teachers:
        out_of_fold = is_kfold_run(source)
        if out_of_fold:
            probs = out_of_fold_probabilities(Path(source), data, face_and_mirror)
        else:
            probs = face_and_mirror(str(model_file(source, 'teacher model')), data)
        total += probs
        log.info(
            'teacher %s%s: %d faces and their mirrors after %.1f s; agrees with the labels on '
            '%.1f%%',
            source,
            ' (out of fold)' if out_of_fold else '',
            len(data),
            time.perf_counter() - start,
            100.0 * float(np.mean(probs.argmax(axis=1) == data.targets)),
        )
    return soften((total / len(teachers)).astype(np.float32), temperature)


class OnlineTeachers:
    """
    The teachers' averaged, softened probabilities for a batch of the student's network inputs.

    Each teacher must take the student's input as it is (same preprocessing and face size):
    it sees exactly what the student sees. Columns are matched to ``labels`` by name.
    """

    def __init__(
        self,
        teachers: Sequence[str],
        labels: Sequence[str],
        preprocessing: str,
        input_size: int,
        temperature: float = 1.0,
    ):
        from .evaluate import label_columns, load_predictor

        if not teachers:
            raise ValueError('no teachers given')
        self.temperature = temperature
        self.teachers: List[Tuple[Callable[[np.ndarray], np.ndarray], List[int]]] = []
        for source in teachers:
            if is_kfold_run(source):
                raise SettingsError(
                    f'{source} is a k-fold run: an out-of-fold teacher labels each face by the '
                    'fold that held it out, which only --distill-mode offline knows'
                )
            predictor = load_predictor(str(model_file(source, 'teacher model')))
            info = predictor.info
            if (info.preprocessing, info.input_size) != (preprocessing, input_size):
                raise SettingsError(
                    f'{predictor.source} takes {info.input_size}px {info.preprocessing} input; '
                    f"online distillation gives it the student's {input_size}px {preprocessing} "
                    'batches: use --distill-mode offline, or a teacher with that input'
                )
            columns = label_columns(info.labels, labels, predictor.source)
            self.teachers.append((predictor.predict, columns))

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """Return the soft targets (batch x classes, float32) for a batch of network inputs."""
        total = np.zeros((len(inputs), len(self.teachers[0][1])), dtype=np.float64)
        for predict, columns in self.teachers:
            total += predict(inputs)[:, columns]
        return soften((total / len(self.teachers)).astype(np.float32), self.temperature)


def teacher_files(source: str) -> List[Path]:
    """Return the model files a teacher reads: one, or each fold's of a k-fold run."""
    from .oof import fold_models

    if is_kfold_run(source):
        return fold_models(Path(source))
    return [model_file(source, 'teacher model')]


def record_teachers(run_dir: Path, teachers: Sequence[str]) -> None:
    """
    Write ``teachers.json`` (each teacher's file and sha256), or check it on a resumed run.

    A teacher whose file changed since the run started would silently change the targets
    mid-run, so it is refused naming the file.
    """
    files = [file for source in teachers for file in teacher_files(source)]
    hashes: Dict[str, str] = {str(file): file_sha256(file) for file in files}
    path = run_dir / TEACHERS_FILE
    if not path.is_file():
        save_json(path, {'teachers': hashes})
        return
    recorded = read_json(path, 'teachers')['teachers']
    for name, digest in hashes.items():
        if recorded.get(name) != digest:
            raise SettingsError(
                f'teacher {name} is not the file this run started with ({path} records '
                f'{recorded.get(name, "no such teacher")}, the file now hashes to {digest})'
            )
