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
Pipeline results -> fer_ros_msgs messages, for rclpy and rosbags message classes alike.

The node (rclpy) and ``fer-ros bag`` (rosbags, no ROS install) publish the same
messages, so the conversion is written once against message *fields*. The two
libraries differ only in their classes and in what an array field holds
(``array.array`` for rclpy, ``numpy.ndarray`` for rosbags); a
:class:`MessageKit` bundles those differences. This module imports no ROS code.
"""

from __future__ import annotations

import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ..results import FrameResult

FACE_MSG = 'fer_ros_msgs/msg/FaceExpression'
ARRAY_MSG = 'fer_ros_msgs/msg/FaceExpressionArray'

# Our .msg files: fer_ros/fer_ros/msg links to the sibling package fer_ros_msgs/msg
# (one copy in the repository; pip and colcon install them as package data).
MSG_DIR = Path(__file__).resolve().parent.parent / 'msg'


@dataclass(frozen=True)
class MessageKit:
    """The message classes and array constructors of one ROS Python binding."""

    face: Callable[..., Any]  # fer_ros_msgs FaceExpression
    array: Callable[..., Any]  # fer_ros_msgs FaceExpressionArray
    roi: Callable[..., Any]  # sensor_msgs RegionOfInterest
    image: Callable[..., Any]  # sensor_msgs Image
    float32_array: Callable[[np.ndarray], Any]  # float32[] field value
    uint8_array: Callable[[np.ndarray], Any]  # uint8[] field value


def rclpy_kit() -> MessageKit:
    """Kit for rclpy's generated message classes (needs a sourced ROS 2 workspace)."""
    from fer_ros_msgs.msg import FaceExpression, FaceExpressionArray
    from sensor_msgs.msg import Image, RegionOfInterest

    return MessageKit(
        face=FaceExpression,
        array=FaceExpressionArray,
        roi=RegionOfInterest,
        image=Image,
        # array.array is what rclpy stores; building it from bytes avoids a per-item check.
        float32_array=lambda values: array.array(
            'f', np.ascontiguousarray(values, np.float32).tobytes()
        ),
        uint8_array=lambda values: array.array(
            'B', np.ascontiguousarray(values, np.uint8).tobytes()
        ),
    )


def msg_definitions(msg_dir: Optional[Path] = None) -> Dict[str, str]:
    """Return ``{type name: .msg text}`` of our messages, read from ``msg_dir``."""
    folder = msg_dir or MSG_DIR
    defs = {}
    for name in ('FaceExpression', 'FaceExpressionArray'):
        path = folder / f'{name}.msg'
        if not path.is_file():
            raise FileNotFoundError(
                f'message definition not found: {path} (fer_ros_msgs/msg is missing)'
            )
        defs[f'fer_ros_msgs/msg/{name}'] = path.read_text(encoding='utf-8')
    return defs


def rosbags_typestore(distro: str = 'humble') -> Any:
    """
    Return a rosbags typestore of ROS 2 ``distro`` with our message types registered.

    The types come from our .msg files.
    """
    from rosbags.typesys import get_types_from_msg, get_typestore, Stores

    stores = {'humble': Stores.ROS2_HUMBLE, 'jazzy': Stores.ROS2_JAZZY}
    if distro not in stores:
        raise ValueError(f'unknown ROS 2 distro {distro!r}; known: {", ".join(stores)}')
    typestore = get_typestore(stores[distro])
    types: Dict[str, Any] = {}
    for name, text in msg_definitions().items():
        types.update(get_types_from_msg(text, name))
    typestore.register(types)
    return typestore


def rosbags_kit(typestore: Any) -> MessageKit:
    """Kit for the dataclasses of a rosbags typestore (see :func:`rosbags_typestore`)."""
    types = typestore.types
    return MessageKit(
        face=types[FACE_MSG],
        array=types[ARRAY_MSG],
        roi=types['sensor_msgs/msg/RegionOfInterest'],
        image=types['sensor_msgs/msg/Image'],
        float32_array=lambda values: np.ascontiguousarray(values, dtype=np.float32),
        uint8_array=lambda values: np.ascontiguousarray(values, dtype=np.uint8).reshape(-1),
    )


def roi_in_image(
    box: Tuple[float, float, float, float], width: int, height: int
) -> Tuple[int, int, int, int]:
    """
    Return a face box clipped to the image on all four sides: (x, y, w, h), never negative.

    A crop box can reach past the frame (``crop_face`` pads it); a
    RegionOfInterest must lie inside the image, so the part outside is cut off
    rather than the box shifted. A box wholly outside gives a zero-size ROI.
    """
    x0, y0 = min(max(int(box[0]), 0), width), min(max(int(box[1]), 0), height)
    x1 = min(max(int(box[0]) + int(box[2]), x0), width)
    y1 = min(max(int(box[1]) + int(box[3]), y0), height)
    return x0, y0, x1 - x0, y1 - y0


def expressions_message(kit: MessageKit, header: Any, result: FrameResult) -> Any:
    """Return FaceExpressionArray for one frame: the source ``header`` and one entry per face."""
    labels = [str(label) for label in result.labels]
    width, height = result.frame_size
    faces = []
    for face in result.faces:
        x, y, w, h = roi_in_image(face.box, width, height)
        faces.append(
            kit.face(
                id=str(face.track_id),
                roi=kit.roi(x_offset=x, y_offset=y, height=h, width=w, do_rectify=False),
                detection_confidence=float(face.detection_score),
                expression=str(face.label),
                confidence=float(face.confidence),
                labels=list(labels),
                probabilities=kit.float32_array(face.probabilities),
            )
        )
    return kit.array(header=header, image_width=int(width), image_height=int(height), faces=faces)
