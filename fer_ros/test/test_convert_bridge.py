"""FrameDecoder: cv_bridge when it works, fer_ros's own conversion otherwise (no ROS needed)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rosbags", reason="rosbags is in the dev/bag extras")

from fer_ros.errors import ImageConversionError  # noqa: E402
from fer_ros.ros.decode import FrameDecoder  # noqa: E402
from fer_ros.ros.messages import rosbags_typestore  # noqa: E402

T = rosbags_typestore().types


def _image(data: np.ndarray, height=2, width=3):
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="")
    return T["sensor_msgs/msg/Image"](header=header, height=height, width=width, encoding="rgb8",
                                      is_bigendian=0, step=width * 3, data=data)


class BrokenBridge:
    """Stands in for a cv_bridge built against NumPy 1 running under NumPy 2."""

    calls = 0

    def imgmsg_to_cv2(self, msg, encoding):
        BrokenBridge.calls += 1
        raise TypeError("numpy ABI mismatch")


class WorkingBridge:
    def imgmsg_to_cv2(self, msg, encoding):
        return np.full((msg.height, msg.width, 3), 7, np.uint8)

    def compressed_imgmsg_to_cv2(self, msg, encoding):
        return np.full((4, 4, 3), 7, np.uint8)


def test_broken_bridge_is_dropped_after_first_failure():
    logs = []
    decoder = FrameDecoder(compressed=False, use_cv_bridge=False, log=logs.append)
    decoder._bridge = BrokenBridge()
    rgb = np.arange(18, dtype=np.uint8)
    frame = decoder.decode(_image(rgb))
    np.testing.assert_array_equal(frame, rgb.reshape(2, 3, 3)[..., ::-1])  # own conversion: RGB -> BGR
    assert not decoder.using_cv_bridge and len(logs) == 1 and "cv_bridge failed" in logs[0]
    decoder.decode(_image(rgb))
    assert BrokenBridge.calls == 1


def test_bridge_kept_when_the_frame_itself_is_bad():
    decoder = FrameDecoder(compressed=False, use_cv_bridge=False)
    decoder._bridge = BrokenBridge()
    with pytest.raises(ImageConversionError, match="truncated"):
        decoder.decode(_image(np.zeros(5, np.uint8)))
    assert decoder.using_cv_bridge  # a corrupt frame says nothing about cv_bridge


def test_working_bridge_is_used():
    decoder = FrameDecoder(compressed=False, use_cv_bridge=False)
    decoder._bridge = WorkingBridge()
    assert decoder.decode(_image(np.zeros(18, np.uint8)))[0, 0, 0] == 7


def test_without_cv_bridge_installed_own_conversion_runs():
    decoder = FrameDecoder(compressed=False, use_cv_bridge=True)  # cv_bridge is not importable here
    assert decoder.decode(_image(np.arange(18, dtype=np.uint8))).shape == (2, 3, 3)


def test_cv_bridge_can_be_switched_off_and_on():
    decoder = FrameDecoder(compressed=False, use_cv_bridge=False)
    decoder._bridge = WorkingBridge()
    decoder.set_use_cv_bridge(False)
    assert not decoder.using_cv_bridge
    assert decoder.decode(_image(np.arange(18, dtype=np.uint8)))[0, 0, 0] == 2  # own conversion: R,G,B -> B
    decoder.set_use_cv_bridge(True)  # loads cv_bridge again if it imports (it does not in CI)
    try:
        import cv_bridge  # noqa: F401
        expected = True
    except Exception:
        expected = False
    assert decoder.using_cv_bridge == expected


def test_compressed_images_never_go_through_cv_bridge(monkeypatch):
    """cv_bridge would imdecode a decompression bomb; fer_ros's decoder rejects it from its header."""
    from fer_ros.ros import decode
    from ros_fixtures import png_declaring

    monkeypatch.setattr(decode, "_load_cv_bridge", lambda: WorkingBridge())
    decoder = FrameDecoder(compressed=True, use_cv_bridge=True)
    decoder.set_use_cv_bridge(True)
    assert not decoder.using_cv_bridge

    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="")
    bomb = np.frombuffer(png_declaring(40000, 40000), np.uint8)
    msg = T["sensor_msgs/msg/CompressedImage"](header=header, format="png", data=bomb)
    with pytest.raises(ImageConversionError, match="40000x40000 pixels"):
        decoder.decode(msg)
