"""Real FER2013 faces placed into larger frames at known positions and sizes.

The ground truth box of each placed face is exactly the enlarged 48x48 FER2013
crop, i.e. the framing the expression model was trained on. So the IoU between
a pipeline box and it measures both detection and framing (``face_margin``).
The background is smooth random texture, so the detector has nothing but the
face to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np


@dataclass
class PlacedFace:
    index: int  # row in the dataset
    box: Tuple[int, int, int, int]  # x, y, side, side in frame pixels
    target: int  # true class index


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Smooth grey texture: low-frequency noise, mid-grey, no edges a detector could mistake for a face."""
    small = rng.integers(60, 200, size=(max(2, height // 40), max(2, width // 40)), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def place_faces(
    images: np.ndarray,
    targets: np.ndarray,
    indices: Sequence[int],
    rng: np.random.Generator,
    frame_size: Tuple[int, int] = (640, 480),
    side_range: Tuple[int, int] = (96, 200),
) -> Tuple[np.ndarray, List[PlacedFace]]:
    """One BGR frame with the given faces enlarged and placed without overlap."""
    width, height = frame_size
    frame = background(rng, width, height)
    placed: List[PlacedFace] = []
    for index in indices:
        for _ in range(100):
            side = int(rng.integers(side_range[0], side_range[1] + 1))
            x = int(rng.integers(0, width - side + 1))
            y = int(rng.integers(0, height - side + 1))
            if all(
                x + side <= p.box[0]
                or p.box[0] + p.box[2] <= x
                or y + side <= p.box[1]
                or p.box[1] + p.box[3] <= y
                for p in placed
            ):
                break
        else:
            continue
        face = cv2.resize(images[index], (side, side), interpolation=cv2.INTER_CUBIC)
        frame[y : y + side, x : x + side] = face
        placed.append(PlacedFace(int(index), (x, y, side, side), int(targets[index])))
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), placed
