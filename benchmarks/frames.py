"""Synthetic camera frames with real faces: FER2013 faces enlarged and placed on a room-like background.

The benchmarks need identical, reproducible frames for every library, with a
known number of real faces at known places (so detection recall can be
measured too). FER2013's 48x48 crops are enlarged to a plausible on-camera
size and pasted, with a slightly feathered edge, into a synthetic indoor scene
(wall, floor, window, furniture, lighting gradient, sensor noise). Everything
is drawn from a seeded generator, so a seed gives the same frames on any
machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from fer_ros.tracking import iou

Box = Tuple[int, int, int, int]  # x, y, width, height

# Face side as a fraction of the frame height (a person 0.7 to 1.5 m from a webcam).
FACE_SIDE_RANGE = (0.25, 0.40)
FEATHER_FRACTION = 0.04  # width of the soft edge, as a fraction of the face side


@dataclass
class SyntheticFrame:
    """One BGR frame and the faces placed in it."""

    image: np.ndarray  # uint8 H x W x 3 (BGR)
    boxes: List[Box]  # where each face was placed, full-frame pixels
    face_indices: List[int]  # index of each face in the source face array


def room_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A plausible indoor scene: lit wall, floor, a window and furniture, with noise."""
    wall = rng.uniform(120, 200, size=3)
    floor = wall * rng.uniform(0.35, 0.6)
    horizon = int(height * rng.uniform(0.65, 0.8))
    image = np.empty((height, width, 3), np.float32)
    image[:horizon] = wall
    image[horizon:] = floor
    # A window (bright) and some furniture (dark), behind the people.
    wx, wy = int(width * rng.uniform(0.0, 0.7)), int(height * rng.uniform(0.05, 0.2))
    ww, wh = int(width * rng.uniform(0.15, 0.3)), int(height * rng.uniform(0.25, 0.4))
    image[wy:wy + wh, wx:wx + ww] = rng.uniform(215, 250, size=3)
    for _ in range(3):
        fx, fw = int(width * rng.uniform(0.0, 0.85)), int(width * rng.uniform(0.08, 0.25))
        fy = int(height * rng.uniform(0.45, 0.7))
        image[fy:, fx:fx + fw] = rng.uniform(30, 110, size=3)
    # Light falling off from one side, and low-frequency texture.
    gradient = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(1.0, 1.15), width, dtype=np.float32)
    texture = cv2.resize(rng.normal(1.0, 0.06, size=(6, 8)).astype(np.float32), (width, height),
                         interpolation=cv2.INTER_CUBIC)
    image *= (gradient[None, :] * texture)[:, :, None]
    image = cv2.GaussianBlur(image, (0, 0), 2.0)
    image += rng.normal(0.0, 3.0, size=image.shape).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _feather_mask(side: int) -> np.ndarray:
    """1 inside, ramping to 0 over the outer FEATHER_FRACTION of the square."""
    ramp = max(1, int(round(side * FEATHER_FRACTION)))
    distance = np.minimum(np.arange(side), np.arange(side)[::-1]).astype(np.float32)
    edge = np.clip((distance + 1) / ramp, 0.0, 1.0)
    return np.minimum(edge[:, None], edge[None, :])[:, :, None]


def face_to_bgr(grey_face: np.ndarray, side: int, tint: np.ndarray) -> np.ndarray:
    """Enlarge a grey face to ``side`` pixels and give it a skin tint (BGR float32)."""
    big = cv2.resize(grey_face, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(big[:, :, None] * tint, 0, 255)


def random_tint(rng: np.random.Generator) -> np.ndarray:
    """A mild skin-like colour cast (B, G, R gains)."""
    return np.array([rng.uniform(0.82, 0.92), rng.uniform(0.9, 0.97), 1.0], np.float32)


def grid_cells(width: int, height: int, n: int) -> List[Tuple[int, int, int, int]]:
    """Split the frame into ``n`` equal cells (columns first), one face per cell."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    cw, ch = width // cols, height // rows
    return [((i % cols) * cw, (i // cols) * ch, cw, ch) for i in range(n)]


def choose_boxes(width: int, height: int, n: int, rng: np.random.Generator) -> List[Box]:
    """``n`` non-overlapping square face boxes, one per grid cell, at random sizes and places."""
    boxes: List[Box] = []
    for cx, cy, cw, ch in grid_cells(width, height, n):
        side = int(height * rng.uniform(*FACE_SIDE_RANGE))
        side = max(24, min(side, int(0.9 * min(cw, ch))))
        boxes.append((cx + int(rng.integers(0, cw - side + 1)), cy + int(rng.integers(0, ch - side + 1)),
                      side, side))
    return boxes


def paste_faces(background: np.ndarray, faces: np.ndarray, indices: Sequence[int], boxes: Sequence[Box],
                tints: Sequence[np.ndarray]) -> SyntheticFrame:
    """Paste ``faces[indices]`` at ``boxes`` into a copy of ``background``, with a feathered edge."""
    image = background.astype(np.float32)
    for index, (x, y, side, _), tint in zip(indices, boxes, tints):
        face = face_to_bgr(faces[index], side, tint)
        mask = _feather_mask(side)
        region = image[y:y + side, x:x + side]
        region[:] = face * mask + region * (1.0 - mask)
    return SyntheticFrame(np.clip(image, 0, 255).astype(np.uint8), list(boxes), list(indices))


def _check_request(faces: np.ndarray, width: int, height: int, n_faces: int, count: int) -> None:
    if n_faces < 0 or count < 1 or width < 32 or height < 32:
        raise ValueError(f"need n_faces >= 0, count >= 1 and a frame of at least 32x32, got "
                         f"n_faces={n_faces}, count={count}, size={width}x{height}")
    if n_faces and len(faces) < n_faces:
        raise ValueError(f"need at least {n_faces} faces to place, got {len(faces)}")


def synthesize_frames(
    faces: np.ndarray, width: int, height: int, n_faces: int, count: int, seed: int = 0
) -> List[SyntheticFrame]:
    """``count`` unrelated photos of ``width`` x ``height`` with ``n_faces`` real faces each.

    ``faces`` is an N x 48 x 48 uint8 array (e.g. FER2013 PrivateTest). Each frame
    gets its own background, faces and places, drawn from a generator seeded by ``seed``.
    """
    _check_request(faces, width, height, n_faces, count)
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        background = room_background(width, height, rng)
        indices = rng.choice(len(faces), size=n_faces, replace=False).tolist() if n_faces else []
        boxes = choose_boxes(width, height, n_faces, rng)
        frames.append(paste_faces(background, faces, indices, boxes, [random_tint(rng) for _ in indices]))
    return frames


def synthesize_clip(
    faces: np.ndarray, width: int, height: int, n_faces: int, count: int, seed: int = 0, step: int = 3
) -> List[SyntheticFrame]:
    """``count`` frames of a static camera watching ``n_faces`` people who move a little.

    One scene and one set of faces; each face drifts by a random walk of up to
    ``step`` pixels per frame (staying in the frame), as a seated person in front
    of a robot would. Trackers and region-of-interest detection are exercised
    the way a real video exercises them.
    """
    _check_request(faces, width, height, n_faces, count)
    rng = np.random.default_rng(seed)
    background = room_background(width, height, rng)
    indices = rng.choice(len(faces), size=n_faces, replace=False).tolist() if n_faces else []
    boxes = choose_boxes(width, height, n_faces, rng)
    tints = [random_tint(rng) for _ in indices]
    frames = []
    for _ in range(count):
        frames.append(paste_faces(background, faces, indices, boxes, tints))
        moved = []
        for x, y, side, _ in boxes:
            dx, dy = (int(v) for v in rng.integers(-step, step + 1, size=2))
            moved.append((min(max(0, x + dx), width - side), min(max(0, y + dy), height - side), side, side))
        boxes = moved
    return frames


def match_boxes(placed: Sequence[Box], found: Sequence[Box], min_iou: float = 0.3) -> List[Tuple[int, int]]:
    """Pairs (placed index, found index) of a greedy one-to-one matching by IoU >= ``min_iou``."""
    used = set()
    pairs = []
    for i, truth in enumerate(placed):
        best, best_iou = None, min_iou
        for j, box in enumerate(found):
            if j in used:
                continue
            overlap = iou(truth, box)
            if overlap >= best_iou:
                best, best_iou = j, overlap
        if best is not None:
            used.add(best)
            pairs.append((i, best))
    return pairs
