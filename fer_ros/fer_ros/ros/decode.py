"""Image message -> frame, through cv_bridge when it works and fer_ros's own conversion otherwise.

For raw images, cv_bridge is tried first when asked for (it knows every
encoding); when it cannot be imported (e.g. built against NumPy 1 while NumPy 2 is installed) or
fails on a frame that fer_ros's own conversion decodes, it is dropped for the
rest of the run with one log line. A frame neither can decode raises
:class:`~fer_ros.errors.ImageConversionError`. Compressed images always go
through fer_ros's own decoder: cv_bridge would call ``cv2.imdecode`` on them
just the same, but without first bounding the size the JPEG/PNG header
declares (see :func:`~fer_ros.ros.convert.compressed_to_frame`). No rclpy import here.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

import numpy as np

from ..errors import ImageConversionError
from .convert import compressed_to_frame, image_to_frame

LOG = logging.getLogger(__name__)


def _load_cv_bridge() -> Optional[Any]:
    try:
        from cv_bridge import CvBridge

        return CvBridge()
    except Exception as exc:  # ImportError, or NumPy ABI errors raised while importing
        LOG.info("cv_bridge unavailable (%s); using fer_ros's own image conversion", exc)
        return None


class FrameDecoder:
    """Decodes Image (``compressed=False``) or CompressedImage messages into BGR or grey uint8 frames."""

    def __init__(self, compressed: bool, use_cv_bridge: bool = True,
                 log: Callable[[str], None] = LOG.info) -> None:
        self.compressed = compressed
        self._log = log
        self._own = compressed_to_frame if compressed else image_to_frame
        self._bridge = _load_cv_bridge() if use_cv_bridge and not compressed else None

    @property
    def using_cv_bridge(self) -> bool:
        return self._bridge is not None

    def set_use_cv_bridge(self, use: bool) -> None:
        """Switch cv_bridge on (if it imports; raw images only) or off while running."""
        if not use or self.compressed:
            self._bridge = None
        elif self._bridge is None:
            self._bridge = _load_cv_bridge()

    def _bridge_decode(self, msg: Any) -> np.ndarray:
        if self.compressed:
            return self._bridge.compressed_imgmsg_to_cv2(msg, "bgr8")
        return self._bridge.imgmsg_to_cv2(msg, "bgr8")

    def decode(self, msg: Any) -> np.ndarray:
        if self._bridge is not None:
            try:
                frame = self._bridge_decode(msg)
                if isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.size:
                    return frame
                raise ImageConversionError(f"cv_bridge returned {type(frame).__name__}")
            except Exception as bridge_error:
                frame = self._own(msg)  # raises ImageConversionError if the frame itself is bad
                self._log(f"cv_bridge failed on a frame fer_ros decodes ({bridge_error}); "
                          "using fer_ros's own image conversion from now on")
                self._bridge = None
                return frame
        return self._own(msg)
