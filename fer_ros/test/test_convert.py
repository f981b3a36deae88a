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

"""Image / CompressedImage conversion without cv_bridge, against rosbags' sensor_msgs classes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip('rosbags', reason='rosbags is in the dev/bag extras')

from fer_ros.errors import ImageConversionError  # noqa: E402, I100 (after the skip check)
from fer_ros.ros.convert import compressed_to_frame, frame_to_image, image_to_frame  # noqa: E402
from fer_ros.ros.messages import rosbags_kit, rosbags_typestore  # noqa: E402

TS = rosbags_typestore('humble')
Image = TS.types['sensor_msgs/msg/Image']
CompressedImage = TS.types['sensor_msgs/msg/CompressedImage']
Header = TS.types['std_msgs/msg/Header']
Time = TS.types['builtin_interfaces/msg/Time']


def _header():
    return Header(stamp=Time(sec=5, nanosec=6), frame_id='cam')


def _bgr(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _smooth_bgr(height: int, width: int) -> np.ndarray:
    """Colours constant over each horizontal pixel pair, so 4:2:2 chroma loses nothing."""
    half = width // 2
    y, x = np.mgrid[0:height, 0:half]
    pairs = np.stack([60 + 3 * x % 120, 40 + 5 * y % 150, 90 + (x + y) % 100], axis=-1).astype(
        np.uint8
    )
    return np.repeat(pairs, 2, axis=1)


def _pack(rows: np.ndarray, pad: int) -> tuple:
    """Return (data, step) for H x row_bytes ``rows`` with ``pad`` junk bytes after each row."""
    height, row_bytes = rows.shape
    padded = np.full((height, row_bytes + pad), 0xAB, dtype=np.uint8)
    padded[:, :row_bytes] = rows
    return padded.reshape(-1), row_bytes + pad


def _message(encoding: str, rows: np.ndarray, height: int, width: int, pad: int, big: int = 0):
    data, step = _pack(rows.reshape(height, -1), pad)
    msg = Image(
        header=_header(),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=big,
        step=step,
        data=data,
    )
    # Through CDR and back, so the data field is what a bag reader really hands us.
    return TS.deserialize_cdr(
        TS.serialize_cdr(msg, 'sensor_msgs/msg/Image'), 'sensor_msgs/msg/Image'
    )


def _to_yuv422(bgr: np.ndarray, uyvy: bool) -> np.ndarray:
    """
    Pack with ITU-R BT.601 video-range YCbCr (what cameras send).

    Written independently of OpenCV.
    """
    b, g, r = (bgr[..., i].astype(np.float64) for i in range(3))
    y = np.round(16 + 0.257 * r + 0.504 * g + 0.098 * b).astype(np.uint8)
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    u2 = np.round((u[:, 0::2] + u[:, 1::2]) / 2).astype(np.uint8)
    v2 = np.round((v[:, 0::2] + v[:, 1::2]) / 2).astype(np.uint8)
    out = np.empty(bgr.shape[:2] + (2,), dtype=np.uint8)
    if uyvy:  # U Y0 V Y1
        out[:, 0::2, 0], out[:, 1::2, 0] = u2, v2
        out[..., 1] = y
    else:  # Y0 U Y1 V
        out[..., 0] = y
        out[:, 0::2, 1], out[:, 1::2, 1] = u2, v2
    return out


@pytest.mark.parametrize('width', [7, 8])  # odd width: rows that are not a multiple of 4 bytes
@pytest.mark.parametrize('pad', [0, 3])
@pytest.mark.parametrize(
    'encoding, make',
    [
        ('bgr8', lambda bgr: bgr),
        ('8UC3', lambda bgr: bgr),
        ('rgb8', lambda bgr: bgr[..., ::-1]),
        ('bgra8', lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)),
        ('rgba8', lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA)),
    ],
)
def test_colour_encodings_decode_to_bgr(encoding, make, width, pad):
    bgr = _bgr(5, width)
    frame = image_to_frame(_message(encoding, np.ascontiguousarray(make(bgr)), 5, width, pad))
    assert frame.dtype == np.uint8 and frame.shape == (5, width, 3)
    np.testing.assert_array_equal(frame, bgr)


@pytest.mark.parametrize('width, pad', [(7, 0), (7, 1), (8, 5)])
def test_mono8(width, pad):
    grey = _bgr(6, width)[..., 0].copy()
    frame = image_to_frame(_message('mono8', grey, 6, width, pad))
    assert frame.shape == (6, width)
    np.testing.assert_array_equal(frame, grey)


@pytest.mark.parametrize('big', [0, 1])
@pytest.mark.parametrize('width, pad', [(7, 0), (9, 2)])
def test_mono16_both_byte_orders(big, width, pad):
    values = np.random.default_rng(1).integers(0, 65536, (4, width), dtype=np.uint16)
    raw = values.astype('>u2' if big else '<u2').view(np.uint8)
    frame = image_to_frame(_message('mono16', raw, 4, width, pad, big=big))
    assert frame.dtype == np.uint8 and frame.shape == (4, width)
    np.testing.assert_array_equal(frame, (values >> 8).astype(np.uint8))


def test_mono16_byte_order_matters():
    values = np.full((2, 4), 0x1280, dtype=np.uint16)
    raw = values.astype('<u2').view(np.uint8)
    assert image_to_frame(_message('mono16', raw, 2, 4, 0, big=0))[0, 0] == 0x12
    assert image_to_frame(_message('mono16', raw, 2, 4, 0, big=1))[0, 0] == 0x80


@pytest.mark.parametrize(
    'encoding, uyvy', [('yuv422', True), ('uyvy', True), ('yuv422_yuy2', False)]
)
@pytest.mark.parametrize('pad', [0, 4])
def test_yuv422(encoding, uyvy, pad):
    bgr = _smooth_bgr(6, 10)
    frame = image_to_frame(_message(encoding, _to_yuv422(bgr, uyvy), 6, 10, pad))
    assert frame.shape == (6, 10, 3)
    assert np.abs(frame.astype(int) - bgr.astype(int)).max() <= 4


def test_yuv422_odd_width_is_rejected():
    with pytest.raises(ImageConversionError, match='even width'):
        image_to_frame(_message('yuv422', np.zeros((2, 7 * 2), np.uint8), 2, 7, 0))


def test_unsupported_encoding_names_the_supported_ones():
    msg = _message('bayer_rggb8', np.zeros((2, 4), np.uint8), 2, 4, 0)
    with pytest.raises(
        ImageConversionError, match="unsupported image encoding 'bayer_rggb8'.*mono16"
    ):
        image_to_frame(msg)


def test_truncated_data_is_rejected():
    msg = _message('bgr8', _bgr(4, 5), 4, 5, 0)
    msg.data = msg.data[:-1]
    with pytest.raises(ImageConversionError, match='truncated'):
        image_to_frame(msg)


def test_padded_last_row_may_omit_its_padding():
    bgr = _bgr(3, 5)
    msg = _message('bgr8', bgr, 3, 5, 2)
    msg.data = msg.data[:-2]
    np.testing.assert_array_equal(image_to_frame(msg), bgr)


def test_step_smaller_than_row_is_rejected():
    msg = _message('rgb8', _bgr(4, 5), 4, 5, 0)
    msg.step = 14
    with pytest.raises(ImageConversionError, match='step 14'):
        image_to_frame(msg)


def test_empty_image_is_rejected():
    msg = Image(
        header=_header(),
        height=0,
        width=0,
        encoding='bgr8',
        is_bigendian=0,
        step=0,
        data=np.zeros(0, np.uint8),
    )
    with pytest.raises(ImageConversionError, match='empty'):
        image_to_frame(msg)


def _compressed(fmt: str, data: np.ndarray):
    return CompressedImage(
        header=_header(), format=fmt, data=np.asarray(data, np.uint8).reshape(-1)
    )


@pytest.mark.parametrize('fmt', ['png', 'bgr8; png compressed bgr8'])
def test_png_is_lossless(fmt):
    bgr = _bgr(9, 11)
    ok, buf = cv2.imencode('.png', bgr)
    assert ok
    np.testing.assert_array_equal(compressed_to_frame(_compressed(fmt, buf)), bgr)


@pytest.mark.parametrize('fmt', ['jpeg', 'rgb8; jpeg compressed bgr8', 'JPEG'])
def test_jpeg(fmt):
    bgr = _smooth_bgr(16, 16)
    ok, buf = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    frame = compressed_to_frame(_compressed(fmt, buf))
    assert frame.shape == (16, 16, 3)
    assert np.abs(frame.astype(int) - bgr.astype(int)).mean() < 8


def test_corrupt_compressed_data_is_rejected():
    with pytest.raises(ImageConversionError, match='corrupt'):
        compressed_to_frame(_compressed('jpeg', np.frombuffer(b'not a jpeg at all', np.uint8)))
    with pytest.raises(ImageConversionError, match='empty'):
        compressed_to_frame(_compressed('png', np.zeros(0, np.uint8)))


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
def test_truncated_compressed_data_is_rejected(ext):
    ok, buf = cv2.imencode(ext, _bgr(32, 32))
    assert ok
    with pytest.raises(ImageConversionError, match='truncated'):
        compressed_to_frame(
            _compressed('jpeg' if ext == '.jpg' else 'png', buf[: buf.size * 2 // 3])
        )
    padded = np.concatenate(
        [buf.reshape(-1), np.zeros(3, np.uint8)]
    )  # zero padding after the end is fine
    assert compressed_to_frame(_compressed('jpeg' if ext == '.jpg' else 'png', padded)).shape == (
        32,
        32,
        3,
    )


def test_unsupported_compressed_format():
    with pytest.raises(ImageConversionError, match='compressedDepth'):
        compressed_to_frame(_compressed('16UC1; compressedDepth', np.zeros(4, np.uint8)))


@pytest.mark.parametrize('shape, encoding', [((5, 7, 3), 'bgr8'), ((5, 7), 'mono8')])
def test_frame_to_image_round_trip(shape, encoding):
    frame = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    msg = frame_to_image(rosbags_kit(TS), _header(), frame)
    channels = 3 if len(shape) == 3 else 1
    assert (msg.encoding, msg.height, msg.width, msg.step) == (encoding, 5, 7, 7 * channels)
    assert msg.header.frame_id == 'cam'
    raw = TS.serialize_cdr(msg, 'sensor_msgs/msg/Image')
    np.testing.assert_array_equal(
        image_to_frame(TS.deserialize_cdr(raw, 'sensor_msgs/msg/Image')), frame
    )
