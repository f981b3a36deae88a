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
Stratified k-fold splits in which the test fold never chooses the epoch.

Fold ``f`` of ``k``: part ``f`` is the test part, part ``f + 1`` (mod ``k``) is the validation
part on which the best epoch is chosen, the other ``k - 2`` parts are trained on. Every face is
tested exactly once over the ``k`` runs, and no run looks at its test part before its one final
evaluation, so the mean test accuracy is an honest estimate (choosing the epoch on the test part
itself, as a plain k-fold loop does, flatters it).

Each class is dealt round the parts separately, so every part has the dataset's class mix
(within one face per class).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple, Union

import numpy as np

# A k-fold run directory: its settings (without ``fold``) and the faces it dealt into parts
# (scope, count, fingerprint), beside ``fold_<i>/`` and the summary ``kfold.json``.
KFOLD_RUN = 'kfold_run.json'
KFOLD_FACES = 'kfold_faces.json'


def is_kfold_run(run_dir: Union[str, Path]) -> bool:
    """Tell whether ``run_dir`` is a k-fold run directory (it holds ``kfold_run.json``)."""
    return (Path(run_dir) / KFOLD_RUN).is_file()


def fold_dir(run_dir: Union[str, Path], fold: int) -> Path:
    """Return the directory in which fold ``fold`` of the k-fold run ``run_dir`` trains."""
    return Path(run_dir) / f'fold_{fold}'


def stratified_parts(targets: np.ndarray, k: int, seed: int = 0) -> List[np.ndarray]:
    """``k`` disjoint, sorted index arrays covering ``range(len(targets))``, class mix kept."""
    if not 2 <= k <= len(targets):
        raise ValueError(f'k must be within 2..{len(targets)}, got {k}')
    rng = np.random.default_rng(seed)
    parts: List[List[np.ndarray]] = [[] for _ in range(k)]
    dealt = 0  # where the next class starts, so the remainders spread over all parts
    for label in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == label))
        for i, chunk in enumerate(np.array_split(members, k)):
            parts[(dealt + i) % k].append(chunk)
        dealt += len(members) % k
    return [np.sort(np.concatenate(chunks)).astype(np.int64) for chunks in parts]


def fold_indices(
    targets: np.ndarray, k: int, fold: int, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) indices of fold ``fold`` (see the module docstring)."""
    if k < 3:
        raise ValueError(f'k must be >= 3 (a test part, a validation part, training), got {k}')
    if not 0 <= fold < k:
        raise ValueError(f'fold must be within 0..{k - 1}, got {fold}')
    parts = stratified_parts(targets, k, seed)
    validation = (fold + 1) % k
    train = np.sort(
        np.concatenate([p for i, p in enumerate(parts) if i not in (fold, validation)])
    )
    return train, parts[validation], parts[fold]
