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
Property-based fuzzing of the image message conversion (issue #6, item 1).

Every sensor_msgs/Image or CompressedImage, however malformed, must give either
a valid frame (uint8, C-contiguous, the declared height and width; BGR, or grey
for mono encodings) or :class:`ImageConversionError`, never another exception,
and must not allocate more than the message justifies:

* raw images: the peak of memory traced during the conversion stays within
  ``2 x (data bytes + output bytes) + 64 KiB``, whatever height, width and step
  the message declares (e.g. 2^31 x 2^31 with 10 bytes of data);
* compressed images: ``cv2.imdecode`` (which allocates the whole image from the
  header's declared size before reading any pixel data) is only ever called on
  data whose header declares at most ``MAX_DECODED_PIXELS``, as read by an
  independent parser (Pillow), and the traced peak stays within
  ``2 x (data bytes + 3 x declared pixels) + 256 KiB``.

Messages are plain objects carrying the message fields (the conversion reads
fields only, as it does for rclpy and rosbags messages). The runs are
derandomized (same cases every run, no example database), so CI is
reproducible; ``CASES`` below adds up to the number of cases per run.
"""

from __future__ import annotations

import array
import io
import os
import struct
import tracemalloc
from types import SimpleNamespace
from unittest import mock
import warnings

import cv2
import numpy as np
import pytest

pytest.importorskip('hypothesis', reason='hypothesis is in the dev extra')
PIL = pytest.importorskip(
    'PIL.Image', reason='Pillow (dev extra) reads image headers independently'
)
PIL.MAX_IMAGE_PIXELS = (
    None  # Pillow only reads headers here; its own bomb guard would hide the size
)
from fer_ros.errors import ImageConversionError  # noqa: E402, I100 (after the skip check)
from fer_ros.ros.convert import (  # noqa: E402
    ALIASES,
    compressed_to_frame,
    ENCODINGS,
    image_to_frame,
    MAX_DECODED_PIXELS,
)
from hypothesis import given, HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from ros_fixtures import png_chunk, png_declaring  # noqa: E402

CASES = {'raw_valid': 2500, 'raw_malformed': 4000, 'compressed': 3000, 'compressed_huge': 600}
# FER_ROS_FUZZ_SCALE=10 runs ten times as many cases (a longer campaign than CI's).
SCALE = float(os.environ.get('FER_ROS_FUZZ_SCALE', '1'))


def fuzz(test_name: str) -> settings:
    return settings(
        max_examples=max(1, int(CASES[test_name] * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ENCODING_NAMES = tuple(ENCODINGS) + tuple(ALIASES)
BYTES_PER_PIXEL = {name: ENCODINGS[ALIASES.get(name, name)][0] for name in ENCODING_NAMES}
MONO = {'mono8', 'mono16', '8UC1', '16UC1'}
RAW_BYTES_IDENTITY = {
    'bgr8',
    '8UC3',
    'mono8',
    '8UC1',
}  # the frame is the data minus the row padding


def _random_bytes(draw, size: int) -> bytes:
    """Draw ``size`` random bytes (cheaper than st.binary when only the length matters)."""
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).bytes(size)


def _container(data: bytes, kind: str):
    """Return the data field as rclpy (array.array), rosbags (ndarray) or our messages hold it."""
    return {
        'bytes': lambda: data,
        'ndarray': lambda: np.frombuffer(data, np.uint8).copy(),
        'array': lambda: array.array('B', data),
        'list': lambda: list(data),
        # non-contiguous views with the same content: every 2nd byte, and reversed
        'strided': lambda: np.repeat(np.frombuffer(data, np.uint8), 2)[::2],
        'reversed': lambda: np.frombuffer(data[::-1], np.uint8)[::-1],
    }[kind]()


def _measured(convert, msg):
    """(frame or the ImageConversionError, peak bytes traced during the call)."""
    tracemalloc.start()
    try:
        try:
            out = convert(msg)
        except ImageConversionError as exc:
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check_frame(frame, height: int, width: int, grey: bool) -> None:
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.flags.c_contiguous
    assert frame.shape == ((height, width) if grey else (height, width, 3))


# -- raw sensor_msgs/Image
# -------------------------------------------------------------------------


_CONTAINER_KINDS = st.sampled_from(['bytes', 'ndarray', 'array', 'list', 'strided', 'reversed'])


@st.composite
def valid_images(draw):
    """Draw well-formed messages: every encoding, random sizes, row padding and containers."""
    encoding = draw(st.sampled_from(ENCODING_NAMES))
    bpp = BYTES_PER_PIXEL[encoding]
    height = draw(st.integers(1, 12))
    width = (
        draw(st.integers(1, 6)) * 2
        if encoding.startswith(('yuv422', 'uyvy', 'yuyv'))
        else draw(st.integers(1, 12))
    )
    pad = draw(st.integers(0, 7))
    step = width * bpp + pad
    size = (
        step * (height - 1) + width * bpp + draw(st.sampled_from([0, pad]))
    )  # last row's padding optional
    data = _random_bytes(draw, size)
    msg = SimpleNamespace(
        height=height,
        width=width,
        encoding=encoding,
        step=step,
        is_bigendian=draw(st.integers(0, 1)),
        data=_container(data, draw(_CONTAINER_KINDS)),
    )
    return msg, data


@fuzz('raw_valid')
@given(valid_images())
def test_every_encoding_with_random_shapes_and_padding_decodes(case):
    msg, data = case
    frame, peak = _measured(image_to_frame, msg)
    _check_frame(frame, msg.height, msg.width, msg.encoding in MONO)
    if msg.encoding in RAW_BYTES_IDENTITY:
        row_bytes = msg.width * BYTES_PER_PIXEL[msg.encoding]
        starts = range(0, msg.height * msg.step, msg.step)
        rows = [data[start:][:row_bytes] for start in starts]
        assert frame.tobytes() == b''.join(rows)
    assert peak <= 2 * (len(data) + frame.nbytes) + 64 * 1024


_SIZES = st.one_of(
    st.integers(0, 16),
    st.integers(17, 5000),
    st.integers(-5, -1),
    st.sampled_from([2**31 - 1, 2**31, 2**32 - 1, 2**63, 2**64 + 1]),
)
_ODD_ENCODINGS = st.one_of(
    st.sampled_from(ENCODING_NAMES),
    st.sampled_from(ENCODING_NAMES).map(str.upper),
    st.sampled_from(ENCODING_NAMES).map(str.title),
    st.sampled_from(ENCODING_NAMES).map(lambda e: f' {e}'),
    st.sampled_from(
        ['', 'bayer_rggb8', '32FC1', '16UC3', 'rgb16', 'bgra16', 'nv21', 'jpeg', '8UC2']
    ),
    st.text(max_size=12),
)
_NOT_INTS = st.one_of(
    st.none(), st.floats(allow_nan=True), st.text(max_size=4), st.booleans(), st.just([1, 2])
)


_ODD_CONTAINERS = [
    None,
    'text',
    [256, -1],
    [[1, 2], [3, 4]],
    np.zeros(3, np.float64),
    np.zeros((2, 3), np.uint8).T,
    np.array([object()]),
    3.5,
    np.arange(120, dtype=np.uint8)[::-1],
    np.arange(240, dtype=np.uint8)[::2],
]
_SPOILS = st.lists(
    st.sampled_from(['encoding', 'height', 'width', 'step', 'data', 'container', 'type']),
    min_size=1,
    max_size=3,
)
_NEAR = st.integers(-3, 3)
_SIZE_FIELDS = st.sampled_from(['height', 'width', 'step', 'is_bigendian'])


@st.composite
def malformed_images(draw):
    """
    Draw broken messages.

    Sizes that disagree with the data, wrong steps, zero/negative/huge sizes, odd encodings and
    fields.

    Half are well-formed messages with one to three things spoiled (so the checks deep in
    the conversion are reached), half are random throughout.
    """
    if draw(st.booleans()):
        msg, data = draw(valid_images())
        fields = {
            k: getattr(msg, k) for k in ('encoding', 'height', 'width', 'step', 'is_bigendian')
        }
        container = msg.data
        spoils = draw(_SPOILS)
        for spoil in sorted(spoils, key=lambda name: name == 'type'):  # wrong types last
            if spoil == 'encoding':
                fields['encoding'] = draw(_ODD_ENCODINGS)
            elif spoil in ('height', 'width', 'step'):
                fields[spoil] = (
                    draw(_SIZES) if draw(st.booleans()) else fields[spoil] + draw(_NEAR)
                )
            elif spoil == 'data':
                container = _container(data[: draw(st.integers(0, len(data)))], 'bytes')
            elif spoil == 'container':
                container = draw(st.sampled_from(_ODD_CONTAINERS))
            else:
                fields[draw(_SIZE_FIELDS)] = draw(_NOT_INTS)
        return SimpleNamespace(data=container, **fields), data
    encoding = draw(_ODD_ENCODINGS)
    height, width = draw(_SIZES), draw(_SIZES)
    bpp = BYTES_PER_PIXEL.get(encoding, draw(st.integers(1, 4)))
    step = draw(_SIZES) if draw(st.booleans()) else max(width, 0) * bpp + draw(_NEAR)
    if draw(st.booleans()):
        size = draw(st.integers(0, 64))
    else:  # about what the declared sizes need
        size = max(0, min(step * max(height, 0) + draw(st.integers(-8, 8)), 20000))
    data = _random_bytes(draw, size)
    fields = {
        'height': height,
        'width': width,
        'step': step,
        'is_bigendian': draw(st.integers(0, 1)),
    }
    if draw(st.integers(0, 9)) == 0:  # now and then a field of the wrong type
        fields[draw(_SIZE_FIELDS)] = draw(_NOT_INTS)
    kind = draw(st.sampled_from(['bytes', 'ndarray', 'array', 'list', 'odd']))
    if kind == 'odd':
        container = draw(st.sampled_from(_ODD_CONTAINERS))
        data = b'' if not isinstance(container, np.ndarray) else b'\0' * container.nbytes
    else:
        container = _container(data, kind)
    return SimpleNamespace(encoding=encoding, data=container, **fields), data


@fuzz('raw_malformed')
@given(malformed_images())
def test_malformed_images_raise_conversion_error_and_allocate_little(case):
    msg, data = case
    out, peak = _measured(image_to_frame, msg)
    if isinstance(out, ImageConversionError):
        assert peak <= 2 * len(data) + 64 * 1024
        return
    assert msg.encoding in ENCODING_NAMES, 'only the documented encodings are decoded'
    _check_frame(out, msg.height, msg.width, msg.encoding in MONO)
    assert peak <= 2 * (len(data) + out.nbytes) + 64 * 1024


@pytest.mark.parametrize(
    'height, width', [(2**31, 2**31), (2**32 - 1, 1), (1, 2**32 - 1), (10**5, 10**5)]
)
def test_huge_declared_sizes_are_rejected_without_allocating(height, width):
    msg = SimpleNamespace(
        height=height,
        width=width,
        encoding='bgr8',
        step=width * 3,
        is_bigendian=0,
        data=b'0123456789',
    )
    out, peak = _measured(image_to_frame, msg)
    assert isinstance(out, ImageConversionError) and 'truncated' in str(out)
    assert peak < 64 * 1024


# -- sensor_msgs/CompressedImage -----------------------------------------------------------------

FORMATS = {
    'jpeg': ['jpeg', 'jpg', 'JPEG', 'rgb8; jpeg compressed bgr8', 'bgr8; jpeg compressed bgr8'],
    'png': ['png', 'PNG', 'bgr8; png compressed bgr8', 'mono8; png compressed mono8'],
}
_ODD_FORMATS = st.one_of(
    st.sampled_from(
        ['', 'jpeg2000', 'webp', '16UC1; compressedDepth', 'raw', 'bmp', 'tiff', 'jpe g', ';']
    ),
    st.text(max_size=20),
)


def _declared_pixels(data: bytes) -> int:
    """
    Pixels the header declares, read by Pillow (independent of fer_ros's parser).

    0 if unreadable.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', PIL.DecompressionBombWarning)
            with PIL.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Exception:
        return 0
    return width * height


class DecodeSpy:
    """
    Stands in for cv2.imdecode while ``data`` is converted.

    Counts calls, refuses unaffordable ones.

    ``declared`` is what the data's header declares, read by Pillow before the conversion
    (so no Pillow work is traced). A call on data declaring more than MAX_DECODED_PIXELS
    is counted and not decoded, so a missing size check fails the test instead of
    allocating gigabytes.
    """

    def __init__(self, data: bytes) -> None:
        self.real = cv2.imdecode
        self.declared = _declared_pixels(data)
        self.calls = 0
        self.unaffordable_calls = 0

    def __call__(self, buf, flags):
        self.calls += 1
        if self.declared > MAX_DECODED_PIXELS:
            self.unaffordable_calls += 1
            return None
        return self.real(buf, flags)


@st.composite
def encoded_images(draw, max_side: int = 40):
    """Draw (compression, data, (width, height)): a JPEG or PNG of random pixels by OpenCV."""
    compression = draw(st.sampled_from(['jpeg', 'png']))
    height, width = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    channels = draw(st.sampled_from([1, 3] if compression == 'jpeg' else [1, 3, 4]))
    dtype = np.uint16 if compression == 'png' and draw(st.booleans()) else np.uint8
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pixels = rng.integers(0, np.iinfo(dtype).max + 1, (height, width, channels), dtype=dtype)
    if draw(st.booleans()):  # smooth images compress well, random ones do not
        pixels = np.sort(pixels, axis=1)
    if compression == 'jpeg':
        params = [
            cv2.IMWRITE_JPEG_QUALITY,
            draw(st.integers(1, 100)),
            cv2.IMWRITE_JPEG_PROGRESSIVE,
            int(draw(st.booleans())),
        ]
        ok, buf = cv2.imencode('.jpg', pixels, params)
    else:
        ok, buf = cv2.imencode(
            '.png', pixels, [cv2.IMWRITE_PNG_COMPRESSION, draw(st.integers(0, 9))]
        )
    assert ok
    return compression, buf.tobytes(), (width, height)


@st.composite
def compressed_messages(draw):
    """
    Draw compressed data: valid, truncated, bit-flipped, padded, spliced or garbage.

    JPEG or PNG, with valid and odd formats.
    """
    compression, data, size = draw(encoded_images())
    mutation = draw(
        st.sampled_from(
            [
                'none',
                'zero_pad',
                'truncate',
                'flip',
                'insert',
                'random',
                'signature_then_garbage',
                'other_format',
            ]
        )
    )
    if mutation == 'zero_pad':
        data += b'\0' * draw(st.integers(1, 8))
    elif mutation == 'truncate':
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif mutation == 'flip':
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            buf[draw(st.integers(0, len(buf) - 1))] ^= draw(st.integers(1, 255))
        data = bytes(buf)
    elif mutation == 'insert':
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    elif mutation == 'random':
        data = draw(st.binary(max_size=300))
    elif mutation == 'signature_then_garbage':
        head = b'\xff\xd8\xff' if compression == 'jpeg' else b'\x89PNG\r\n\x1a\n'
        tail = b'\xff\xd9' if compression == 'jpeg' else b'IEND\xaeB`\x82'
        data = head + draw(st.binary(max_size=200)) + draw(st.sampled_from([b'', tail]))
    if mutation == 'other_format':
        other = FORMATS['png' if compression == 'jpeg' else 'jpeg']
        fmt = draw(st.one_of(_ODD_FORMATS, st.sampled_from(other)))
    else:
        fmt = draw(st.sampled_from(FORMATS[compression]))
    kind = draw(st.sampled_from(['bytes', 'ndarray', 'array', 'list']))
    msg = SimpleNamespace(format=fmt, data=_container(data, kind))
    return msg, data, mutation, size


@fuzz('compressed')
@given(compressed_messages())
def test_corrupt_compressed_images_raise_conversion_error_and_decode_only_affordable_sizes(case):
    msg, data, mutation, (width, height) = case
    spy = DecodeSpy(data)
    with mock.patch.object(cv2, 'imdecode', spy):
        out, peak = _measured(compressed_to_frame, msg)
    assert spy.unaffordable_calls == 0, f'decoded data declaring {spy.declared} pixels'
    if mutation in ('none', 'zero_pad'):  # intact data in the format it claims: must decode
        _check_frame(out, height, width, grey=False)
    declared = spy.declared if spy.calls else 0
    if not isinstance(out, ImageConversionError):
        assert (
            out.ndim == 3
            and out.shape[2] == 3
            and out.dtype == np.uint8
            and out.flags.c_contiguous
        )
        assert spy.calls == 1 and out.shape[0] * out.shape[1] <= MAX_DECODED_PIXELS
        declared = max(declared, out.shape[0] * out.shape[1])
    assert peak <= 2 * (len(data) + 3 * declared) + 256 * 1024


def _with_declared_size(compression: str, data: bytes, width: int, height: int) -> bytes:
    """
    Return the image with its header's width and height replaced.

    For PNG, with a valid IHDR checksum.
    """
    if compression == 'png':
        ihdr = struct.pack('>II', width, height) + data[24:29]
        return data[:8] + png_chunk(b'IHDR', ihdr) + data[33:]
    buf, i = bytearray(data), 2
    while buf[i + 1] not in (
        0xC0,
        0xC1,
        0xC2,
    ):  # OpenCV writes well-formed segments: walk their lengths
        i += 2 + (buf[i + 2] << 8 | buf[i + 3])
    struct.pack_into('>HH', buf, i + 5, height, width)  # the SOF segment's height, width
    return bytes(buf)


@st.composite
def huge_declared_images(draw):
    compression, data, _ = draw(encoded_images(max_side=16))
    limit = 65535 if compression == 'jpeg' else 2**31 - 1
    width = draw(st.integers(MAX_DECODED_PIXELS // limit + 1, limit))
    height = draw(st.integers(MAX_DECODED_PIXELS // width + 1, limit))
    return compression, _with_declared_size(compression, data, width, height), (width, height)


@fuzz('compressed_huge')
@given(huge_declared_images())
def test_compressed_images_declaring_huge_sizes_are_rejected_before_decoding(case):
    compression, data, (width, height) = case
    assert _declared_pixels(data) == width * height  # the header really says so
    spy = DecodeSpy(data)
    with mock.patch.object(cv2, 'imdecode', spy):
        out, peak = _measured(compressed_to_frame, SimpleNamespace(format=compression, data=data))
    assert spy.unaffordable_calls == 0 and spy.calls == 0
    assert isinstance(out, ImageConversionError) and 'larger than' in str(out), out
    assert peak <= 2 * len(data) + 64 * 1024


def test_tiny_png_declaring_50000_squared_is_rejected_not_decoded():
    """The issue's example: 67 bytes of PNG declaring 50000 x 50000 pixels (7.5 GB as BGR)."""
    png = png_declaring(50000, 50000)
    assert len(png) < 70
    with pytest.raises(ImageConversionError, match='50000x50000 pixels .* not decoded'):
        compressed_to_frame(SimpleNamespace(format='png', data=png))


def test_jpeg_header_size_matches_the_decoder_with_metadata_segments():
    """APPn/COM segments and fill bytes before the frame header are walked as libjpeg does."""
    ok, buf = cv2.imencode('.jpg', np.full((30, 50, 3), 90, np.uint8))
    assert ok
    data = buf.tobytes()
    comment = b'\xff\xfe' + struct.pack('>H', 2 + 300) + bytes(range(256)) + b'\xff\xc0' * 22
    spliced = (
        data[:2] + comment + b'\xff\xff' + data[2:]
    )  # a comment containing a fake SOF, then fill bytes
    frame = compressed_to_frame(SimpleNamespace(format='jpeg', data=spliced))
    assert frame.shape == (30, 50, 3)
