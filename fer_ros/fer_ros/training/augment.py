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
Random augmentation of grey faces, applied BEFORE preprocessing.

Working on the grey uint8 face means the Canny channel of Huo's input is
computed from the augmented face, exactly as at run time, where Canny sees
whatever face the camera gives. numpy + OpenCV only (no TensorFlow), so it is
cheap and testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentSettings:
    """Ranges of the random transforms; ``none()`` disables everything."""

    flip: bool = True
    rotation_deg: float = 10.0
    shift: float = 0.1  # fraction of the side
    zoom: float = 0.1  # scale in [1 - zoom, 1 + zoom]
    brightness: float = 0.2  # additive, fraction of 255
    contrast: float = 0.2  # multiplicative around the mean, [1 - c, 1 + c]
    erasing: float = 0.0  # probability of random erasing (Zhong et al. 2020): a rectangle of noise
    erase_area: tuple = (0.02, 0.25)  # its area as a fraction of the face
    erase_aspect: float = 3.0  # its aspect ratio in [1/a, a], log-uniform

    @classmethod
    def none(cls) -> AugmentSettings:
        return cls(flip=False, rotation_deg=0.0, shift=0.0, zoom=0.0, brightness=0.0, contrast=0.0)


def augment_faces(
    faces: np.ndarray, rng: np.random.Generator, settings: AugmentSettings
) -> np.ndarray:
    """
    Return randomly transformed copies of grey uint8 faces (N x S x S).

    Geometry (flip, rotation, shift, zoom) is one affine warp per face with
    reflected borders; photometry (brightness, contrast) follows, clipped to 0..255.
    """
    n, size = faces.shape[0], faces.shape[1]
    out = np.empty_like(faces)
    center = (size / 2.0 - 0.5, size / 2.0 - 0.5)
    angles = rng.uniform(-settings.rotation_deg, settings.rotation_deg, n)
    scales = rng.uniform(1.0 - settings.zoom, 1.0 + settings.zoom, n)
    shifts = rng.uniform(-settings.shift, settings.shift, (n, 2)) * size
    flips = rng.random(n) < 0.5 if settings.flip else np.zeros(n, dtype=bool)
    gains = rng.uniform(1.0 - settings.contrast, 1.0 + settings.contrast, n)
    offsets = rng.uniform(-settings.brightness, settings.brightness, n) * 255.0
    for i in range(n):
        face = faces[i][:, ::-1] if flips[i] else faces[i]
        matrix = cv2.getRotationMatrix2D(center, float(angles[i]), float(scales[i]))
        matrix[:, 2] += shifts[i]
        warped = cv2.warpAffine(
            np.ascontiguousarray(face),
            matrix,
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        if settings.contrast or settings.brightness:
            mean = float(warped.mean())
            adjusted = (warped.astype(np.float32) - mean) * gains[i] + mean + offsets[i]
            np.clip(adjusted, 0, 255, out=adjusted)
            out[i] = adjusted.astype(np.uint8)
        else:
            out[i] = warped
    if settings.erasing > 0:
        erase_rectangles(out, rng, settings)
    return out


def erase_rectangles(
    faces: np.ndarray, rng: np.random.Generator, settings: AugmentSettings
) -> None:
    """
    Random erasing in place.

    With probability ``settings.erasing`` one rectangle of uniform noise.

    Hides a part of the face (as a hand, glasses or a shadow would), so the
    network cannot rely on any single region.
    """
    n, size = faces.shape[0], faces.shape[1]
    chosen = np.flatnonzero(rng.random(n) < settings.erasing)
    areas = rng.uniform(*settings.erase_area, chosen.size) * size * size
    log_aspect = np.log(settings.erase_aspect)
    aspects = np.exp(rng.uniform(-log_aspect, log_aspect, chosen.size))
    heights = np.clip(np.sqrt(areas * aspects).astype(int), 1, size)
    widths = np.clip(np.sqrt(areas / aspects).astype(int), 1, size)
    for i, h, w in zip(chosen, heights, widths):
        top = int(rng.integers(0, size - h + 1))
        left = int(rng.integers(0, size - w + 1))
        bottom, right = top + h, left + w
        faces[i, top:bottom, left:right] = rng.integers(0, 256, (h, w), dtype=np.uint8)
