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
YuNet's raw network outputs -> faces: the decoding ``cv2.FaceDetectorYN`` does, in numpy.

YuNet (Wu, Peng and Yu 2023, ``ShiqiYu/libfacedetection.train``) is an
anchor-free detector. For each stride s in 8, 16 and 32 it predicts, per cell
(row r, column c) of the padded input's grid:

* ``cls_s`` and ``obj_s``: class and objectness scores; the face score is
  ``sqrt(clip(cls) * clip(obj))``;
* ``bbox_s``: ``(dx, dy, log w, log h)``; the box centre is ``((c + dx) s, (r + dy) s)``
  and its size ``(exp(log w) s, exp(log h) s)``;
* ``kps_s``: five landmarks ``((c + kx) s, (r + ky) s)``: the right eye, left eye,
  nose tip, right and left mouth corners (right and left of the person).

Candidates above the score threshold are then thinned by non-maximum
suppression. Running the network is :mod:`fer_ros.detection`'s job; this
module only turns its outputs into boxes, so it is testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
from typing import Mapping, Sequence

import numpy as np

STRIDES = (8, 16, 32)
PAD_MULTIPLE = 32  # the network's input height and width must be multiples of this
OUTPUT_NAMES = tuple(f'{kind}_{s}' for kind in ('cls', 'obj', 'bbox', 'kps') for s in STRIDES)
NMS_IOU = 0.3  # cv2.FaceDetectorYN's default
TOP_K = 5000  # candidates kept before NMS, as cv2.FaceDetectorYN's default


@dataclass
class YuNetFaces:
    """
    Decoded faces, highest score first.

    Boxes (N x 4, x y w h), landmarks (N x 5 x 2), scores (N).
    """

    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def padded_size(width: int, height: int) -> tuple:
    """(width, height) rounded up to multiples of :data:`PAD_MULTIPLE`, as the network needs."""
    return (-(-width // PAD_MULTIPLE) * PAD_MULTIPLE, -(-height // PAD_MULTIPLE) * PAD_MULTIPLE)


@functools.lru_cache(maxsize=8)
def cell_table(width: int, height: int) -> np.ndarray:
    """
    Return column, row and stride of every cell of the three grids (N x 3).

    In the network's output order.

    Cached per padded input size: a camera's frames all have the same one.
    """
    tables = []
    for stride in STRIDES:
        cols, rows = width // stride, height // stride
        r, c = np.divmod(np.arange(rows * cols, dtype=np.float32), np.float32(cols))
        tables.append(np.stack([c, r, np.full_like(c, stride)], axis=1))
    table = np.concatenate(tables)
    table.setflags(write=False)
    return table


def _stacked(outputs: Mapping[str, np.ndarray], kind: str, width: int) -> np.ndarray:
    return np.concatenate([outputs[f'{kind}_{s}'].reshape(-1, width) for s in STRIDES])


def decode(
    outputs: Mapping[str, np.ndarray],
    padded_width: int,
    padded_height: int,
    score_threshold: float,
    nms_iou: float = NMS_IOU,
    top_k: int = TOP_K,
) -> YuNetFaces:
    """
    Faces from one image's outputs (``OUTPUT_NAMES`` -> arrays of batch 1), in input pixels.

    All strides are handled together (one array per quantity), and box and
    landmark arithmetic runs only on the cells above ``score_threshold``.
    """
    cls = np.clip(_stacked(outputs, 'cls', 1)[:, 0], 0.0, 1.0)
    obj = np.clip(_stacked(outputs, 'obj', 1)[:, 0], 0.0, 1.0)
    scores = np.sqrt(cls * obj)
    keep = np.flatnonzero(scores >= score_threshold)
    if keep.size == 0:
        return YuNetFaces(
            np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros(0, np.float32)
        )
    cells = cell_table(padded_width, padded_height)[keep]
    col, row, stride = cells[:, 0:1], cells[:, 1:2], cells[:, 2:3]
    bbox = _stacked(outputs, 'bbox', 4)[keep]
    size = np.exp(bbox[:, 2:4]) * stride
    centre = (np.concatenate([col, row], axis=1) + bbox[:, 0:2]) * stride
    boxes = np.concatenate([centre - size / 2, size], axis=1)
    kps = _stacked(outputs, 'kps', 10)[keep].reshape(-1, 5, 2)
    landmarks = (kps + np.concatenate([col, row], axis=1)[:, None, :]) * stride[:, :, None]
    kept = nms(boxes, scores[keep], nms_iou, top_k)
    return YuNetFaces(boxes[kept], landmarks[kept], scores[keep][kept])


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, top_k: int = TOP_K
) -> Sequence[int]:
    """
    Greedy non-maximum suppression of (x, y, w, h) boxes; indices kept, highest score first.

    The overlaps of all candidates are computed at once (a face leaves tens of
    candidates, not thousands), then the greedy pass is plain Python over them.
    """
    order = np.argsort(-scores, kind='stable')[:top_k]
    b = boxes[order]
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.maximum(
        0.0, np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    )
    ih = np.maximum(
        0.0, np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    )
    inter = iw * ih
    areas = b[:, 2] * b[:, 3]
    overlapping = (
        inter / np.maximum(areas[:, None] + areas[None, :] - inter, 1e-9) > iou_threshold
    ).tolist()
    suppressed = [False] * len(order)
    kept = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        kept.append(int(order[i]))
        row = overlapping[i]
        for j in range(i + 1, len(order)):
            if row[j]:
                suppressed[j] = True
    return kept
