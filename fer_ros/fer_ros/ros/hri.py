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
ROS4HRI (REP-155) output.

Each tracked face's expression and region on the ``/humans/faces`` topics.

With the ``hri_output`` parameter on, the node publishes, for every processed frame:

* ``/humans/faces/tracked`` (hri_msgs/IdsList): the ids of the faces in the frame;
* ``/humans/faces/<id>/expression`` (hri_msgs/Expression): the expression, its confidence;
* ``/humans/faces/<id>/roi`` (hri_msgs/NormalizedRegionOfInterest2D): the box in [0, 1]
  image coordinates, with the detector's score as ``c``.

Headers are the source image's. A face id is ``face`` + the tracker's number (stable while the
face stays in view). A face's two topics are created when it appears and removed once it has been
out of the frames for :data:`KEEP_FRAMES` frames. Our seven FER2013 labels map onto hri_msgs'
constants as
:data:`HRI_EXPRESSIONS` says; a model with other labels publishes its label as it is. fer_ros
does not estimate valence and arousal from seven categories; both are NaN ("not estimated"),
which comparisons treat as false.

The mapping is plain Python (tested without ROS); :class:`HriPublisher` needs rclpy and
hri_msgs (``ros4hri/hri_msgs``, humble-devel). Without hri_msgs the parameter is refused
with a message saying so.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

from ..errors import SettingsError
from ..results import FrameResult

FACES_NS = '/humans/faces'
# FER2013 label -> hri_msgs/Expression constant (value strings, as the message defines them).
HRI_EXPRESSIONS = {
    'angry': 'angry',
    'disgust': 'disgusted',
    'fear': 'scared',
    'happy': 'happy',
    'sad': 'sad',
    'surprise': 'surprised',
    'neutral': 'neutral',
}
NOT_ESTIMATED = math.nan
# A face's topics stay this many frames after it was last in a frame (a missed detection or two
# must not tear down and re-announce its publishers).
KEEP_FRAMES = 30


def face_id(track_id: int) -> str:
    """Return the ROS4HRI id of a tracked face (a valid topic name token)."""
    return f'face{track_id}'


def hri_expression(label: str) -> str:
    """Return the hri_msgs/Expression value for one of our labels (unknown labels pass through)."""
    return HRI_EXPRESSIONS.get(label, label)


def normalized_roi(
    box: Tuple[int, int, int, int], frame_size: Tuple[int, int]
) -> Tuple[float, float, float, float]:
    """Return a pixel box as (xmin, ymin, xmax, ymax) in [0, 1], clipped to the image."""
    width, height = frame_size
    x, y, w, h = box

    def clip(value: float) -> float:
        return min(1.0, max(0.0, value))

    return clip(x / width), clip(y / height), clip((x + w) / width), clip((y + h) / height)


def hri_faces(result: FrameResult) -> List[Dict[str, Any]]:
    """Per face of a frame: id, expression value, confidence, normalized ROI and detector score."""
    return [
        {
            'id': face_id(face.track_id),
            'expression': hri_expression(face.label),
            'confidence': float(face.confidence),
            'roi': normalized_roi(face.box, result.frame_size),
            'score': float(face.detection_score),
        }
        for face in result.faces
    ]


def import_hri_msgs() -> Any:
    """Return the ``hri_msgs.msg`` module, or a SettingsError saying how to get it."""
    try:
        import hri_msgs.msg as hri_msgs
    except ImportError as exc:
        raise SettingsError(
            f'hri_output needs the ROS4HRI messages (hri_msgs), which do not import here ({exc}): '
            'build ros4hri/hri_msgs (branch humble-devel) in your workspace and source it'
        ) from None
    return hri_msgs


class HriPublisher:
    """Publishes a frame's faces on the REP-155 topics; creates and removes per-face publishers."""

    def __init__(
        self,
        create_publisher: Callable[..., Any],
        destroy_publisher: Callable[[Any], Any],
        keep_frames: int = KEEP_FRAMES,
    ) -> None:
        self._msgs = import_hri_msgs()
        self._create = create_publisher
        self._destroy = destroy_publisher
        self._keep_frames = keep_frames
        self._tracked = create_publisher(self._msgs.IdsList, f'{FACES_NS}/tracked', 1)
        self._per_face: Dict[str, Tuple[Any, Any]] = {}
        self._last_seen: Dict[str, int] = {}
        self._frame = 0

    def publish(self, header: Any, result: FrameResult) -> None:
        faces = hri_faces(result)
        self._tracked.publish(self._msgs.IdsList(header=header, ids=[f['id'] for f in faces]))
        for face in faces:
            expression_pub, roi_pub = self._publishers(face['id'])
            expression_pub.publish(
                self._msgs.Expression(
                    header=header,
                    expression=face['expression'],
                    valence=NOT_ESTIMATED,
                    arousal=NOT_ESTIMATED,
                    confidence=face['confidence'],
                )
            )
            xmin, ymin, xmax, ymax = face['roi']
            roi_pub.publish(
                self._msgs.NormalizedRegionOfInterest2D(
                    header=header, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, c=face['score']
                )
            )
        self._frame += 1
        self._last_seen.update((f['id'], self._frame) for f in faces)
        self._forget(self._frame - self._keep_frames)

    def close(self) -> None:
        """Remove every publisher (the option was switched off, or the node stops)."""
        self._forget(self._frame + 1)
        self._destroy(self._tracked)

    def _publishers(self, face: str) -> Tuple[Any, Any]:
        if face not in self._per_face:
            self._per_face[face] = (
                self._create(self._msgs.Expression, f'{FACES_NS}/{face}/expression', 1),
                self._create(self._msgs.NormalizedRegionOfInterest2D, f'{FACES_NS}/{face}/roi', 1),
            )
        return self._per_face[face]

    def _forget(self, seen_before: int) -> None:
        """Remove the topics of faces last seen before frame ``seen_before``."""
        for face in [f for f, frame in self._last_seen.items() if frame < seen_before]:
            del self._last_seen[face]
            for publisher in self._per_face.pop(face, ()):
                self._destroy(publisher)
