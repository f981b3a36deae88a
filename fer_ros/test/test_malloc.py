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

"""The training feeder keeps glibc from returning step buffers to the kernel after every batch."""

from __future__ import annotations

import platform

from fer_ros.training import malloc
import numpy as np
import pytest

glibc = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc', reason="mallopt is glibc's"
)


@glibc
def test_thresholds_are_set_on_glibc():
    assert malloc.keep_freed_memory() is True


def test_without_mallopt_it_reports_false(monkeypatch):
    monkeypatch.setattr(malloc, '_glibc', lambda: None)
    assert malloc.keep_freed_memory() is False


@pytest.mark.training
def test_every_batch_restores_the_thresholds(monkeypatch):
    """TF lowers the trim threshold when an epoch's iterator is made; each batch undoes it."""
    pytest.importorskip('keras', reason='the feeder is in the train extra')
    from fer_ros.model_metadata import FER2013_LABELS
    from fer_ros.training import sequence
    from fer_ros.training.data import FaceDataset

    calls = []
    monkeypatch.setattr(sequence, 'keep_freed_memory', lambda: calls.append(1) or True)
    data = FaceDataset(np.zeros((10, 48, 48), np.uint8), np.arange(10) % 7, FER2013_LABELS)
    batches = sequence.FaceBatches(data, 'grey', 4)
    for i in range(len(batches)):
        batches[i]
    assert len(calls) == len(batches) == 3
