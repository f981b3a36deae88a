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
Width and height of JPEG or PNG data read from its header, without decoding anything.

OpenCV 4.x has no header-only API: ``cv2.imdecode`` allocates the whole
decoded image from the header's declared size before it reads the pixel data,
so a 70-byte PNG declaring 20000 x 20000 pixels costs a 1.2 GB allocation, and
one above OpenCV's own limit (2^30 pixels) makes it raise ``cv2.error``. The
conversion of CompressedImage messages reads the declared size here first and
refuses what it cannot afford. The parsers follow the same structure the
decoders do (PNG: the IHDR chunk that must come first; JPEG: the marker
segments up to the first start-of-frame, skipping stray bytes between markers
as libjpeg does), so they see the size the decoder will allocate. They read a
few bytes per marker segment and copy nothing. Runs of stray or fill
bytes are searched with numpy, so a long garbage buffer costs one vectorised
pass, not a Python loop per byte. No ROS, no OpenCV here.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..errors import ImageConversionError

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# Start-of-frame markers: every JPEG coding process (C4 is DHT, C8 reserved, CC is DAC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone (no length field): TEM and the restart markers.
_JPEG_STANDALONE = frozenset({0x01}) | frozenset(range(0xD0, 0xD8))
_JPEG_SOS, _JPEG_EOI, _JPEG_SOI = 0xDA, 0xD9, 0xD8


def png_size(data: memoryview) -> Tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; raises ImageConversionError if it is not a PNG."""
    if len(data) < 24 or bytes(data[:8]) != PNG_SIGNATURE:
        raise ImageConversionError('not a PNG (no PNG signature at the start)')
    if bytes(data[12:16]) != b'IHDR':
        raise ImageConversionError('not a PNG (the first chunk is not IHDR)')
    width = int.from_bytes(data[16:20], 'big')
    height = int.from_bytes(data[20:24], 'big')
    return width, height


def jpeg_size(data: memoryview) -> Tuple[int, int]:
    """
    (width, height) from a JPEG's first start-of-frame segment.

    Raises ImageConversionError if the data does not start with a JPEG
    start-of-image marker, or ends, or reaches the image data, before a frame
    header.
    """
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != _JPEG_SOI:
        raise ImageConversionError('not a JPEG (no start-of-image marker at the start)')
    i = 2
    while True:
        if i < n and data[i] != 0xFF:  # stray bytes between segments: libjpeg skips them too
            i = _first(data, i, 0xFF, equal=True)
        i += 1  # the 0xFF that starts a marker
        if i < n and data[i] == 0xFF:  # fill bytes
            i = _first(data, i, 0xFF, equal=False)
        if i >= n:
            raise ImageConversionError('truncated JPEG: no frame header (SOF marker)')
        marker = data[i]
        i += 1
        if marker == 0x00 or marker in _JPEG_STANDALONE:  # 0xFF00 is a stuffed byte, not a marker
            continue
        if marker in (_JPEG_SOS, _JPEG_EOI, _JPEG_SOI):
            raise ImageConversionError(
                f'corrupt JPEG: marker 0x{marker:02X} before any frame header'
            )
        if i + 2 > n:
            raise ImageConversionError('truncated JPEG: marker segment cut short')
        length = data[i] << 8 | data[i + 1]
        if length < 2:
            raise ImageConversionError(f'corrupt JPEG: marker 0x{marker:02X} with length {length}')
        if marker in _JPEG_SOF:
            if i + 7 > n:
                raise ImageConversionError('truncated JPEG: frame header cut short')
            # length (2), sample precision (1), height (2), width (2)
            height = data[i + 3] << 8 | data[i + 4]
            width = data[i + 5] << 8 | data[i + 6]
            return width, height
        i += length


def _first(data: memoryview, start: int, value: int, equal: bool) -> int:
    """
    Index of the first byte at or after ``start`` that is (``equal``) or is not ``value``.

    Len if none.
    """
    rest = np.frombuffer(data, dtype=np.uint8)[start:]
    hits = rest == value if equal else rest != value
    index = int(np.argmax(hits))
    return start + index if rest.size and hits[index] else len(data)
