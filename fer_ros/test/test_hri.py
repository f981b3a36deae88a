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

"""ROS4HRI output without ROS: label mapping, normalized regions, per-face topics' lifetime."""

from __future__ import annotations

import math
import sys
import types

from fer_ros.model_metadata import FER2013_LABELS
from fer_ros.results import FaceResult, FrameResult
from fer_ros.ros import hri
import numpy as np
import pytest


def test_every_fer2013_label_maps_to_an_hri_msgs_constant():
    # hri_msgs/Expression's constants (humble-devel): the values our labels must become
    constants = {'neutral', 'angry', 'sad', 'happy', 'surprised', 'disgusted', 'scared'}
    assert {hri.hri_expression(label) for label in FER2013_LABELS} == constants
    assert hri.hri_expression('contempt') == 'contempt'  # another model's label passes through


def test_regions_are_normalized_and_clipped():
    assert hri.normalized_roi((64, 48, 128, 96), (640, 480)) == (0.1, 0.1, 0.3, 0.3)
    assert hri.normalized_roi((-10, 400, 100, 200), (640, 480)) == (0.0, 400 / 480, 90 / 640, 1.0)


def _frame(track_ids):
    faces = [
        FaceResult(t, (10 * t, 10, 50, 50), 0.9, 'happy', 0.8, np.full(7, 1 / 7, np.float32))
        for t in track_ids
    ]
    return FrameResult(faces=faces, labels=FER2013_LABELS, timings_ms={}, frame_size=(320, 240))


class _Msg:
    def __init__(self, **fields):
        self.__dict__.update(fields)


class _Publisher:
    def __init__(self, topic):
        self.topic, self.sent = topic, []

    def publish(self, msg):
        self.sent.append(msg)


@pytest.fixture()
def fake_hri_msgs(monkeypatch):
    package, module = types.ModuleType('hri_msgs'), types.ModuleType('hri_msgs.msg')
    for name in ('IdsList', 'Expression', 'NormalizedRegionOfInterest2D'):
        setattr(module, name, type(name, (_Msg,), {}))
    package.msg = module
    monkeypatch.setitem(sys.modules, 'hri_msgs', package)
    monkeypatch.setitem(sys.modules, 'hri_msgs.msg', module)


def test_topics_follow_the_faces(fake_hri_msgs):
    live = {}

    def create(kind, topic, depth):
        live[topic] = _Publisher(topic)
        return live[topic]

    def destroy(publisher):
        del live[publisher.topic]

    publisher = hri.HriPublisher(create, destroy, keep_frames=2)
    publisher.publish('header', _frame([1, 2]))
    assert set(live) == {
        '/humans/faces/tracked',
        '/humans/faces/face1/expression',
        '/humans/faces/face1/roi',
        '/humans/faces/face2/expression',
        '/humans/faces/face2/roi',
    }
    assert live['/humans/faces/tracked'].sent[-1].ids == ['face1', 'face2']
    expression = live['/humans/faces/face1/expression'].sent[-1]
    assert expression.expression == 'happy' and expression.confidence == pytest.approx(0.8)
    assert math.isnan(expression.valence) and math.isnan(expression.arousal)
    roi = live['/humans/faces/face2/roi'].sent[-1]
    assert (roi.xmin, roi.ymin, roi.xmax, roi.ymax) == pytest.approx(
        (20 / 320, 10 / 240, 70 / 320, 60 / 240)
    )
    assert roi.c == pytest.approx(0.9) and roi.header == 'header'
    for _ in range(2):  # face 2 missed for two frames: its topics stay
        publisher.publish('header', _frame([1]))
    assert '/humans/faces/face2/roi' in live
    publisher.publish('header', _frame([1]))  # a third: they go
    assert '/humans/faces/face2/roi' not in live and '/humans/faces/face1/roi' in live
    publisher.close()
    assert live == {}


def test_without_hri_msgs_the_error_says_what_to_build(monkeypatch):
    monkeypatch.setitem(sys.modules, 'hri_msgs', None)
    with pytest.raises(hri.SettingsError, match='ros4hri/hri_msgs'):
        hri.import_hri_msgs()
