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

"""Stratified k-fold parts: every face tested once, class mix kept, the test part never selects."""

from __future__ import annotations

from fer_ros.training.folds import fold_indices, stratified_parts
import numpy as np
import pytest

# An imbalanced label set like FER2013's (one class rare), with a size no k divides evenly.
TARGETS = np.random.default_rng(5).choice(
    7, size=1003, p=[0.14, 0.02, 0.14, 0.25, 0.17, 0.11, 0.17]
)


@pytest.mark.parametrize('k', [3, 5, 10])
def test_parts_cover_every_face_once_with_the_class_mix_kept(k):
    parts = stratified_parts(TARGETS, k, seed=1)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(TARGETS)))
    totals = np.bincount(TARGETS, minlength=7)
    for part in parts:
        counts = np.bincount(TARGETS[part], minlength=7)
        assert np.all(np.abs(counts - totals / k) < 1), (counts, totals / k)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1  # remainders spread, not piled on the first part


def test_each_fold_tests_its_own_part_and_selects_on_another():
    k = 10
    tested = []
    for fold in range(k):
        train, val, test = fold_indices(TARGETS, k, fold, seed=2)
        assert not set(train) & set(val) and not set(train) & set(test)
        assert not set(val) & set(test)
        assert len(train) + len(val) + len(test) == len(TARGETS)
        tested.extend(test.tolist())
    assert sorted(tested) == list(range(len(TARGETS)))  # every face tested exactly once


def test_folds_are_seeded():
    a = fold_indices(TARGETS, 5, 0, seed=3)
    b = fold_indices(TARGETS, 5, 0, seed=3)
    c = fold_indices(TARGETS, 5, 0, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[2], c[2])


@pytest.mark.parametrize(('k', 'fold', 'message'), [(2, 0, 'k must be >= 3'), (5, 5, '0..4')])
def test_bad_fold_settings_are_refused(k, fold, message):
    with pytest.raises(ValueError, match=message):
        fold_indices(TARGETS, k, fold)
