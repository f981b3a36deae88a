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
Face crop -> model input. The ONE implementation, shared by training and runtime.

Training feeds FER2013's 48x48 grey faces (already cropped) through
:func:`faces_to_input`; the runtime crops faces from camera frames with
:func:`crop_face` and then calls the same :func:`faces_to_input`. So the network
sees exactly the same transformation in both places.

Preprocessing modes (stored in each model's metadata, see ``model_metadata``):

``grey``
    one channel, grey / 255.
``canny_grey_grey``
    Huo et al. 2022: ``[Canny(grey), grey, grey] / 255``, Canny computed on the
    resized face after a 5x5 Gaussian blur with thresholds 50/150.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np

GREY = 'grey'
CANNY_GREY_GREY = 'canny_grey_grey'
PREPROCESSING_MODES: Tuple[str, ...] = (GREY, CANNY_GREY_GREY)

CANNY_BLUR_KSIZE = 5
# Faces tilted less than this (degrees) are cropped without rotation: the warp would blur them for
# nothing.
MIN_ALIGN_DEGREES = 1.0
CANNY_LOW, CANNY_HIGH = 50, 150

Box = Tuple[int, int, int, int]  # x, y, width, height in pixels


def channels_for(mode: str) -> int:
    """Return the number of input channels a preprocessing mode produces."""
    if mode == GREY:
        return 1
    if mode == CANNY_GREY_GREY:
        return 3
    raise ValueError(
        f'unknown preprocessing mode {mode!r}; allowed: {", ".join(PREPROCESSING_MODES)}'
    )


def to_grey(image: np.ndarray) -> np.ndarray:
    """BGR (or already grey) uint8 image -> 2-D grey uint8 image."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f'expected a grey, BGR or BGRA image, got shape {image.shape}')


def crop_face(
    grey: np.ndarray, box: Box, size: int, out: Optional[np.ndarray] = None, angle: float = 0.0
) -> np.ndarray:
    """
    Cut ``box`` out of a grey frame and resize it to ``size`` x ``size``, rotated by ``angle``.

    Parts of the box outside the frame are filled by replicating the border, so
    faces at the image edge keep their framing instead of being stretched.
    ``out`` (uint8, size x size) is reused when given. ``angle`` (degrees, as
    ``cv2.getRotationMatrix2D`` takes it: the face's eye-line angle from
    ``Detection.eye_angle``) turns a tilted face upright about the box centre.
    """
    if abs(angle) >= MIN_ALIGN_DEGREES:
        return _rotated_crop(grey, box, size, out, angle)
    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        raise ValueError(f'empty face box {box}')
    frame_h, frame_w = grey.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, frame_w), min(y + h, frame_h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f'face box {box} lies outside the {frame_w}x{frame_h} frame')
    patch = grey[y0:y1, x0:x1]
    if (x0, y0, x1, y1) != (x, y, x + w, y + h):
        patch = cv2.copyMakeBorder(
            patch, y0 - y, y + h - y1, x0 - x, x + w - x1, cv2.BORDER_REPLICATE
        )
    interpolation = cv2.INTER_AREA if w > size else cv2.INTER_LINEAR
    if out is None:
        return cv2.resize(patch, (size, size), interpolation=interpolation)
    cv2.resize(patch, (size, size), dst=out, interpolation=interpolation)
    return out


def _rotated_crop(
    grey: np.ndarray, box: Box, size: int, out: Optional[np.ndarray], angle: float
) -> np.ndarray:
    """
    Crop the square of ``box``, rotated by ``angle`` about its centre, to ``size`` x ``size``.

    First the axis-aligned square that holds the rotated one is cropped and
    shrunk (area interpolation, so large faces do not alias), then that small
    patch is rotated and its centre kept: two cheap operations on ~70 px images.
    """
    x, y, w, h = box
    side = float(max(w, h))
    if side <= 0:
        raise ValueError(f'empty face box {box}')
    radians = np.radians(angle)
    spread = abs(np.cos(radians)) + abs(np.sin(radians))
    outer_px = int(np.ceil(size * spread)) + 2
    outer = side * outer_px / size
    cx, cy = x + w / 2.0, y + h / 2.0
    outer_box = (
        int(round(cx - outer / 2.0)),
        int(round(cy - outer / 2.0)),
        int(round(outer)),
        int(round(outer)),
    )
    patch = crop_face(grey, outer_box, outer_px)
    matrix = cv2.getRotationMatrix2D(
        ((outer_px - 1) / 2.0, (outer_px - 1) / 2.0), float(angle), 1.0
    )
    matrix[:, 2] += (size - outer_px) / 2.0
    if out is None:
        out = np.empty((size, size), dtype=np.uint8)
    cv2.warpAffine(
        patch,
        matrix,
        (size, size),
        dst=out,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out


def canny_edges(grey_face: np.ndarray) -> np.ndarray:
    """Huo et al.'s edge channel: Canny(50, 150) after a 5x5 Gaussian blur."""
    blurred = cv2.GaussianBlur(grey_face, (CANNY_BLUR_KSIZE, CANNY_BLUR_KSIZE), 0)
    return cv2.Canny(blurred, CANNY_LOW, CANNY_HIGH)


def faces_to_input(
    grey_faces: Union[np.ndarray, Sequence[np.ndarray]],
    mode: str,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """
    Stack grey uint8 faces (N x S x S) into the model input (N x S x S x C, float32).

    ``out`` is reused when it has the right shape, so the per-frame path does not
    allocate. Values are scaled to [0, 1].
    """
    n = len(grey_faces)
    if n == 0:
        raise ValueError('faces_to_input needs at least one face')
    size = grey_faces[0].shape[0]
    channels = channels_for(mode)
    shape = (n, size, size, channels)
    if out is None or out.shape != shape or out.dtype != np.float32:
        out = np.empty(shape, dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for i in range(n):
        face = grey_faces[i]
        if face.shape != (size, size) or face.dtype != np.uint8:
            raise ValueError(
                f'face {i} must be uint8 {size}x{size}, got {face.dtype} {face.shape}'
            )
        if mode == GREY:
            np.multiply(face, scale, out=out[i, :, :, 0], casting='unsafe')
        else:
            np.multiply(canny_edges(face), scale, out=out[i, :, :, 0], casting='unsafe')
            np.multiply(face, scale, out=out[i, :, :, 1], casting='unsafe')
            out[i, :, :, 2] = out[i, :, :, 1]
    return out
