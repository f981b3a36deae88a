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
Helpers for the ROS-side tests: frames with real FER2013 faces, and a small test model.

Faces are FER2013 PrivateTest crops enlarged into a plain frame, the framing the
expression models are trained on, so the Haar detector finds real faces.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
import struct
from typing import Any, List, Tuple
import zlib

import cv2
from fer_ros.model_metadata import FER2013_LABELS, ModelInfo
import numpy as np

FRAME_SIZE = (320, 240)  # width, height

# Set by .ci/run, which installs rclpy and builds fer_ros_msgs: there a missing module is a
# failure.
REQUIRE_ROS_ENV = 'FER_ROS_REQUIRE_RCLPY'


def ros_module(name: str, reason: str) -> Any:
    """
    Import ``name``, or skip the test module with ``reason``.

    In CI (``FER_ROS_REQUIRE_RCLPY=1``) a missing module fails instead, so the node tests
    cannot skip silently there.
    """
    import pytest

    if os.environ.get(REQUIRE_ROS_ENV) == '1':
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            pytest.fail(f'{REQUIRE_ROS_ENV}=1 but {name} cannot be imported: {exc}', pytrace=False)
    return pytest.importorskip(name, reason=reason)


def face_frame(
    face48: np.ndarray, side: int = 150, origin: Tuple[int, int] = (80, 40)
) -> np.ndarray:
    """Return a BGR frame with one FER2013 face of ``side`` pixels at ``origin`` on mid-grey."""
    width, height = FRAME_SIZE
    frame = np.full((height, width), 128, dtype=np.uint8)
    x, y = origin
    frame[y:, x:][:side, :side] = cv2.resize(face48, (side, side), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def detectable_faces(dataset, count: int, start: int = 0) -> List[np.ndarray]:
    """
    Return the first ``count`` PrivateTest faces, from ``start``, that the detector finds.

    Picking faces the pipeline's default detector finds keeps these tests about the
    ROS plumbing, not about detector recall (which the benchmarks measure).
    """
    from fer_ros.detection import create_detector
    from fer_ros.settings import PipelineSettings

    s = PipelineSettings()
    detector = create_detector(
        s.detector,
        s.detector_model,
        detection_width=s.detection_width,
        min_face_size=s.min_face_size,
        max_faces=s.max_faces,
        face_margin=s.face_margin,
        score_threshold=s.score_threshold,
    )
    found = []
    for face in dataset.images[start:]:
        bgr = face_frame(face)
        if len(detector.detect(bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))) == 1:
            found.append(face)
            if len(found) == count:
                break
    return found


def tiny_model(path: Path) -> Path:
    """
    Return a small valid fer_ros model with full metadata.

    A linear classifier on grey 48x48 faces.
    """
    from tiny_models import linear_softmax_model

    info = ModelInfo(labels=FER2013_LABELS, preprocessing='grey', input_size=48)
    return linear_softmax_model(path, metadata=info.to_metadata())


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, payload and its CRC."""
    crc = struct.pack('>I', zlib.crc32(kind + payload))
    return struct.pack('>I', len(payload)) + kind + payload + crc


def png_declaring(width: int, height: int) -> bytes:
    """Return a 67-byte PNG declaring width x height RGB pixels (a decompression bomb)."""
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (
        b'\x89PNG\r\n\x1a\n'
        + png_chunk(b'IHDR', ihdr)
        + png_chunk(b'IDAT', zlib.compress(b'\0' * 10))
        + png_chunk(b'IEND', b'')
    )


def bad_parameter_values(spec) -> List[Tuple[str, object]]:
    """
    Return (what is wrong, value) for one node parameter.

    Out of range on each bounded side, and ill-typed.

    ``spec`` is a :class:`fer_ros.settings.SettingSpec`. Shared by the ROS-free parameter
    test and the rclpy one, so both try exactly the same values.
    """
    wrong_types = {
        bool: [
            ('int for bool', 1),
            ('string for bool', 'true'),
            ('float for bool', 1.0),
            ('list', [True]),
        ],
        int: [
            ('string for int', '7'),
            ('float for int', 7.0),
            ('bool for int', True),
            ('list', [7]),
        ],
        float: [
            ('string for float', '0.5'),
            ('int for float', 1),
            ('bool for float', False),
            ('list', [0.5]),
        ],
        str: [
            ('int for string', 3),
            ('float for string', 1.5),
            ('bool for string', True),
            ('list', ['haar']),
        ],
        list: [
            ('string for list', 'CPUExecutionProvider'),
            ('ints', [1, 2]),
            ('empty', []),
            ('float for list', 2.5),
        ],
    }[spec.type]
    out = list(wrong_types)
    if spec.min is not None:
        below = spec.min - (1 if spec.type is int else 0.001 * max(1.0, abs(spec.min)) + 0.001)
        out.append(('below min', int(below) if spec.type is int else float(below)))
    if spec.max is not None:
        above = spec.max + (1 if spec.type is int else 0.001 * max(1.0, abs(spec.max)) + 0.001)
        out.append(('above max', int(above) if spec.type is int else float(above)))
    if spec.type is float:
        out.append(('NaN', float('nan')))
    if spec.choices is not None:
        out.append(
            ('unknown choice', ['NoSuchProvider'] if spec.type is list else 'no_such_choice')
        )
    return out
