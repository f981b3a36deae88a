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
sensor_msgs Image / CompressedImage <-> numpy frames, without cv_bridge.

cv_bridge breaks with NumPy 2 and on some Jetson OpenCV builds, so fer_ros
carries its own conversion for the encodings cameras publish. It reads message
*fields* only (``height``, ``width``, ``encoding``, ``is_bigendian``, ``step``,
``data``; ``format`` and ``data`` for compressed images), so it serves rclpy
messages and rosbags dataclasses alike, and imports no ROS code.

Frames come back as uint8 BGR (H x W x 3) or, for mono encodings, grey (H x W),
which the pipeline takes as is. Anything malformed raises
:class:`~fer_ros.errors.ImageConversionError` saying what is wrong, and
nothing else: the message fields are checked before they are used, and nothing
is allocated beyond what the message justifies (a raw image's size is checked
against its data before anything is built; a compressed image's declared size
is read from its header and bounded by :data:`MAX_DECODED_PIXELS` before it is
decoded). ``fer_ros/test/test_convert_fuzz.py`` holds these properties.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

import cv2
import numpy as np

from .image_header import jpeg_size, png_size
from ..annotate import annotate
from ..errors import ImageConversionError
from ..results import FrameResult

# encoding -> (bytes per pixel, converter from the (H x W*bpp) uint8 rows to a frame)
_Converter = Callable[[np.ndarray, int, int, bool], np.ndarray]


def _channels(rows: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    return rows.reshape(height, width, channels)


def _bgr8(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    return _channels(rows, h, w, 3)


def _rgb8(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    return cv2.cvtColor(_channels(rows, h, w, 3), cv2.COLOR_RGB2BGR)


def _bgra8(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    return cv2.cvtColor(_channels(rows, h, w, 4), cv2.COLOR_BGRA2BGR)


def _rgba8(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    return cv2.cvtColor(_channels(rows, h, w, 4), cv2.COLOR_RGBA2BGR)


def _mono8(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    return rows.reshape(h, w)


def _mono16(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
    # Scaled to 8 bits over the full 16-bit range, as cv_bridge converts mono16 -> mono8.
    values = rows.view('>u2' if big else '<u2').reshape(h, w)
    return (values >> 8).astype(np.uint8)


def _yuv422(code: int) -> _Converter:
    def convert(rows: np.ndarray, h: int, w: int, big: bool) -> np.ndarray:
        return cv2.cvtColor(rows.reshape(h, w, 2), code)

    return convert


ENCODINGS: Dict[str, Tuple[int, _Converter]] = {
    'bgr8': (3, _bgr8),
    'rgb8': (3, _rgb8),
    'bgra8': (4, _bgra8),
    'rgba8': (4, _rgba8),
    'mono8': (1, _mono8),
    'mono16': (2, _mono16),
    'yuv422': (2, _yuv422(cv2.COLOR_YUV2BGR_UYVY)),  # UYVY byte order
    'yuv422_yuy2': (2, _yuv422(cv2.COLOR_YUV2BGR_YUY2)),  # YUYV byte order
}
# Names some drivers use for the same layouts (OpenCV type names, newer ROS names).
ALIASES = {
    '8UC1': 'mono8',
    '8UC3': 'bgr8',
    '8UC4': 'bgra8',
    '16UC1': 'mono16',
    'uyvy': 'yuv422',
    'yuyv': 'yuv422_yuy2',
}

SUPPORTED_ENCODINGS = tuple(ENCODINGS) + tuple(ALIASES)
COMPRESSED_FORMATS = ('jpeg', 'jpg', 'png')
# Largest compressed image decoded, in pixels: 8K UHD (7680 x 4320), about 100 MB as BGR.
# The decoder allocates the whole image from the size its header declares, so without
# this bound a few bytes of PNG or JPEG could ask for gigabytes.
MAX_DECODED_PIXELS = 7680 * 4320


def _uint_field(msg: Any, name: str) -> int:
    """Return an unsigned integer field of the message, as a Python int."""
    value = getattr(msg, name, None)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ImageConversionError(f'image field {name}={value!r} is not an integer')
    return int(value)


def _buffer(data: Any) -> np.ndarray:
    """
    Return the message's data field as a flat uint8 array, without copying where possible.

    rclpy gives ``array.array('B')``, rosbags a uint8 ndarray, hand-made messages
    bytes or a list of ints; anything that is not a sequence of bytes raises
    ImageConversionError.
    """
    try:
        if isinstance(data, np.ndarray):
            if data.dtype.itemsize != 1 or data.dtype.kind not in 'uib':
                raise TypeError(f'data is an array of {data.dtype}, not of bytes')
            return np.ascontiguousarray(data.reshape(-1)).view(np.uint8)  # strided views: copied
        try:
            return np.frombuffer(data, dtype=np.uint8)
        except TypeError:  # a plain list of ints
            if isinstance(data, (str, bytes)):
                raise
            return np.asarray(data, dtype=np.uint8).reshape(-1)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ImageConversionError(f'image data is not a sequence of bytes: {exc}') from None


def image_to_frame(msg: Any) -> np.ndarray:
    """
    Decode a sensor_msgs/Image into a uint8 BGR frame, or a grey frame for mono encodings.

    Honours ``step`` (row padding) and ``is_bigendian`` (for 16-bit data). Raises
    :class:`ImageConversionError` for unsupported encodings, impossible sizes and
    truncated data.
    """
    encoding = str(msg.encoding)
    name = ALIASES.get(encoding, encoding)
    if name not in ENCODINGS:
        raise ImageConversionError(
            f'unsupported image encoding {encoding!r}; supported: {", ".join(SUPPORTED_ENCODINGS)}'
        )
    bpp, convert = ENCODINGS[name]
    height, width, step = (
        _uint_field(msg, 'height'),
        _uint_field(msg, 'width'),
        _uint_field(msg, 'step'),
    )
    if height <= 0 or width <= 0:
        raise ImageConversionError(f'empty image: {width}x{height} {encoding}')
    if name.startswith('yuv422') and width % 2:
        raise ImageConversionError(
            f'{encoding} needs an even width (2 pixels share U and V), got {width}'
        )
    row_bytes = width * bpp
    if step < row_bytes:
        raise ImageConversionError(
            f'step {step} is less than width x bytes per pixel = {width} x {bpp} = {row_bytes} '
            f'({encoding})'
        )
    data = _buffer(msg.data)
    needed = step * (height - 1) + row_bytes
    if data.size < needed:
        raise ImageConversionError(
            f'truncated image data: {data.size} bytes for {width}x{height} {encoding} with step '
            f'{step} '
            f'(needs {needed})'
        )
    if step == row_bytes or height == 1:  # (one row: the step is irrelevant, and may be absurd)
        rows = data[: height * row_bytes].reshape(height, row_bytes)
    else:  # drop the padding at the end of each row
        rows = np.lib.stride_tricks.as_strided(data, shape=(height, row_bytes), strides=(step, 1))
        rows = np.ascontiguousarray(rows)
    return convert(rows, height, width, _uint_field(msg, 'is_bigendian') != 0)


def _check_complete(data: np.ndarray, compression: str) -> None:
    """Reject truncated JPEG/PNG data, which some OpenCV versions decode into a half-grey frame."""
    tail = bytes(data[-16:]).rstrip(b'\x00')  # some drivers pad the buffer with zeros
    if compression == 'png':
        complete = b'IEND' in tail
    else:
        complete = tail.endswith(b'\xff\xd9')  # JPEG end-of-image marker
    if not complete:
        raise ImageConversionError(
            f'corrupt {compression} data ({data.size} bytes): truncated, no end-of-image marker'
        )


def _declared_size(data: np.ndarray, compression: str) -> Tuple[int, int]:
    """(width, height) the JPEG/PNG header declares, checked against :data:`MAX_DECODED_PIXELS`."""
    try:
        width, height = (png_size if compression == 'png' else jpeg_size)(memoryview(data))
    except ImageConversionError as exc:
        raise ImageConversionError(
            f'corrupt {compression} data ({data.size} bytes): {exc}'
        ) from None
    if width == 0 or height == 0:
        raise ImageConversionError(
            f'corrupt {compression} data: its header declares {width}x{height} pixels'
        )
    if width * height > MAX_DECODED_PIXELS:
        raise ImageConversionError(
            f'{compression} image of {width}x{height} pixels ({data.size} bytes) is larger than '
            f'the '
            f'{MAX_DECODED_PIXELS} pixels (8K UHD) fer_ros decodes; not decoded'
        )
    return width, height


def compressed_to_frame(msg: Any) -> np.ndarray:
    """
    Decode a sensor_msgs/CompressedImage (JPEG or PNG) into a uint8 BGR frame.

    The data must be what ``format`` says (JPEG or PNG, checked by signature),
    complete, and declare at most :data:`MAX_DECODED_PIXELS` pixels in its header;
    all of that is checked before decoding.
    """
    raw_format = str(getattr(msg, 'format', ''))
    fmt = raw_format.lower()
    # `format` is e.g. "jpeg", "png" or image_transport's "bgr8; jpeg compressed bgr8".
    compression = fmt.split(';')[-1].strip().split(' ')[0] if fmt else ''
    if compression not in COMPRESSED_FORMATS:
        raise ImageConversionError(
            f'unsupported compressed image format {raw_format!r}; supported: JPEG and PNG '
            '(compressedDepth and other transports are not)'
        )
    compression = 'png' if compression == 'png' else 'jpeg'
    data = _buffer(getattr(msg, 'data', None))
    if data.size == 0:
        raise ImageConversionError('empty compressed image')
    width, height = _declared_size(data, compression)
    _check_complete(data, compression)
    try:
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageConversionError(
            f'corrupt {compression} data ({data.size} bytes): {exc}'
        ) from None
    if frame is None:
        raise ImageConversionError(
            f'corrupt {compression} data ({data.size} bytes) cannot be decoded'
        )
    # EXIF orientation may swap the sides; anything else means the header parse and the decoder
    # disagree.
    if frame.shape[:2] not in ((height, width), (width, height)):
        raise ImageConversionError(
            f'corrupt {compression} data: decoded {frame.shape[1]}x{frame.shape[0]}, '
            f'header says {width}x{height}'
        )
    return frame


def frame_to_image(kit: Any, header: Any, frame: np.ndarray) -> Any:
    """
    Return a bgr8 (or mono8 for grey frames) sensor_msgs/Image of ``frame`` with ``header``.

    ``kit`` is a :class:`~fer_ros.ros.messages.MessageKit`.
    """
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f'expected a uint8 BGR or grey frame, got {frame.dtype} {frame.shape}')
    height, width = frame.shape[:2]
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    encoding = {1: 'mono8', 3: 'bgr8'}.get(channels)
    if encoding is None:
        raise ValueError(f'expected 1 or 3 channels, got {channels}')
    return kit.image(
        header=header,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=width * channels,
        data=kit.uint8_array(frame),
    )


def annotated_image(
    kit: Any,
    header: Any,
    frame: np.ndarray,
    result: FrameResult,
    canvas: Optional[np.ndarray] = None,
) -> Tuple[Any, np.ndarray]:
    """
    (bgr8 Image message of ``frame`` with ``result`` drawn on it, the canvas to pass next time).

    Grey frames are drawn in colour; the canvas is reused while the frame size stays the same.
    """
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if canvas is None or canvas.shape != frame.shape:
        canvas = np.empty_like(frame)
    annotate(frame, result, out=canvas)
    return frame_to_image(kit, header, canvas), canvas
