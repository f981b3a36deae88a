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
The node in-process with rclpy.

Images with real faces in, expressions out (skips without ROS 2).
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest
from ros_fixtures import ros_module  # noqa: E402

rclpy = ros_module('rclpy', reason='rclpy is not installed (source a ROS 2 workspace to run)')
ros_module('fer_ros_msgs.msg', reason='fer_ros_msgs is not built (colcon build fer_ros_msgs)')

from fer_ros_msgs.msg import FaceExpressionArray  # noqa: E402, I100 (after the skip check)
from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from ros_fixtures import (  # noqa: E402
    bad_parameter_values,
    detectable_faces,
    face_frame,
    png_declaring,
    tiny_model,
)
from sensor_msgs.msg import Image  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture(scope='module')
def faces(fer2013_private_test):
    return detectable_faces(fer2013_private_test, 3)


@pytest.fixture()
def ros_context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


def _image(frame: np.ndarray, stamp_sec: int, corrupt: bool = False) -> Image:
    msg = Image()
    msg.header.stamp.sec = stamp_sec
    msg.header.frame_id = 'cam'
    msg.height, msg.width = frame.shape[:2]
    msg.encoding = 'bgr8'
    msg.step = msg.width * 3
    data = frame.tobytes()
    msg.data = data[: len(data) // 2] if corrupt else data
    return msg


def _spin_until(executor, condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        executor.spin_once(timeout_sec=0.05)


def test_node_publishes_expressions_with_source_stamps(ros_context, tmp_path, faces):
    from fer_ros.ros.node import FerNode

    model = tiny_model(tmp_path / 'tiny.onnx')
    node = FerNode(
        context=ros_context,
        parameter_overrides=[
            Parameter('model', value=str(model)),
            Parameter('tracking', value=False),
        ],
    )
    helper = rclpy.create_node('fer_test_helper', context=ros_context)
    received = []
    helper.create_subscription(FaceExpressionArray, 'expressions', received.append, 10)
    pub = helper.create_publisher(Image, 'image', qos_profile_sensor_data)
    executor = MultiThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(helper)
    try:
        _spin_until(
            executor,
            lambda: (
                pub.get_subscription_count() > 0 and helper.count_publishers('expressions') > 0
            ),
        )
        frames = [face_frame(f) for f in faces] + [np.full((240, 320, 3), 128, np.uint8)]
        sent = []
        for i, frame in enumerate(frames):
            if i == 1:  # a corrupt frame first: skipped and counted, the node carries on
                pub.publish(_image(frame, 999, corrupt=True))
                _spin_until(executor, lambda: node._stats.rejected == 1, timeout=5.0)
            pub.publish(_image(frame, 1000 + i))
            sent.append(1000 + i)
            count = len(received)
            _spin_until(executor, lambda n=count: len(received) > n, timeout=10.0)
        assert node._stats.rejected == 1
        by_stamp = {m.header.stamp.sec: m for m in received}
        assert set(by_stamp) == set(sent), (
            'one expressions message per processed frame, with its stamp'
        )
        assert [len(by_stamp[s].faces) for s in sent] == [1, 1, 1, 0]
        face = by_stamp[1000].faces[0]
        assert by_stamp[1000].header.frame_id == 'cam'
        assert list(face.labels)[int(np.argmax(face.probabilities))] == face.expression
        assert face.expression in (
            face.ANGRY,
            face.DISGUST,
            face.FEAR,
            face.HAPPY,
            face.SAD,
            face.SURPRISE,
            face.NEUTRAL,
        )
    finally:
        executor.shutdown()
        node.destroy_node()
        helper.destroy_node()


def _malformed(kind: str, frame: np.ndarray, stamp_sec: int):
    """Return a malformed Image or CompressedImage message of the given kind."""
    from sensor_msgs.msg import CompressedImage

    if kind.startswith('jpeg_') or kind.startswith('png_'):
        msg = CompressedImage(format=kind.split('_')[0])
        jpeg = cv2.imencode('.jpg', frame)[1].tobytes()
        msg.data = {
            'jpeg_garbage': b'\xff\xd8\xff garbage \xff\xd9',
            'jpeg_truncated': jpeg[: len(jpeg) // 2],
            'png_bomb': png_declaring(50000, 50000),
            'png_is_jpeg': jpeg,
        }[kind]
    else:
        msg = _image(frame, stamp_sec)
        if kind == 'short_step':
            msg.step -= 1
        elif kind == 'huge':
            msg.height, msg.width, msg.data = 2**31, 2**31 - 1, b'0123456789'
        elif kind == 'empty':
            msg.height = msg.width = msg.step = 0
        elif kind == 'encoding':
            msg.encoding = 'nonsense8'
    msg.header.stamp.sec = stamp_sec
    return msg


@pytest.mark.parametrize('input_type', ['raw', 'compressed'])
def test_malformed_images_are_counted_and_the_node_keeps_publishing(
    ros_context, tmp_path, faces, input_type
):
    """
    Each kind of malformed message between good frames.

    Rejected, counted in diagnostics, nothing lost.
    """
    from fer_ros.ros.node import FerNode
    from sensor_msgs.msg import CompressedImage

    compressed = input_type == 'compressed'
    kinds = (
        ['jpeg_garbage', 'jpeg_truncated', 'png_bomb', 'png_is_jpeg']
        if compressed
        else ['short_step', 'huge', 'empty', 'encoding']
    )
    node = FerNode(
        context=ros_context,
        parameter_overrides=[
            Parameter('model', value=str(tiny_model(tmp_path / 'tiny.onnx'))),
            Parameter('tracking', value=False),
            Parameter('input_type', value=input_type),
        ],
    )
    helper = rclpy.create_node('fer_test_helper', context=ros_context)
    received = []
    helper.create_subscription(FaceExpressionArray, 'expressions', received.append, 10)
    topic, msg_type = ('image/compressed', CompressedImage) if compressed else ('image', Image)
    pub = helper.create_publisher(msg_type, topic, qos_profile_sensor_data)
    executor = MultiThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(helper)
    frame = face_frame(faces[0])
    try:
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        good = []
        for i, kind in enumerate(kinds):
            pub.publish(_malformed(kind, frame, 100 + i))
            _spin_until(executor, lambda n=i + 1: node._stats.rejected == n, timeout=10.0)
            if compressed:
                msg = CompressedImage(format='jpeg')
                msg.data = cv2.imencode('.jpg', frame)[1].tobytes()
                msg.header.stamp.sec = 200 + i
            else:
                msg = _image(frame, 200 + i)
            pub.publish(msg)
            good.append(200 + i)
            _spin_until(executor, lambda n=i + 1: len(received) == n, timeout=10.0)
        assert node._stats.rejected == len(kinds) and node._stats.errors == 0
        assert [m.header.stamp.sec for m in received] == good
        values = dict(node._stats.report()[2])
        assert values['frames_rejected'] == str(len(kinds)) and values['frames_processed'] == str(
            len(kinds)
        )
        assert node._worker.thread.is_alive()
    finally:
        executor.shutdown()
        node.destroy_node()
        helper.destroy_node()


def test_parameter_changes_are_validated(ros_context, tmp_path):
    from fer_ros.ros.node import FerNode

    model = tiny_model(tmp_path / 'tiny.onnx')
    node = FerNode(context=ros_context, parameter_overrides=[Parameter('model', value=str(model))])
    try:
        ok = node.set_parameters(
            [
                Parameter('max_rate_hz', value=5.0),
                Parameter('detection_width', value=480),
            ]
        )
        assert all(r.successful for r in ok)
        assert node._worker.max_rate_hz == 5.0 and node._pipeline.settings.detection_width == 480
        bad = node.set_parameters([Parameter('detection_width', value=-3)])[0]
        assert not bad.successful and node._pipeline.settings.detection_width == 480
        bad = node.set_parameters([Parameter('model', value=str(tmp_path / 'missing.onnx'))])[0]
        assert not bad.successful and 'missing.onnx' in bad.reason
        assert node._pipeline.classifier.path == model  # still running the old model
        bad = node.set_parameters([Parameter('detector', value='magic')])[0]
        assert not bad.successful and 'haar' in bad.reason
        bad = node.set_parameters([Parameter('input_type', value='compressed')])[0]
        assert not bad.successful
        described = node.describe_parameters(['detection_width', 'max_rate_hz'])
        assert described[0].integer_range[0].from_value == 0 and described[0].description
        assert described[1].floating_point_range[0].to_value == 1000.0
    finally:
        node.destroy_node()


def _in_effect(node, name: str):
    """Return the value the running node actually uses for parameter ``name``."""
    from fer_ros.settings import SPECS

    if name in SPECS:
        return getattr(node._pipeline.settings, name)
    return {
        'enable': lambda: node._subscription is not None,
        'hri_output': lambda: node._hri is not None,
        'max_rate_hz': lambda: node._worker.max_rate_hz,
        'publish_annotated': lambda: node._publish_annotated,
        'use_cv_bridge': lambda: node._decoder.using_cv_bridge,
        'input_type': lambda: node._decoder.compressed,
        'reliability': lambda: node._subscription.qos_profile.reliability,
    }[name]()


def test_every_parameter_rejects_bad_values_and_keeps_its_value(ros_context, tmp_path):
    """
    Return bad values for every parameter.

    Out of range on each bounded side, NaN, unknown choices, and every wrong type.
    """
    from fer_ros.ros.node import _PARAMETER_TYPES, FerNode
    from fer_ros.ros.parameters import ALL_SETTINGS, READ_ONLY

    model = tiny_model(tmp_path / 'tiny.onnx')
    node = FerNode(context=ros_context, parameter_overrides=[Parameter('model', value=str(model))])
    tried = 0
    try:
        for spec in ALL_SETTINGS:
            before, in_effect = node.get_parameter(spec.name).value, _in_effect(node, spec.name)
            for what, value in bad_parameter_values(spec):
                result = node.set_parameters([Parameter(spec.name, value=value)])[0]
                case = f'{spec.name} = {value!r} ({what}): {result.reason}'
                assert not result.successful, case
                if spec.name in READ_ONLY:
                    assert 'read-only' in result.reason, case
                # ours ("allowed: int in [1, 256]") or rclpy's range check ("Min: 1, Max: 256")
                else:
                    assert f'allowed: {spec.allowed()}' in result.reason or (
                        f'Min: {spec.type(spec.min)}, Max: {spec.type(spec.max)}' in result.reason
                    ), case
                assert node.get_parameter(spec.name).value == before, case
                assert node.describe_parameter(spec.name).type == _PARAMETER_TYPES[spec.type], case
                assert _in_effect(node, spec.name) == in_effect, case
                tried += 1
        assert tried >= 5 * len(ALL_SETTINGS)
        # and the node still takes good values afterwards
        assert node.set_parameters([Parameter('max_faces', value=3)])[0].successful
        assert node._pipeline.settings.max_faces == 3
    finally:
        node.destroy_node()


def test_bad_start_up_value_fails_naming_the_parameter(ros_context, tmp_path):
    from fer_ros.errors import SettingsError
    from fer_ros.ros.node import FerNode
    from rclpy.exceptions import ParameterException

    model = str(tiny_model(tmp_path / 'tiny.onnx'))
    with pytest.raises(
        SettingsError, match=r'face_margin=0 is an integer, not a double \(write 0.0\)'
    ):
        FerNode(
            context=ros_context,
            parameter_overrides=[
                Parameter('model', value=model),
                Parameter('face_margin', value=0),
            ],
        )
    # rclpy checks the descriptor's range itself while declaring (main() prints it and exits 2)
    with pytest.raises(
        ParameterException, match=r'max_faces out of range. Min: 1, Max: 256, value: 0'
    ):
        FerNode(
            context=ros_context,
            parameter_overrides=[Parameter('model', value=model), Parameter('max_faces', value=0)],
        )


def test_missing_model_fails_at_start_naming_the_file(ros_context, tmp_path):
    from fer_ros.errors import ModelError
    from fer_ros.ros.node import FerNode

    with pytest.raises(ModelError, match='nothing.onnx'):
        missing = str(tmp_path / 'nothing.onnx')
        FerNode(context=ros_context, parameter_overrides=[Parameter('model', value=missing)])


def test_worker_stops_cleanly(ros_context, tmp_path):
    from fer_ros.ros.node import FerNode

    node = FerNode(
        context=ros_context,
        parameter_overrides=[Parameter('model', value=str(tiny_model(tmp_path / 'tiny.onnx')))],
    )
    worker = node._worker.thread
    node.destroy_node()
    assert not worker.is_alive()


def _graph(ros_context, node):
    helper = rclpy.create_node('fer_test_helper', context=ros_context)
    executor = MultiThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(helper)
    return helper, executor


def _stamped(frame, node):
    msg = _image(frame, 0)
    msg.header.stamp = node.get_clock().now().to_msg()
    return msg


def test_enable_false_drops_the_subscription_and_true_brings_it_back(ros_context, tmp_path, faces):
    from fer_ros.ros.node import FerNode

    node = FerNode(
        context=ros_context,
        parameter_overrides=[Parameter('model', value=str(tiny_model(tmp_path / 'tiny.onnx')))],
    )
    helper, executor = _graph(ros_context, node)
    received = []
    helper.create_subscription(FaceExpressionArray, 'expressions', received.append, 10)
    pub = helper.create_publisher(Image, 'image', qos_profile_sensor_data)
    frame = face_frame(faces[0])
    try:
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        assert node.set_parameters([Parameter('enable', value=False)])[0].successful
        _spin_until(executor, lambda: pub.get_subscription_count() == 0, timeout=5.0)
        assert pub.get_subscription_count() == 0, 'disabled: nobody subscribes to the camera'
        before = node._stats.received
        for _ in range(5):
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: False, timeout=0.1)
        assert node._stats.received == before and not received
        level, summary, _ = node._stats.report(disabled=node._subscription is None)
        assert 'disabled' in summary
        assert node.set_parameters([Parameter('enable', value=True)])[0].successful
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        for _ in range(20):
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: bool(received), timeout=0.2)
        assert received, 'enabled again: frames are processed'
    finally:
        executor.shutdown()
        node.destroy_node()


def test_a_model_change_returns_at_once_and_expressions_keep_flowing(ros_context, tmp_path, faces):
    """
    The new model loads in the background; frames keep being published while it loads.

    The load is held open (as a TensorRT engine build would hold it) until the test has seen
    ten expressions published after the parameter call, so the check does not depend on how
    fast this machine is: a node that loaded on the executor thread would publish nothing
    meanwhile, and one that waited in the parameter call would return only after the load.
    """
    from fer_ros.pipeline import Pipeline
    from fer_ros.ros.node import FerNode

    first, second = tiny_model(tmp_path / 'first.onnx'), tiny_model(tmp_path / 'second.onnx')
    node = FerNode(
        context=ros_context,
        parameter_overrides=[
            Parameter('model', value=str(first)),
            Parameter('tracking', value=False),
        ],
    )
    real_prepare = Pipeline.prepare
    release, finished = threading.Event(), threading.Event()

    def held_prepare(self, settings):
        release.wait(timeout=30.0)
        try:
            return real_prepare(self, settings)
        finally:
            finished.set()

    helper, executor = _graph(ros_context, node)
    arrivals = []
    helper.create_subscription(FaceExpressionArray, 'expressions', arrivals.append, 50)
    pub = helper.create_publisher(Image, 'image', qos_profile_sensor_data)
    frame = face_frame(faces[0])
    try:
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        Pipeline.prepare = held_prepare
        result = node.set_parameters([Parameter('model', value=str(second))])[0]
        assert result.successful and not finished.is_set(), 'the parameter call does not wait'
        assert node._pipeline.classifier.path == first  # still the running model
        before = len(arrivals)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and len(arrivals) - before < 10:
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: False, timeout=1 / 30)
        assert len(arrivals) - before >= 10, (
            'frames are published on the old model while the new one loads'
        )
        assert not finished.is_set(), 'the load is still held'
        release.set()
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and node._pipeline.classifier.path != second:
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: False, timeout=1 / 30)
        assert node._pipeline.classifier.path == second
        count = len(arrivals)
        for _ in range(20):
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: len(arrivals) > count, timeout=0.2)
        assert len(arrivals) > count, 'expressions keep flowing on the new model'
    finally:
        release.set()
        Pipeline.prepare = real_prepare
        executor.shutdown()
        node.destroy_node()


def test_a_failed_background_load_keeps_the_model_and_sets_the_parameter_back(
    ros_context, tmp_path
):
    from fer_ros.ros.node import FerNode

    model = tiny_model(tmp_path / 'tiny.onnx')
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(b'not an onnx model at all')
    node = FerNode(context=ros_context, parameter_overrides=[Parameter('model', value=str(model))])
    executor = MultiThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        assert node.set_parameters([Parameter('model', value=str(corrupt))])[
            0
        ].successful  # file exists
        assert node._switcher.wait(timeout=10.0)
        _spin_until(executor, lambda: node.get_parameter('model').value == str(model), timeout=5.0)
        assert node._pipeline.classifier.path == model
        assert node.get_parameter('model').value == str(model), 'the parameter shows what runs'
        assert 'corrupt.onnx' in node._last_failure
    finally:
        executor.shutdown()
        node.destroy_node()


def test_library_warnings_and_image_age_reach_ros(ros_context, tmp_path, faces):
    """A missing execution provider is reported on /rosout; diagnostics carry the image age."""
    from fer_ros.ros.node import FerNode
    from rcl_interfaces.msg import Log

    helper = rclpy.create_node('fer_test_rosout', context=ros_context)
    logs = []
    helper.create_subscription(Log, '/rosout', logs.append, 100)
    node = FerNode(
        context=ros_context,
        # A name of its own: Humble's rosout keeps one publisher per node name per process, and
        # loses it when an earlier test's fer_node of the same name is destroyed.
        cli_args=['--ros-args', '-r', '__node:=fer_node_rosout_test'],
        parameter_overrides=[
            Parameter('model', value=str(tiny_model(tmp_path / 'tiny.onnx'))),
            Parameter('providers', value=['CPUExecutionProvider']),
        ],
    )
    executor = MultiThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(helper)
    pub = helper.create_publisher(Image, 'image', qos_profile_sensor_data)
    try:
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        for _ in range(10):
            pub.publish(_stamped(face_frame(faces[0]), node))
            _spin_until(executor, lambda: False, timeout=0.05)
        _spin_until(executor, lambda: node._stats.processed > 0)
        # This onnxruntime has no CUDA: the fallback warning comes from the library's logger.
        node.set_parameters(
            [Parameter('providers', value=['CUDAExecutionProvider', 'CPUExecutionProvider'])]
        )
        node._switcher.wait(timeout=10.0)
        fallback = 'CUDAExecutionProvider is not available'
        _spin_until(executor, lambda: any(fallback in m.msg for m in logs), timeout=5.0)
        warned = [m for m in logs if fallback in m.msg]
        # Log.WARN is a ``byte`` constant: bytes (b'\x1e') on Humble, an int on later distros.
        warn = Log.WARN if isinstance(Log.WARN, int) else Log.WARN[0]
        assert warned and warned[0].name == node.get_logger().name and warned[0].level == warn
        p50, p95 = node._stats.image_age_percentiles()
        assert 0.0 < p50 <= p95 < 5000.0
    finally:
        executor.shutdown()
        node.destroy_node()


def test_hri_output_without_hri_msgs_is_refused_naming_it(ros_context, tmp_path):
    import importlib.util

    from fer_ros.errors import SettingsError
    from fer_ros.ros.node import FerNode

    if importlib.util.find_spec('hri_msgs') is not None:
        pytest.skip('hri_msgs is installed here')
    model = str(tiny_model(tmp_path / 'tiny.onnx'))
    with pytest.raises(SettingsError, match='hri_output needs the ROS4HRI messages'):
        FerNode(
            context=ros_context,
            parameter_overrides=[
                Parameter('model', value=model),
                Parameter('hri_output', value=True),
            ],
        )
    node = FerNode(context=ros_context, parameter_overrides=[Parameter('model', value=model)])
    try:
        result = node.set_parameters([Parameter('hri_output', value=True)])[0]
        assert not result.successful and 'hri_msgs' in result.reason
        assert node.get_parameter('hri_output').value is False
    finally:
        node.destroy_node()


def test_hri_output_publishes_rep155_topics(ros_context, tmp_path, faces):
    """With real hri_msgs (ros4hri/hri_msgs built and sourced): tracked ids, expression, roi."""
    hri_msgs = pytest.importorskip('hri_msgs.msg', reason='hri_msgs is not built here')
    from fer_ros.ros.node import FerNode

    node = FerNode(
        context=ros_context,
        parameter_overrides=[
            Parameter('model', value=str(tiny_model(tmp_path / 'tiny.onnx'))),
            Parameter('hri_output', value=True),
        ],
    )
    helper, executor = _graph(ros_context, node)
    tracked, expressions, rois = [], [], []
    helper.create_subscription(hri_msgs.IdsList, '/humans/faces/tracked', tracked.append, 10)
    pub = helper.create_publisher(Image, 'image', qos_profile_sensor_data)
    frame = face_frame(faces[0])
    try:
        _spin_until(executor, lambda: pub.get_subscription_count() > 0)
        for _ in range(40):
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: any(t.ids for t in tracked), timeout=0.1)
        face = next(t.ids[0] for t in tracked if t.ids)
        helper.create_subscription(
            hri_msgs.Expression, f'/humans/faces/{face}/expression', expressions.append, 10
        )
        helper.create_subscription(
            hri_msgs.NormalizedRegionOfInterest2D, f'/humans/faces/{face}/roi', rois.append, 10
        )
        for _ in range(40):
            pub.publish(_stamped(frame, node))
            _spin_until(executor, lambda: bool(expressions and rois), timeout=0.1)
        assert expressions and rois
        assert expressions[-1].expression in (
            'angry',
            'disgusted',
            'scared',
            'happy',
            'sad',
            'surprised',
            'neutral',
        )
        assert 0.0 < expressions[-1].confidence <= 1.0 and np.isnan(expressions[-1].valence)
        roi = rois[-1]
        assert 0.0 <= roi.xmin < roi.xmax <= 1.0 and 0.0 <= roi.ymin < roi.ymax <= 1.0
    finally:
        executor.shutdown()
        node.destroy_node()
