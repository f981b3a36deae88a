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
Image message -> frame: fer_ros's own conversion, and cv_bridge for the encodings only it knows.

fer_ros's own conversion (:mod:`fer_ros.ros.convert`) decodes the encodings
cameras publish and checks every field against the data first (fuzz-tested).
cv_bridge, when asked for and importable, is used only for the other raw
encodings (Bayer patterns, 16UC3, ...). It trusts ``step``: a message whose
step is shorter than a row comes back from it as a frame of the wrong width
(found by publishing such frames to the node), so its frames are accepted only
with the declared height and width, and as uint8 grey or BGR; anything else,
or anything it raises, is an :class:`~fer_ros.errors.ImageConversionError`.
Compressed images always go through fer_ros's own decoder: cv_bridge would call
``cv2.imdecode`` on them just the same, but without first bounding the size the
JPEG/PNG header declares (see :func:`~fer_ros.ros.convert.compressed_to_frame`).
cv_bridge may fail to import (built against NumPy 1 while NumPy 2 is installed,
some Jetson OpenCV builds); fer_ros then runs without it. No rclpy import here.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

import numpy as np

from .convert import ALIASES, compressed_to_frame, ENCODINGS, image_to_frame
from ..errors import ImageConversionError

LOG = logging.getLogger(__name__)


def _load_cv_bridge() -> Optional[Any]:
    try:
        from cv_bridge import CvBridge

        return CvBridge()
    except Exception as exc:  # ImportError, or NumPy ABI errors raised while importing
        LOG.info("cv_bridge unavailable (%s); using fer_ros's own image conversion", exc)
        return None


class FrameDecoder:
    """
    Decode Image or CompressedImage messages into BGR or grey uint8 frames.

    ``compressed`` says which of the two the messages are.
    """

    def __init__(
        self, compressed: bool, use_cv_bridge: bool = True, log: Callable[[str], None] = LOG.info
    ) -> None:
        self.compressed = compressed
        self._log = log
        self._own = compressed_to_frame if compressed else image_to_frame
        self._bridge = _load_cv_bridge() if use_cv_bridge and not compressed else None

    @property
    def using_cv_bridge(self) -> bool:
        """Whether encodings fer_ros does not know go to cv_bridge."""
        return self._bridge is not None

    @property
    def description(self) -> str:
        """Return what decodes frames, for logs and diagnostics."""
        return 'fer_ros, cv_bridge for other encodings' if self.using_cv_bridge else 'fer_ros'

    def set_use_cv_bridge(self, use: bool) -> None:
        """Switch cv_bridge on (if it imports; raw images only) or off while running."""
        if not use or self.compressed:
            self._bridge = None
        elif self._bridge is None:
            self._bridge = _load_cv_bridge()

    def decode(self, msg: Any) -> np.ndarray:
        if self._bridge is None or str(msg.encoding) in ENCODINGS or str(msg.encoding) in ALIASES:
            return self._own(msg)
        try:
            frame = self._bridge.imgmsg_to_cv2(msg, 'bgr8')
            expected = (int(msg.height), int(msg.width))
        except Exception as exc:  # cv_bridge raises its own and numpy's errors
            raise ImageConversionError(
                f'cv_bridge cannot decode {msg.encoding!r} image: {exc}'
            ) from None
        if not (
            isinstance(frame, np.ndarray)
            and frame.dtype == np.uint8
            and frame.shape[:2] == expected
            and (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3))
        ):
            got = (
                f'{frame.dtype} {frame.shape}'
                if isinstance(frame, np.ndarray)
                else type(frame).__name__
            )
            raise ImageConversionError(
                f'cv_bridge decoded a {msg.encoding!r} image as {got}, but the message declares '
                f'{expected[1]}x{expected[0]} pixels (step {msg.step})'
            )
        return frame
