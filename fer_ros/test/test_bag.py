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

"""``fer-ros bag`` on a small rosbag2 written here, with real FER2013 faces in its frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip('rosbags', reason='rosbags is in the dev/bag extras')

from fer_ros import cli  # noqa: E402, I100 (after the skip check)
from fer_ros.ros.messages import ARRAY_MSG, rosbags_typestore  # noqa: E402
from ros_fixtures import detectable_faces, face_frame, png_declaring, tiny_model  # noqa: E402
from rosbags.highlevel import AnyReader  # noqa: E402
from rosbags.rosbag2 import StoragePlugin, Writer  # noqa: E402

TOPIC = '/camera/image_raw'
TS = rosbags_typestore('humble')
T = TS.types


def _header(i: int):
    stamp = T['builtin_interfaces/msg/Time'](sec=100 + i, nanosec=i)
    return T['std_msgs/msg/Header'](stamp=stamp, frame_id='cam')


def _image(i: int, frame: np.ndarray):
    h, w = frame.shape[:2]
    return T['sensor_msgs/msg/Image'](
        header=_header(i),
        height=h,
        width=w,
        encoding='bgr8',
        is_bigendian=0,
        step=w * 3,
        data=frame.reshape(-1),
    )


def _compressed(i: int, frame: np.ndarray):
    ok, buf = cv2.imencode('.jpg', frame)
    assert ok
    return T['sensor_msgs/msg/CompressedImage'](
        header=_header(i), format='jpeg', data=buf.reshape(-1)
    )


@pytest.fixture(scope='module')
def frames(fer2013_private_test):
    faces = detectable_faces(fer2013_private_test, 3)
    assert len(faces) == 3
    empty = np.full_like(face_frame(faces[0]), 128)
    return [face_frame(f) for f in faces] + [empty]


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp('model') / 'tiny.onnx')


def _write_bag(path, frames, compressed: bool, storage: StoragePlugin, corrupt: bool = True):
    msgtype = 'sensor_msgs/msg/CompressedImage' if compressed else 'sensor_msgs/msg/Image'
    make = _compressed if compressed else _image
    with Writer(path, version=8, storage_plugin=storage) as writer:
        conn = writer.add_connection(TOPIC, msgtype, typestore=TS)
        other = writer.add_connection('/other', 'std_msgs/msg/String', typestore=TS)
        writer.write(
            other, 1, TS.serialize_cdr(T['std_msgs/msg/String'](data='x'), 'std_msgs/msg/String')
        )
        for i, frame in enumerate(frames):
            msg = make(i, frame)
            if (
                corrupt and i == 1
            ):  # a broken frame in the middle: counted, skipped, nothing else lost
                msg.data = msg.data[: len(msg.data) // 3]
            writer.write(conn, (i + 1) * 100_000_000, TS.serialize_cdr(msg, msgtype))


def _read(path):
    out = {}
    with AnyReader([path], default_typestore=TS) as reader:
        for conn, timestamp, raw in reader.messages():
            out.setdefault(conn.topic, []).append(
                (timestamp, reader.deserialize(raw, conn.msgtype))
            )
    return out


@pytest.mark.parametrize(
    'compressed, storage, extra',
    [
        (False, StoragePlugin.SQLITE3, []),
        (True, StoragePlugin.MCAP, ['--storage', 'mcap', '--include-input']),
    ],
)
def test_bag_writes_expressions_and_annotated_images(
    tmp_path, frames, model, compressed, storage, extra, capsys
):
    src, dst = tmp_path / 'in', tmp_path / 'out'
    _write_bag(src, frames, compressed, storage)
    code = cli.main(
        ['bag', str(src), str(dst), '--topic', TOPIC, '--model', str(model), '--no-tracking']
        + extra
    )
    assert code == 0
    assert '4 frames read, 3 processed, 1 skipped' in capsys.readouterr().out
    topics = _read(dst)
    expected = {'/fer/expressions', '/fer/image_annotated'}
    if '--include-input' in extra:
        expected.add(TOPIC)
    assert set(topics) == expected
    assert len(topics['/fer/expressions']) == 3 and len(topics['/fer/image_annotated']) == 3
    if '--include-input' in extra:
        assert len(topics[TOPIC]) == 4  # the corrupt frame is copied as it was
    kept = [0, 2, 3]  # frame 1 was corrupt
    for (timestamp, msg), i in zip(topics['/fer/expressions'], kept):
        assert timestamp == (i + 1) * 100_000_000
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
            100 + i,
            i,
            'cam',
        )
        assert (msg.image_width, msg.image_height) == (320, 240)
    faces = [len(msg.faces) for _, msg in topics['/fer/expressions']]
    assert faces == [1, 1, 0]  # real faces found; the empty frame still gets a message
    face = topics['/fer/expressions'][0][1].faces[0]
    assert face.labels[int(np.argmax(face.probabilities))] == face.expression
    assert (
        abs(face.roi.x_offset + face.roi.width / 2 - 155) < 30
    )  # the face was placed centred at x=155
    for (_, image), i in zip(topics['/fer/image_annotated'], kept):
        assert image.encoding == 'bgr8' and (image.width, image.height) == (320, 240)
        assert image.header.stamp.sec == 100 + i


def test_bag_without_annotated_images(tmp_path, frames, model, capsys):
    src, dst = tmp_path / 'in', tmp_path / 'out'
    _write_bag(src, frames[:2], False, StoragePlugin.SQLITE3, corrupt=False)
    assert (
        cli.main(
            [
                'bag',
                str(src),
                str(dst),
                '--topic',
                TOPIC,
                '--model',
                str(model),
                '--no-annotated',
                '--prefix',
                '/robot/fer',
            ]
        )
        == 0
    )
    topics = _read(dst)
    assert set(topics) == {'/robot/fer/expressions'}
    assert TS.serialize_cdr(topics['/robot/fer/expressions'][0][1], ARRAY_MSG)


def test_bag_errors_name_the_problem(tmp_path, frames, model, capsys):
    src = tmp_path / 'in'
    _write_bag(src, frames[:1], False, StoragePlugin.SQLITE3, corrupt=False)
    assert (
        cli.main(
            ['bag', str(src), str(tmp_path / 'o1'), '--topic', '/nope', '--model', str(model)]
        )
        == 2
    )
    assert f'image topics there: {TOPIC}' in capsys.readouterr().err
    assert (
        cli.main(
            ['bag', str(src), str(tmp_path / 'o2'), '--topic', '/other', '--model', str(model)]
        )
        == 2
    )
    assert 'has type std_msgs/msg/String' in capsys.readouterr().err
    assert cli.main(['bag', str(src), str(src), '--topic', TOPIC, '--model', str(model)]) == 2
    assert 'already exists' in capsys.readouterr().err
    assert (
        cli.main(
            [
                'bag',
                str(src),
                str(tmp_path / 'o3'),
                '--topic',
                TOPIC,
                '--model',
                str(model),
                '--detection-width',
                '-5',
            ]
        )
        == 2
    )
    assert 'detection_width' in capsys.readouterr().err
    assert (
        cli.main(
            [
                'bag',
                str(src),
                str(tmp_path / 'o4'),
                '--topic',
                TOPIC,
                '--model',
                str(tmp_path / 'missing.onnx'),
            ]
        )
        == 2
    )
    assert 'missing.onnx' in capsys.readouterr().err


CORRUPTIONS = {
    False: ['truncated', 'step', 'encoding', 'huge', 'empty', 'cdr'],
    True: ['garbage', 'truncated', 'bomb', 'format', 'empty', 'cdr'],
}
GARBAGE_CDR = b'\x00\x01\x00\x00\xff\xff\xff\x7f not a message'


def _corrupt(kind: str, msg, msgtype: str) -> bytes:
    """Return the serialized message spoiled in one way (``cdr``: bytes that are no message)."""
    if kind == 'cdr':
        return GARBAGE_CDR
    if kind == 'truncated':
        msg.data = msg.data[: len(msg.data) // 3]
    elif kind == 'step':
        msg.step = msg.width * 3 - 1
    elif kind == 'encoding':
        msg.encoding = 'bayer_rggb8'
    elif kind == 'huge':
        msg.height = msg.width = 2**31
    elif kind == 'empty' and msgtype.endswith('/Image'):
        msg.height = 0
    elif kind == 'empty':
        msg.data = np.zeros(0, np.uint8)
    elif kind == 'garbage':
        msg.data = np.frombuffer(b'\xff\xd8\xffnot a jpeg\xff\xd9', np.uint8)
    elif kind == 'bomb':
        msg.format, msg.data = 'png', np.frombuffer(png_declaring(50000, 50000), np.uint8)
    elif kind == 'format':
        msg.format = '16UC1; compressedDepth'
    return TS.serialize_cdr(msg, msgtype)


@pytest.mark.parametrize('compressed', [False, True])
def test_bag_skips_every_kind_of_corrupt_message_and_processes_the_frames_after_them(
    tmp_path, frames, model, compressed, capsys
):
    msgtype = 'sensor_msgs/msg/CompressedImage' if compressed else 'sensor_msgs/msg/Image'
    make = _compressed if compressed else _image
    corruptions = CORRUPTIONS[compressed]
    good = []  # bag timestamps of the intact frames
    src, dst = tmp_path / 'in', tmp_path / 'out'
    with Writer(src, version=8, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conn = writer.add_connection(TOPIC, msgtype, typestore=TS)
        for i, kind in enumerate(corruptions):  # corrupt, good, corrupt, good, ...
            frame = frames[i % len(frames)]
            writer.write(conn, (2 * i + 1) * 1000, _corrupt(kind, make(i, frame), msgtype))
            writer.write(conn, (2 * i + 2) * 1000, TS.serialize_cdr(make(i, frame), msgtype))
            good.append((2 * i + 2) * 1000)
    args = ['bag', str(src), str(dst), '--topic', TOPIC, '--model', str(model), '--no-tracking']
    assert cli.main(args) == 0
    n = len(corruptions)
    out = capsys.readouterr().out
    assert f'{2 * n} frames read, {n} processed, {n} skipped (corrupt or unsupported)' in out
    expressions = _read(dst)['/fer/expressions']
    assert [timestamp for timestamp, _ in expressions] == good
    assert [len(msg.faces) for _, msg in expressions] == [1, 1, 1, 0, 1, 1]


def test_bag_counts_frames_the_pipeline_fails_on_and_goes_on(
    tmp_path, frames, model, capsys, monkeypatch
):
    from fer_ros.pipeline import Pipeline

    src, dst = tmp_path / 'in', tmp_path / 'out'
    _write_bag(src, frames, False, StoragePlugin.SQLITE3, corrupt=False)
    real, calls = Pipeline.process, []

    def flaky(self, frame):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('onnxruntime: simulated fault')
        return real(self, frame)

    monkeypatch.setattr(Pipeline, 'process', flaky)
    args = ['bag', str(src), str(dst), '--topic', TOPIC, '--model', str(model), '--no-tracking']
    assert cli.main(args) == 1
    assert (
        '4 frames read, 3 processed, 0 skipped (corrupt or unsupported), 1 failed in processing'
        in (capsys.readouterr().out)
    )
    assert [ts for ts, _ in _read(dst)['/fer/expressions']] == [
        100_000_000,
        300_000_000,
        400_000_000,
    ]


def test_bag_exits_1_when_no_frame_could_be_processed(tmp_path, frames, model, capsys):
    """A bag whose every frame is corrupt writes an empty result and exits with status 1."""
    src, dst = tmp_path / 'in', tmp_path / 'out'
    msgtype = 'sensor_msgs/msg/Image'
    with Writer(src, version=8, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conn = writer.add_connection(TOPIC, msgtype, typestore=TS)
        for i in range(3):
            writer.write(
                conn, (i + 1) * 1000, _corrupt('truncated', _image(i, frames[0]), msgtype)
            )
    args = ['bag', str(src), str(dst), '--topic', TOPIC, '--model', str(model), '--no-tracking']
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert '3 frames read, 0 processed, 3 skipped' in captured.out
    assert 'no frame of the 3 read could be processed' in captured.err
