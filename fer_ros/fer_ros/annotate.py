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
Draw the pipeline's result on a frame: a box per face in its expression's colour, label, bars.

Line widths and font sizes scale with the frame, so the drawing stays readable
from 320x240 to 1920x1080. Drawing happens in place on ``out`` when given
(no per-frame allocation).
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from .results import FrameResult

Colour = Tuple[int, int, int]  # BGR

# A colour per FER2013 expression (BGR), chosen to be told apart at a glance.
EXPRESSION_COLOURS: Dict[str, Colour] = {
    'angry': (40, 40, 230),  # red
    'disgust': (40, 150, 40),  # green
    'fear': (170, 60, 170),  # purple
    'happy': (0, 215, 255),  # yellow
    'sad': (200, 120, 30),  # blue
    'surprise': (0, 140, 255),  # orange
    'neutral': (200, 200, 200),  # light grey
}
# Labels a model may have beyond FER2013's seven get colours from this list by position.
FALLBACK_COLOURS: Tuple[Colour, ...] = (
    (255, 255, 0),
    (255, 0, 255),
    (0, 255, 0),
    (128, 0, 255),
    (255, 128, 0),
    (0, 128, 128),
)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def colour_for(label: str, labels: Tuple[str, ...] = ()) -> Colour:
    """Return the colour of an expression label (stable per label name)."""
    if label in EXPRESSION_COLOURS:
        return EXPRESSION_COLOURS[label]
    index = labels.index(label) if label in labels else sum(map(ord, label))
    return FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)]


def _text(
    img: np.ndarray, text: str, org: Tuple[int, int], scale: float, thickness: int, colour: Colour
) -> None:
    """Text with a dark outline so it reads on any background."""
    cv2.putText(img, text, org, FONT, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, colour, thickness, cv2.LINE_AA)


def annotate(
    bgr: np.ndarray,
    result: FrameResult,
    out: Optional[np.ndarray] = None,
    bars: bool = False,
) -> np.ndarray:
    """
    Draw ``result`` on a copy of ``bgr`` (or into ``out``, which may be ``bgr`` itself).

    Each face gets a box in its expression's colour and ``label confidence% #id``
    above it; with ``bars`` a small bar chart of every class probability is drawn
    beside the box.
    """
    if out is None:
        out = bgr.copy()
    elif out is not bgr:
        np.copyto(out, bgr)
    height, width = out.shape[:2]
    unit = max(min(width, height) / 480.0, 0.5)  # 1.0 at 640x480
    scale = 0.55 * unit
    thickness = max(1, int(round(1.5 * unit)))
    box_thickness = max(1, int(round(2 * unit)))
    for face in result.faces:
        x, y, w, h = (int(v) for v in face.box)
        colour = colour_for(face.label, result.labels)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, box_thickness)
        caption = f'{face.label} {face.confidence * 100:.0f}% #{face.track_id}'
        (tw, th), base = cv2.getTextSize(caption, FONT, scale, thickness)
        ty = y - base - 2 if y - th - base - 2 >= 0 else min(y + h + th + 2, height - base - 1)
        tx = min(max(x, 0), max(0, width - tw))
        _text(out, caption, (tx, ty), scale, thickness, colour)
        if bars:
            _draw_bars(out, face.probabilities, result.labels, (x, y, w, h), unit)
    return out


def _draw_bars(
    img: np.ndarray,
    probabilities: np.ndarray,
    labels: Tuple[str, ...],
    box: Tuple[int, int, int, int],
    unit: float,
) -> None:
    """One horizontal bar per class beside the face box (right side, or left if no room)."""
    height, width = img.shape[:2]
    x, y, w, h = box
    scale = 0.4 * unit
    thickness = max(1, int(round(unit)))
    row = max(8, int(round(14 * unit)))
    name_w = max(cv2.getTextSize(name[:8], FONT, scale, thickness)[0][0] for name in labels) + 4
    bar_w = int(round(60 * unit))
    panel_w = name_w + bar_w + 4
    px = x + w + 4 if x + w + 4 + panel_w <= width else max(0, x - 4 - panel_w)
    py = min(max(0, y), max(0, height - row * len(labels)))
    for i, (name, p) in enumerate(zip(labels, probabilities)):
        top = py + i * row
        colour = colour_for(name, labels)
        _text(img, name[:8], (px, top + row - 3), scale, thickness, (255, 255, 255))
        length = int(round(float(p) * bar_w))
        cv2.rectangle(
            img, (px + name_w, top + 2), (px + name_w + bar_w, top + row - 2), (60, 60, 60), 1
        )
        if length > 0:
            cv2.rectangle(
                img, (px + name_w, top + 2), (px + name_w + length, top + row - 2), colour, -1
            )
