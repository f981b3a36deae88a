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
FrameDecoder: own conversion for its encodings, cv_bridge (checked) for the others.

No ROS needed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip('rosbags', reason='rosbags is in the dev/bag extras')

from fer_ros.errors import ImageConversionError  # noqa: E402, I100 (after the skip check)
from fer_ros.ros import decode  # noqa: E402
from fer_ros.ros.decode import FrameDecoder  # noqa: E402
from fer_ros.ros.messages import rosbags_typestore  # noqa: E402
from ros_fixtures import png_declaring  # noqa: E402

T = rosbags_typestore().types


def _image(data: np.ndarray, height=2, width=3, encoding='rgb8', step=None):
    header = T['std_msgs/msg/Header'](
        stamp=T['builtin_interfaces/msg/Time'](sec=0, nanosec=0), frame_id=''
    )
    step = width * 3 if step is None else step
    return T['sensor_msgs/msg/Image'](
        header=header,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=step,
        data=np.asarray(data, np.uint8),
    )


class BrokenBridge:
    """Stands in for a cv_bridge built against NumPy 1 running under NumPy 2."""

    def __init__(self) -> None:
        self.calls = 0

    def imgmsg_to_cv2(self, msg, encoding):
        self.calls += 1
        raise TypeError('numpy ABI mismatch')


class WorkingBridge:
    def __init__(self) -> None:
        self.calls = 0

    def imgmsg_to_cv2(self, msg, encoding):
        self.calls += 1
        return np.full((msg.height, msg.width, 3), 7, np.uint8)

    def compressed_imgmsg_to_cv2(self, msg, encoding):
        self.calls += 1
        return np.full((4, 4, 3), 7, np.uint8)


class StepTrustingBridge(WorkingBridge):
    """Shapes the frame from ``step`` as cv_bridge does: a short step gives a narrower frame."""

    def imgmsg_to_cv2(self, msg, encoding):
        self.calls += 1
        return np.full((msg.height, msg.step, 3), 7, np.uint8)[:, : msg.width]


def _decoder(bridge, compressed=False) -> FrameDecoder:
    decoder = FrameDecoder(compressed=compressed, use_cv_bridge=False)
    decoder._bridge = bridge
    return decoder


def test_encodings_fer_ros_knows_never_go_through_cv_bridge():
    bridge = WorkingBridge()
    rgb = np.arange(18, dtype=np.uint8)
    frame = _decoder(bridge).decode(_image(rgb))
    np.testing.assert_array_equal(
        frame, rgb.reshape(2, 3, 3)[..., ::-1]
    )  # own conversion: RGB -> BGR
    assert bridge.calls == 0
    with pytest.raises(
        ImageConversionError, match='truncated'
    ):  # checked by fer_ros, not by cv_bridge
        _decoder(bridge).decode(_image(np.zeros(5, np.uint8)))
    with pytest.raises(ImageConversionError, match='step 8 is less than'):
        _decoder(bridge).decode(_image(np.zeros(16, np.uint8), step=8))
    assert bridge.calls == 0


def test_other_encodings_go_through_cv_bridge():
    bridge = WorkingBridge()
    decoder = _decoder(bridge)
    assert decoder.using_cv_bridge and 'cv_bridge' in decoder.description
    frame = decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=3))
    assert frame.shape == (2, 3, 3) and frame[0, 0, 0] == 7 and bridge.calls == 1


def test_cv_bridge_frames_of_the_wrong_size_are_rejected():
    """
    A step shorter than a row makes cv_bridge return a frame of the wrong width.

    Seen on a real node.
    """
    decoder = _decoder(StepTrustingBridge())
    assert decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=3)).shape == (
        2,
        3,
        3,
    )
    with pytest.raises(ImageConversionError, match='declares 3x2 pixels'):
        decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=2))


def test_cv_bridge_failures_are_conversion_errors_and_the_decoder_goes_on():
    bridge = BrokenBridge()
    decoder = _decoder(bridge)
    with pytest.raises(
        ImageConversionError, match="cv_bridge cannot decode 'bayer_rggb8' image: numpy ABI"
    ):
        decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=3))
    assert decoder.decode(_image(np.arange(18, dtype=np.uint8))).shape == (2, 3, 3)
    assert bridge.calls == 1


def test_without_cv_bridge_other_encodings_are_unsupported():
    decoder = FrameDecoder(compressed=False, use_cv_bridge=False)
    assert decoder.description == 'fer_ros'
    with pytest.raises(ImageConversionError, match="unsupported image encoding 'bayer_rggb8'"):
        decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=3))


def test_cv_bridge_can_be_switched_off_and_on():
    decoder = _decoder(WorkingBridge())
    decoder.set_use_cv_bridge(False)
    assert not decoder.using_cv_bridge
    with pytest.raises(ImageConversionError, match='unsupported'):
        decoder.decode(_image(np.zeros(6, np.uint8), encoding='bayer_rggb8', step=3))
    decoder.set_use_cv_bridge(True)  # loads cv_bridge again if it imports (it does not in CI)
    try:
        import cv_bridge  # noqa: F401

        expected = True
    except Exception:
        expected = False
    assert decoder.using_cv_bridge == expected


def test_compressed_images_never_go_through_cv_bridge(monkeypatch):
    """cv_bridge would decode a decompression bomb; fer_ros's decoder rejects it by its header."""
    monkeypatch.setattr(decode, '_load_cv_bridge', lambda: WorkingBridge())
    decoder = FrameDecoder(compressed=True, use_cv_bridge=True)
    decoder.set_use_cv_bridge(True)
    assert not decoder.using_cv_bridge
    header = T['std_msgs/msg/Header'](
        stamp=T['builtin_interfaces/msg/Time'](sec=0, nanosec=0), frame_id=''
    )
    bomb = np.frombuffer(png_declaring(40000, 40000), np.uint8)
    msg = T['sensor_msgs/msg/CompressedImage'](header=header, format='png', data=bomb)
    with pytest.raises(ImageConversionError, match='40000x40000 pixels'):
        decoder.decode(msg)


def test_real_cv_bridge_with_a_short_step_is_rejected():
    """
    With ROS 2's cv_bridge installed.

    Its frame for a message whose step is too short is refused.
    """
    cv_bridge = pytest.importorskip(
        'cv_bridge', reason='cv_bridge comes with a ROS 2 installation'
    )
    decoder = _decoder(cv_bridge.CvBridge())
    bayer = np.random.default_rng(0).integers(0, 256, 8 * 6, dtype=np.uint8)
    assert decoder.decode(
        _image(bayer, height=6, width=8, encoding='bayer_rggb8', step=8)
    ).shape == (6, 8, 3)
    with pytest.raises(ImageConversionError):
        decoder.decode(_image(bayer, height=6, width=8, encoding='bayer_rggb8', step=7))
