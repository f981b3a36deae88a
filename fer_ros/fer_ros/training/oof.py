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
Out-of-fold teachers: a k-fold run labels each training face with the fold that never saw it.

A teacher trained on the faces it labels mostly repeats their labels (width-2 networks agree
with 94.5% of their own training labels, width 1 with 88%), so its soft targets teach little
beyond the one-hot ones. A k-fold run over the Training split (``--kfold K``) has, for every
face, a network that did not train on it: fold ``f`` tests on part ``f``. Given as
``--teacher runs/<kfold run>``, each face's soft target comes from the network of the fold
whose test part holds it, so every target is a held-out prediction.

The student must train on exactly the faces the k-fold run dealt into parts (its Training
split, same order): ``kfold_faces.json`` holds their fingerprint, and any other set of faces
is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List

import numpy as np

from .checkpoints import read_json
from .data import FaceDataset
from .folds import fold_dir, fold_indices, KFOLD_FACES, KFOLD_RUN
from ..errors import SettingsError


def fold_models(run_dir: Path) -> List[Path]:
    """Return each fold's ``best.keras``; :class:`SettingsError` names a fold not yet trained."""
    kfold = read_json(run_dir / KFOLD_RUN, 'kfold')['kfold']
    models = [fold_dir(run_dir, fold) / 'best.keras' for fold in range(kfold)]
    missing = [str(path) for path in models if not path.is_file()]
    if missing:
        raise SettingsError(
            f'out-of-fold teacher {run_dir}: {len(missing)} of {kfold} folds have no trained '
            f'network yet ({", ".join(missing)}); finish them with fer-ros train --run-dir '
            f'{run_dir} --resume'
        )
    return models


def out_of_fold_probabilities(
    run_dir: Path,
    data: FaceDataset,
    predict: Callable[[str, FaceDataset], np.ndarray],
) -> np.ndarray:
    """
    Return, for each face of ``data``, the probabilities of the fold that held it out.

    ``predict(model_file, faces)`` gives a model's probabilities in ``data.labels`` order (the
    teachers' face-and-mirror average). ``data`` must be the faces the run folded.
    """
    settings = read_json(run_dir / KFOLD_RUN, 'kfold', 'kfold_scope', 'seed')
    if settings['kfold_scope'] != 'training':
        raise SettingsError(
            f'out-of-fold teacher {run_dir} folded every split (--kfold-scope all); a teacher '
            'for a Training run must fold the Training split (--kfold-scope training)'
        )
    _check_same_faces(run_dir, data)
    models = fold_models(run_dir)
    probs = np.zeros((len(data), len(data.labels)), dtype=np.float32)
    for fold, model in enumerate(models):
        _, _, test = fold_indices(data.targets, settings['kfold'], fold, seed=settings['seed'])
        probs[test] = predict(str(model), data.subset(test))
    return probs


def _check_same_faces(run_dir: Path, data: FaceDataset) -> None:
    """Refuse a student whose training faces are not the ones the k-fold run dealt out."""
    path = run_dir / KFOLD_FACES
    if not path.is_file():
        raise SettingsError(
            f'out-of-fold teacher {run_dir} has no {KFOLD_FACES} (k-fold runs record their '
            'faces since 2026-12-04): the faces it held out cannot be matched'
        )
    recorded = read_json(path, 'faces', 'sha256')
    if recorded['faces'] != len(data) or recorded['sha256'] != data.fingerprint():
        raise SettingsError(
            f'out-of-fold teacher {run_dir} folded {recorded["faces"]} faces; this run trains on '
            f'{len(data)} ({data.name}) that are not those faces in that order: train the '
            'student on the same data and split, without --train-on Training+PublicTest, with '
            'the same --limit'
        )
