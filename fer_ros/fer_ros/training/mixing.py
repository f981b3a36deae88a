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
Mixup and CutMix: train on blends of two faces whose targets are blended alike.

Mixup (Zhang et al. 2018) averages two whole inputs with a weight ``lam ~ Beta(a, a)``;
CutMix (Yun et al. 2019) pastes a box of one face into another, the box covering
``1 - lam`` of the area. The targets (and sample weights) are mixed in the same
proportion, so the network is taught to be exactly as unsure as its input is
mixed: a regulariser against the over-confidence a small dataset breeds.

One ``lam`` and one pairing (a permutation of the batch) per batch, as in the
papers' reference code. Written on numpy rather than with ``keras.layers.MixUp``
and ``CutMix`` because a batch here must depend only on (seed, epoch, batch
index), which a resumed run relies on, and the sample weights must be mixed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class MixSettings:
    """Beta parameters of each method (0: off) and the share of batches that are mixed."""

    mixup: float = 0.0
    cutmix: float = 0.0
    prob: float = 1.0

    @property
    def enabled(self) -> bool:
        return self.prob > 0 and (self.mixup > 0 or self.cutmix > 0)


def mix_batch(
    x: np.ndarray,
    y: np.ndarray,
    weights: Optional[np.ndarray],
    rng: np.random.Generator,
    settings: MixSettings,
) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """
    Return the batch mixed with a shuffled copy of itself, or unchanged.

    ``x`` is N x H x W x C network input, ``y`` N x K targets (one-hot or soft),
    ``weights`` N sample weights or None. With probability ``settings.prob`` the
    batch is mixed; when both methods are on, each mixed batch picks one of them
    at even odds. The inputs are not modified.
    """
    if not settings.enabled or x.shape[0] < 2 or rng.random() >= settings.prob:
        return x, y, weights
    use_cutmix = settings.cutmix > 0 and (settings.mixup <= 0 or rng.random() < 0.5)
    alpha = settings.cutmix if use_cutmix else settings.mixup
    lam = float(rng.beta(alpha, alpha))
    partner = rng.permutation(x.shape[0])
    if use_cutmix:
        x, lam = _paste_box(x, partner, lam, rng)
    else:
        x = lam * x + (1.0 - lam) * x[partner]  # a Python float keeps float32 arrays float32
    y = lam * y + (1.0 - lam) * y[partner]
    if weights is not None:
        weights = lam * weights + (1.0 - lam) * weights[partner]
    return x, y, weights


def _paste_box(
    x: np.ndarray, partner: np.ndarray, lam: float, rng: np.random.Generator
) -> Tuple[np.ndarray, float]:
    """
    Paste a box of each partner face into a copy of ``x``; return it and the kept share.

    The box covers about ``1 - lam`` of the face, centred anywhere and clipped at the
    borders; the returned share is the area actually kept, which the targets follow.
    """
    height, width = x.shape[1], x.shape[2]
    cut = np.sqrt(1.0 - lam)
    box_h, box_w = int(round(height * cut)), int(round(width * cut))
    centre_y, centre_x = int(rng.integers(height)), int(rng.integers(width))
    top, bottom = np.clip([centre_y - box_h // 2, centre_y + (box_h + 1) // 2], 0, height)
    left, right = np.clip([centre_x - box_w // 2, centre_x + (box_w + 1) // 2], 0, width)
    mixed = x.copy()
    mixed[:, top:bottom, left:right] = x[partner, top:bottom, left:right]
    kept = 1.0 - (bottom - top) * (right - left) / (height * width)
    return mixed, float(kept)
