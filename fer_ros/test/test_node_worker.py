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
The node's frame worker without ROS.

Any failure on one frame is counted and logged, the thread goes on.
"""

from __future__ import annotations

import threading
import time

import cv2
from fer_ros.errors import ImageConversionError
from fer_ros.ros.stats import NodeStats
from fer_ros.ros.worker import FrameWorker
import numpy as np
import pytest


def _wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return condition()


def _failure(kind: str) -> BaseException:
    """Return what processing one frame can raise: bad data, and bugs or faults further down."""
    if kind == 'cv2':
        try:
            cv2.cvtColor(np.zeros((2, 2), np.uint8), cv2.COLOR_BGR2GRAY)  # wrong channel count
        except cv2.error as exc:
            return exc
    failures = {
        'corrupt': ImageConversionError('corrupt jpeg data'),
        'runtime': RuntimeError('onnxruntime failed'),
        'value': ValueError('bad shape'),
        'key': KeyError('label'),
        'memory': MemoryError(),
        'zero': ZeroDivisionError('division by zero'),
    }
    return failures[kind]


class Recorder:
    """A ``process`` function: raises for the failures it is told of, records the rest in order."""

    def __init__(self) -> None:
        self.processed = []

    def __call__(self, msg, received_at: float) -> None:
        index, kind = msg
        if kind != 'good':
            raise _failure(kind)
        self.processed.append(index)


@pytest.fixture()
def worker_parts():
    stats, recorder, warnings, errors = NodeStats(), Recorder(), [], []
    worker = FrameWorker(recorder, stats, warn=warnings.append, error=errors.append)
    worker.start()
    yield worker, stats, recorder, warnings, errors
    worker.stop()


def test_every_kind_of_failure_is_counted_logged_and_the_next_frames_are_processed(worker_parts):
    worker, stats, recorder, warnings, errors = worker_parts
    kinds = [
        'good',
        'corrupt',
        'good',
        'runtime',
        'cv2',
        'good',
        'value',
        'key',
        'memory',
        'zero',
        'corrupt',
        'good',
        'good',
    ]
    for index, kind in enumerate(kinds):
        worker.submit((index, kind))
        # one at a time (the worker keeps only the newest frame): wait until this one is handled
        assert _wait_until(
            lambda n=index + 1: len(recorder.processed) + stats.rejected + stats.errors == n
        )
    assert recorder.processed == [i for i, k in enumerate(kinds) if k == 'good']
    assert stats.rejected == 2 and stats.errors == 6 and stats.received == len(kinds)
    assert worker.thread.is_alive()
    assert len(warnings) == 2 and all(
        w.startswith('frame skipped: corrupt jpeg data') for w in warnings
    )
    assert len(errors) == 6 and all(e.startswith('frame processing failed: ') for e in errors)
    assert errors[0] == 'frame processing failed: RuntimeError: onnxruntime failed'
    assert (
        errors[1].startswith('frame processing failed: cv2.error: OpenCV')
        and '\n' not in errors[1]
    )
    assert errors[4] == 'frame processing failed: MemoryError'
    report = dict(stats.report()[2])
    assert report['frames_rejected'] == '2' and report['processing_errors'] == '6'


def test_a_failing_logger_does_not_end_the_worker():
    stats, recorder = NodeStats(), Recorder()

    def broken_log(message: str) -> None:
        raise OSError('log sink gone')

    worker = FrameWorker(recorder, stats, warn=broken_log, error=broken_log)
    worker.start()
    try:
        for index, kind in enumerate(['corrupt', 'runtime', 'good']):
            worker.submit((index, kind))
            handled = index + 1
            assert _wait_until(
                lambda n=handled: stats.rejected + stats.errors + len(recorder.processed) == n
            )
        assert recorder.processed == [2] and worker.thread.is_alive()
    finally:
        worker.stop()


def test_failures_while_shutting_down_are_not_counted():
    stats, recorder, errors = NodeStats(), Recorder(), []
    worker = FrameWorker(
        recorder, stats, warn=errors.append, error=errors.append, shutting_down=lambda: True
    )
    worker.run_one((0, 'runtime'), 0.0)
    assert stats.errors == 0 and errors == []
    worker.run_one((1, 'corrupt'), 0.0)  # bad data is still bad data
    assert stats.rejected == 1


def test_only_the_newest_frame_is_processed_and_the_rest_are_counted_as_dropped():
    stats, seen, release = NodeStats(), [], threading.Event()

    def slow(msg, received_at):
        seen.append(msg)
        release.wait(10.0)

    worker = FrameWorker(slow, stats, warn=print, error=print)
    worker.start()
    try:
        worker.submit(0)
        assert _wait_until(lambda: seen == [0])
        for i in range(1, 6):  # arrive while frame 0 is being processed
            worker.submit(i)
        release.set()
        assert _wait_until(lambda: seen == [0, 5])
        assert stats.received == 6 and stats.dropped == 4
    finally:
        worker.stop()
    assert not worker.thread.is_alive()
