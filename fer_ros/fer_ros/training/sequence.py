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
Batches for Keras: shuffle, augment the grey faces, then preprocess them.

Preprocessing is the runtime's own :func:`fer_ros.preprocess.faces_to_input`.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import keras
import numpy as np

from .augment import augment_faces, AugmentSettings
from .data import FaceDataset
from .malloc import keep_freed_memory
from .mixing import mix_batch, MixSettings
from ..preprocess import faces_to_input


class FaceBatches(keras.utils.PyDataset):
    """
    A :class:`keras.utils.PyDataset` of ``(inputs, targets)`` batches.

    Targets are one-hot, or with ``soft_targets`` (offline distillation) mixed with
    them: ``(1 - soft_weight) * one_hot + soft_weight * soft_targets``. With
    ``mix`` (mixup/CutMix, training/mixing.py) faces, targets and sample weights
    of a batch are then blended with a shuffled copy of the batch. With ``teacher``
    (online distillation) the soft part comes last, from the teacher's view of the
    very inputs of the batch: ``(1 - soft_weight) * targets + soft_weight * teacher(inputs)``.

    The order of epoch ``e`` depends only on ``seed`` and ``e``, so a resumed run
    sees the same sequence as an uninterrupted one.
    """

    def __init__(
        self,
        data: FaceDataset,
        mode: str,
        batch_size: int,
        augment: Optional[AugmentSettings] = None,
        shuffle: bool = False,
        seed: int = 0,
        sample_weights: Optional[np.ndarray] = None,
        soft_targets: Optional[np.ndarray] = None,
        soft_weight: float = 0.0,
        mix: Optional[MixSettings] = None,
        teacher: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    ):
        super().__init__()
        if soft_targets is not None and teacher is not None:
            raise ValueError('soft targets and an online teacher: distil one way')
        if soft_targets is not None and soft_targets.shape != (len(data), len(data.labels)):
            raise ValueError(
                f'soft targets of shape {soft_targets.shape} for {len(data)} faces of '
                f'{len(data.labels)} classes'
            )
        self.data = data
        self.mode = mode
        self.batch_size = batch_size
        self.augment = augment
        self.shuffle = shuffle
        self.seed = seed
        self.sample_weights = sample_weights
        self.soft_targets = soft_targets
        self.soft_weight = soft_weight
        self.mix = mix if mix is not None and mix.enabled else None
        self.teacher = teacher
        self.epoch = 0
        self._eye = np.eye(len(data.labels), dtype=np.float32)
        self._set_order()

    def _set_order(self) -> None:
        n = len(self.data)
        if self.shuffle:
            self.order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            self.order = np.arange(n)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self._set_order()

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __getitem__(self, index: int):
        # TensorFlow's generator op lowers glibc's trim threshold when the epoch's iterator is
        # made; undo that here, where we run after it (see fer_ros.training.malloc).
        keep_freed_memory()
        start = index * self.batch_size
        stop = start + self.batch_size
        idx = self.order[start:stop]
        faces = self.data.images[idx]
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            faces = augment_faces(faces, rng, self.augment)
        x = faces_to_input(faces, self.mode)
        y = self._eye[self.data.targets[idx]]
        if self.soft_targets is not None:  # distillation: a share of the teachers' view
            y = (1.0 - self.soft_weight) * y + self.soft_weight * self.soft_targets[idx]
        w = None
        if self.sample_weights is not None:
            w = self.sample_weights[self.data.targets[idx]].astype(np.float32)
        if self.mix is not None:  # its own stream: turning mixing on leaves augmentation as it was
            rng = np.random.default_rng([self.seed, self.epoch, index, 1])
            x, y, w = mix_batch(x, y, w, rng, self.mix)
        if self.teacher is not None:  # online distillation: the teacher sees what the student sees
            y = (1.0 - self.soft_weight) * y + self.soft_weight * self.teacher(x)
        return (x, y) if w is None else (x, y, w)

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)
