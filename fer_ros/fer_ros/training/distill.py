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
Knowledge distillation from trained teachers (Hinton et al. 2015), offline.

Each teacher (a fer_ros ``.onnx`` model, a ``.keras`` checkpoint or a run
directory; or a k-fold run directory, whose folds each label the faces they held
out: oof.py) classifies every training face and its mirror image once, before
the first epoch; the averaged probabilities of all teachers, optionally
softened by a temperature, become each face's soft target. A training batch's
target is then ``(1 - weight) * one_hot + weight * soft``. Computing the
targets once costs one inference pass per teacher (about a minute for FER2013
on two cores) instead of a teacher forward pass in every training step; the
light augmentation of the training faces leaves the teacher's view of a face
valid.

``teachers.json`` in the run directory records each teacher's sha256, so a
resumed run refuses a teacher whose file changed since the run started.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
import time
from typing import Dict, List, Sequence

import numpy as np

from .checkpoints import model_file, read_json, save_json
from .data import FaceDataset
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
    from .oof import is_kfold_run, out_of_fold_probabilities

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


def teacher_files(source: str) -> List[Path]:
    """Return the model files a teacher reads: one, or each fold's of a k-fold run."""
    from .oof import fold_models, is_kfold_run

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
