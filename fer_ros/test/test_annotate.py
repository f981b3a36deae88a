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

"""Annotation: box in the expression's colour, caption readable from 320x240 to 1920x1080, bars."""

from __future__ import annotations

from fer_ros.annotate import annotate, colour_for, EXPRESSION_COLOURS
from fer_ros.model_metadata import FER2013_LABELS
from fer_ros.results import FaceResult, FrameResult
import numpy as np
import pytest


def _result(width, height, label='happy'):
    side = height // 3
    box = (width // 3, height // 3, side, side)
    p = np.full(7, 0.05, dtype=np.float32)
    p[FER2013_LABELS.index(label)] = 0.7
    face = FaceResult(7, box, 0.9, label, 0.7, p)
    return FrameResult([face], FER2013_LABELS, {}, (width, height)), box


@pytest.mark.parametrize('width, height', [(320, 240), (640, 480), (1920, 1080)])
def test_box_in_expression_colour_and_readable_caption(width, height):
    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    result, (x, y, w, h) = _result(width, height, 'sad')
    out = annotate(frame, result)
    assert out is not frame and np.all(frame == 90)  # input left untouched
    colour = np.array(EXPRESSION_COLOURS['sad'])
    left, right = x - 1, x + 2
    edge = out[y + h // 2, left:right]  # left edge of the box, mid height
    assert np.any(np.all(edge == colour, axis=1))
    # caption above the box: its drawn height scales with the frame and stays legible
    changed_rows = np.where(np.any(out[:y, x:][:, :w] != 90, axis=(1, 2)))[0]
    text_height = changed_rows.max() - changed_rows.min() + 1
    assert text_height >= 9  # legible at 320x240
    assert text_height >= 0.012 * height  # and not tiny at 1080p
    assert text_height <= 0.12 * height


def test_out_buffer_is_reused_and_bars_draw_more():
    frame = np.full((480, 640, 3), 90, dtype=np.uint8)
    result, _ = _result(640, 480)
    out = np.empty_like(frame)
    assert annotate(frame, result, out=out) is out
    plain = out.copy()
    with_bars = annotate(frame, result, out=out, bars=True)
    assert np.count_nonzero(np.any(with_bars != plain, axis=2)) > 500
    # drawing in place on the frame itself works too
    assert annotate(frame, result, out=frame) is frame


def test_faces_at_the_frame_border_do_not_fail():
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    p = np.full(7, 1 / 7, dtype=np.float32)
    faces = [
        FaceResult(1, (-20, -20, 80, 80), 0.9, 'fear', 0.3, p),
        FaceResult(2, (280, 200, 80, 80), 0.9, 'angry', 0.3, p),
    ]
    out = annotate(frame, FrameResult(faces, FER2013_LABELS, {}, (320, 240)), bars=True)
    assert out.shape == frame.shape and out.any()


def test_unknown_labels_get_stable_colours():
    labels = ('calm', 'excited')
    assert colour_for('calm', labels) == colour_for('calm', labels)
    assert colour_for('calm', labels) != colour_for('excited', labels)
