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

"""Our .msg files parse with rosbags; messages built by the node's conversion survive CDR."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip('rosbags', reason='rosbags is in the dev/bag extras')

from fer_ros.results import FaceResult, FrameResult  # noqa: E402, I100 (after the skip check)
from fer_ros.ros.messages import (  # noqa: E402
    ARRAY_MSG,
    expressions_message,
    FACE_MSG,
    msg_definitions,
    rosbags_kit,
    rosbags_typestore,
)

LABELS = ('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')


@pytest.fixture(scope='module', params=['humble', 'jazzy'])
def typestore(request):
    return rosbags_typestore(request.param)


def _result() -> FrameResult:
    p1 = np.array([0.05, 0.01, 0.04, 0.7, 0.1, 0.05, 0.05], np.float32)
    p2 = np.array([0.1, 0.0, 0.1, 0.1, 0.1, 0.1, 0.5], np.float32)
    faces = [
        FaceResult(3, (10, 20, 64, 64), 0.9, 'happy', 0.7, p1),
        FaceResult(7, (200, 40, 80, 80), 0.6, 'neutral', 0.5, p2),
    ]
    return FrameResult(faces=faces, labels=LABELS, frame_size=(640, 480))


def _header(typestore):
    types = typestore.types
    stamp = types['builtin_interfaces/msg/Time'](sec=1700000000, nanosec=123456789)
    return types['std_msgs/msg/Header'](stamp=stamp, frame_id='camera_optical_frame')


def test_msg_files_parse_with_class_name_constants():
    from rosbags.typesys import get_types_from_msg

    defs = msg_definitions()
    assert set(defs) == {FACE_MSG, ARRAY_MSG}
    face = get_types_from_msg(defs[FACE_MSG], FACE_MSG)[FACE_MSG]
    constants, fields = face[0], face[1]
    assert {c[0]: c[2] for c in constants} == {name.upper(): name for name in LABELS}
    names = [f[0] for f in fields]
    assert names == [
        'id',
        'roi',
        'detection_confidence',
        'expression',
        'confidence',
        'labels',
        'probabilities',
    ]
    array = get_types_from_msg(defs[ARRAY_MSG], ARRAY_MSG)[ARRAY_MSG]
    assert [f[0] for f in array[1]] == ['header', 'image_width', 'image_height', 'faces']


def test_registered_class_exposes_constants(typestore):
    face_cls = typestore.types[FACE_MSG]
    assert face_cls.HAPPY == 'happy' and face_cls.NEUTRAL == 'neutral'


def test_expressions_message_fills_every_field(typestore):
    msg = expressions_message(rosbags_kit(typestore), _header(typestore), _result())
    assert msg.header.stamp.sec == 1700000000 and msg.header.stamp.nanosec == 123456789
    assert msg.header.frame_id == 'camera_optical_frame'
    assert (msg.image_width, msg.image_height) == (640, 480)
    assert len(msg.faces) == 2
    face = msg.faces[0]
    for field in dataclasses.fields(face):
        assert getattr(face, field.name) is not None, field.name
    assert face.id == '3' and isinstance(face.id, str)
    assert (face.roi.x_offset, face.roi.y_offset, face.roi.width, face.roi.height) == (
        10,
        20,
        64,
        64,
    )
    assert face.roi.do_rectify is False
    assert face.expression == 'happy' and face.labels == list(LABELS)
    assert isinstance(face.detection_confidence, float) and isinstance(face.confidence, float)
    assert face.probabilities.dtype == np.float32
    assert face.labels[int(np.argmax(face.probabilities))] == face.expression
    assert msg.faces[1].id == '7' and msg.faces[1].expression == 'neutral'


@pytest.mark.parametrize('faces', [2, 0])
def test_cdr_round_trip(typestore, faces):
    result = _result()
    result.faces = result.faces[:faces]
    msg = expressions_message(rosbags_kit(typestore), _header(typestore), result)
    raw = typestore.serialize_cdr(msg, ARRAY_MSG)
    back = typestore.deserialize_cdr(raw, ARRAY_MSG)
    assert back.header == msg.header
    assert (back.image_width, back.image_height) == (640, 480)
    assert len(back.faces) == faces
    for a, b in zip(back.faces, msg.faces):
        assert (a.id, a.roi, a.expression, a.labels) == (b.id, b.roi, b.expression, b.labels)
        assert a.detection_confidence == pytest.approx(b.detection_confidence)
        assert a.confidence == pytest.approx(b.confidence)
        np.testing.assert_array_equal(a.probabilities, b.probabilities)


@pytest.mark.parametrize(
    'box, roi',
    [
        ((-4, -2, 30, 30), (0, 0, 26, 28)),  # left/top edge: clipped, not shifted
        ((-6, 69, 86, 86), (0, 69, 80, 86)),
        ((600, 450, 64, 64), (600, 450, 40, 30)),  # right/bottom edge of the 640x480 image
        ((-10, -10, 700, 500), (0, 0, 640, 480)),
        ((650, 10, 20, 20), (640, 10, 0, 20)),  # wholly outside: empty, still inside the image
    ],
)
def test_roi_is_the_box_clipped_to_the_image(typestore, box, roi):
    result = _result()
    result.faces[0].box = box
    msg = expressions_message(rosbags_kit(typestore), _header(typestore), result)
    got = msg.faces[0].roi
    assert (got.x_offset, got.y_offset, got.width, got.height) == roi
    assert (
        got.x_offset + got.width <= msg.image_width
        and got.y_offset + got.height <= msg.image_height
    )
    typestore.serialize_cdr(msg, ARRAY_MSG)  # unsigned fields accept it
