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
Settings changes on a running node (no ROS).

Slow loads off the caller's thread, a swap between frames, the newest request winning, failures
keeping the running pipeline; library logs to ROS.
"""

from __future__ import annotations

import logging
import threading
import time

from fer_ros.errors import ModelError
from fer_ros.ros.log_bridge import forward_to
from fer_ros.ros.reload import SettingsSwitcher
from fer_ros.settings import PipelineSettings
import pytest


class SlowPipeline:
    """
    Stand in for Pipeline: ``prepare`` of a new model takes ``load_s``; record what ran when.

    With ``hold``, ``prepare`` also waits until that event is set (for at most 30 s), so a test
    can keep a load open for as long as it needs, however fast or busy the machine is.
    """

    def __init__(self, load_s: float = 0.3, hold: threading.Event | None = None) -> None:
        self.settings = PipelineSettings(model='a.onnx')
        self.load_s = load_s
        self.hold = hold
        self.events = []

    def needs_loading(self, settings):
        return settings.model != self.settings.model

    def prepare(self, settings):
        self.events.append(('prepare', settings.model))
        time.sleep(self.load_s)
        if self.hold is not None:
            self.hold.wait(timeout=30.0)
        if 'missing' in settings.model:
            raise ModelError(f'model file not found: {settings.model}')
        self.events.append(('prepared', settings.model))
        return (self.settings, settings)

    def apply(self, prepared):
        base, settings = prepared
        assert base is self.settings, 'applied against the settings it was prepared for'
        self.settings = settings
        self.events.append(('apply', settings.model))

    def update(self, settings):
        assert not self.needs_loading(settings)
        self.settings = settings
        self.events.append(('update', settings.model))


def _switcher(pipeline, lock=None):
    applied, failed = [], []
    switcher = SettingsSwitcher(
        pipeline,
        lock or threading.Lock(),
        applied.append,
        lambda s, e: failed.append((s.model, str(e))),
    )
    return switcher, applied, failed


def test_a_model_change_returns_at_once_and_frames_go_on_until_the_swap():
    hold = threading.Event()
    pipeline = SlowPipeline(load_s=0.0, hold=hold)
    lock = threading.Lock()
    switcher, applied, failed = _switcher(pipeline, lock)
    try:
        assert switcher.request(pipeline.settings.replace(model='b.onnx')) is True
        assert ('prepared', 'b.onnx') not in pipeline.events, (
            'the caller (the parameter callback) does not wait for the load'
        )
        frames_on_old = 0
        for _ in range(5):  # a worker processing frames under the lock while the load is held
            with lock:
                frames_on_old += pipeline.settings.model == 'a.onnx'
        assert frames_on_old == 5 and switcher.loading is not None
    finally:
        hold.set()
    deadline = time.monotonic() + 10.0
    while switcher.loading is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (
        pipeline.settings.model == 'b.onnx'
        and [s.model for s in applied] == ['b.onnx']
        and not failed
    )


def test_changes_without_loading_apply_before_request_returns():
    pipeline = SlowPipeline()
    switcher, applied, _ = _switcher(pipeline)
    assert switcher.request(pipeline.settings.replace(detection_width=480)) is False
    assert pipeline.settings.detection_width == 480 and len(applied) == 1


def test_the_newest_request_wins_and_keeps_the_changes_made_meanwhile():
    pipeline = SlowPipeline(load_s=0.3)
    switcher, applied, _ = _switcher(pipeline)
    switcher.request(pipeline.settings.replace(model='b.onnx'))
    time.sleep(0.05)
    # While b loads: a number change and another model; both end up running, b never does.
    switcher.request(pipeline.settings.replace(model='b.onnx', detection_width=480))
    switcher.request(pipeline.settings.replace(model='c.onnx', detection_width=480))
    assert switcher.wait(timeout=5.0)
    assert pipeline.settings.model == 'c.onnx' and pipeline.settings.detection_width == 480
    assert ('apply', 'b.onnx') not in pipeline.events
    assert applied[-1].model == 'c.onnx'


def test_a_failed_load_keeps_the_running_model_and_is_reported():
    pipeline = SlowPipeline(load_s=0.05)
    switcher, applied, failed = _switcher(pipeline)
    switcher.request(pipeline.settings.replace(model='missing.onnx'))
    assert switcher.wait(timeout=5.0)
    assert pipeline.settings.model == 'a.onnx' and not applied
    assert failed == [('missing.onnx', 'model file not found: missing.onnx')]
    switcher.request(pipeline.settings.replace(model='b.onnx'))  # and the next change still works
    assert switcher.wait(timeout=5.0) and pipeline.settings.model == 'b.onnx'


class FakeRosLogger:
    def __init__(self):
        self.lines = []

    def __getattr__(self, level):
        return lambda message: self.lines.append((level, message))


def test_library_warnings_reach_the_ros_logger_and_are_not_printed(capsys):
    ros = FakeRosLogger()
    undo = forward_to(ros)
    try:
        logging.getLogger('fer_ros.onnx_session').warning(
            'execution provider %s is not available', 'X'
        )
        logging.getLogger('fer_ros.pipeline').info('model loaded')
        logging.getLogger('fer_ros.pipeline').debug('not shown at the default level')
    finally:
        undo()
    assert ros.lines == [
        ('warning', 'execution provider X is not available'),
        ('info', 'model loaded'),
    ]
    assert capsys.readouterr().err == ''
    logging.getLogger('fer_ros.pipeline').warning('after undo: not forwarded')
    assert len(ros.lines) == 2


@pytest.mark.parametrize('level, method', [(logging.ERROR, 'error'), (logging.CRITICAL, 'fatal')])
def test_severities_map_to_ros_levels(level, method):
    library_module_logger = logging.getLogger('fer_ros.x')  # made at import, as in fer_ros
    ros = FakeRosLogger()
    undo = forward_to(ros)
    try:
        library_module_logger.log(level, 'm')
    finally:
        undo()
    assert ros.lines == [(method, 'm')]


def test_records_of_non_propagating_library_loggers_are_forwarded_too():
    """ROS 2 launch, once imported, makes every new logger non-propagating (LaunchLogger)."""
    isolated = logging.getLogger('fer_ros.isolated_for_test')
    isolated.propagate = False
    ros = FakeRosLogger()
    undo = forward_to(ros)
    try:
        isolated.warning('provider fallback')
    finally:
        undo()
        isolated.propagate = True
    assert ros.lines == [('warning', 'provider fallback')]
    assert isolated.handlers == []  # undo removes it again
