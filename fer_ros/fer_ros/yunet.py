"""YuNet's raw network outputs -> faces: the decoding ``cv2.FaceDetectorYN`` does, in numpy.

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
from typing import Mapping, Sequence

import numpy as np

STRIDES = (8, 16, 32)
PAD_MULTIPLE = 32  # the network's input height and width must be multiples of this
OUTPUT_NAMES = tuple(f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES)
NMS_IOU = 0.3  # cv2.FaceDetectorYN's default
TOP_K = 5000  # candidates kept before NMS, as cv2.FaceDetectorYN's default


@dataclass
class YuNetFaces:
    """Decoded faces, highest score first: boxes (N x 4, x y w h), landmarks (N x 5 x 2), scores (N)."""

    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def padded_size(width: int, height: int) -> tuple:
    """(width, height) rounded up to multiples of :data:`PAD_MULTIPLE`, as the network needs."""
    return (-(-width // PAD_MULTIPLE) * PAD_MULTIPLE, -(-height // PAD_MULTIPLE) * PAD_MULTIPLE)


def grid(width: int, height: int, stride: int) -> tuple:
    """Column and row index of every cell of a stride's grid, in the network's (row-major) order."""
    cols, rows = width // stride, height // stride
    r, c = np.divmod(np.arange(rows * cols, dtype=np.float32), np.float32(cols))
    return c, r


def decode(
    outputs: Mapping[str, np.ndarray],
    padded_width: int,
    padded_height: int,
    score_threshold: float,
    nms_iou: float = NMS_IOU,
    top_k: int = TOP_K,
) -> YuNetFaces:
    """Faces from one image's outputs (``OUTPUT_NAMES`` -> arrays of batch 1), in input pixels."""
    boxes, landmarks, scores = [], [], []
    for stride in STRIDES:
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= score_threshold)
        if keep.size == 0:
            continue
        c, r = grid(padded_width, padded_height, stride)
        c, r = c[keep], r[keep]
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep]
        kps = outputs[f"kps_{stride}"].reshape(-1, 5, 2)[keep]
        w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
        cx, cy = (c + bbox[:, 0]) * stride, (r + bbox[:, 1]) * stride
        boxes.append(np.stack([cx - w / 2, cy - h / 2, w, h], axis=1))
        landmarks.append(
            np.stack([(kps[:, :, 0] + c[:, None]) * stride, (kps[:, :, 1] + r[:, None]) * stride], 2)
        )
        scores.append(score[keep])
    if not scores:
        return YuNetFaces(
            np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros(0, np.float32)
        )
    all_boxes, all_landmarks, all_scores = (
        np.concatenate(boxes),
        np.concatenate(landmarks),
        np.concatenate(scores),
    )
    kept = nms(all_boxes, all_scores, nms_iou, top_k)
    return YuNetFaces(all_boxes[kept], all_landmarks[kept], all_scores[kept])


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, top_k: int = TOP_K) -> Sequence[int]:
    """Greedy non-maximum suppression of (x, y, w, h) boxes; indices kept, highest score first."""
    order = np.argsort(-scores, kind="stable")[:top_k]
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    areas = boxes[:, 2] * boxes[:, 3]
    kept = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        iw = np.maximum(0.0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]))
        ih = np.maximum(0.0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]))
        inter = iw * ih
        overlap = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[overlap <= iou_threshold]
    return kept
