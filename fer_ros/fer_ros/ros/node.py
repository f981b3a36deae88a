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
The fer_ros node: camera images in, facial expressions, annotated images and diagnostics out.

Topics (relative to the node's namespace; the launch file remaps ``image``):

* ``image`` (sensor_msgs/Image) or ``image/compressed`` (sensor_msgs/CompressedImage),
  chosen by ``input_type``; keep-last depth 1, best effort unless ``reliability``
  says otherwise.
* ``expressions`` (fer_ros_msgs/FaceExpressionArray): one per processed frame,
  also when no face is seen, with the source image's header.
* ``image_annotated`` (sensor_msgs/Image): only while someone subscribes.
* ``/diagnostics`` (diagnostic_msgs/DiagnosticArray): node health once a second.

``enable: false`` drops the image subscription (no CPU spent on images) until it is set
true again. A new ``model`` or ``detector`` is loaded in a background thread while frames
keep flowing on the running one, and swapped in between two frames
(:class:`~fer_ros.ros.reload.SettingsSwitcher`); a load that fails keeps the running
model, is logged and shown in diagnostics, and the parameter is set back. fer_ros's own
library messages (e.g. an execution provider falling back to CPU) go to the node's
logger, hence to ``/rosout``.

Frames are handed from the subscription callback to one worker thread through a
one-slot mailbox (:class:`~fer_ros.ros.worker.FrameWorker`): the worker always
takes the newest frame, so a slow machine drops frames (counted) instead of
building a backlog, and ``max_rate_hz`` bounds the work. Parameters are
validated on every change and either applied or rejected with the reason. A
bad frame is counted as rejected, any other failure on one frame as a
processing error; both are logged (throttled) and skipped, and the worker goes on.
"""

from __future__ import annotations

from pathlib import Path
import signal
import threading
import time
from typing import Any, List, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from fer_ros_msgs.msg import FaceExpressionArray
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
    SetParametersResult,
)
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image

from .convert import annotated_image
from .decode import FrameDecoder
from .hri import HriPublisher, import_hri_msgs
from .log_bridge import forward_to
from .messages import expressions_message, rclpy_kit
from .parameters import ALL_SETTINGS, ALL_SPECS, check_parameter_changes, READ_ONLY
from .reload import SettingsSwitcher
from .stats import NodeStats
from .worker import FrameWorker
from ..errors import FerRosError
from ..onnx_session import check_model_file
from ..pipeline import Pipeline
from ..resources import resolve_model
from ..settings import PipelineSettings, SettingSpec

NODE_NAME = 'fer_node'
DIAGNOSTICS_PERIOD_S = 1.0
LOG_THROTTLE_S = 5.0

_PARAMETER_TYPES = {
    bool: ParameterType.PARAMETER_BOOL,
    int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE,
    str: ParameterType.PARAMETER_STRING,
    list: ParameterType.PARAMETER_STRING_ARRAY,
}


def parameter_descriptor(spec: SettingSpec) -> ParameterDescriptor:
    """
    ROS parameter descriptor of a setting: type, description, allowed values and range.

    ``dynamic_typing`` lets a value of the wrong type reach the node's own check
    (:func:`~fer_ros.ros.parameters.check_parameter_changes`), which rejects it with
    a message naming the allowed type and range, instead of rclpy's bare "Wrong
    parameter type"; the check admits only the declared type, so types never change.
    """
    descriptor = ParameterDescriptor(
        name=spec.name,
        type=_PARAMETER_TYPES[spec.type],
        description=spec.description,
        additional_constraints=f'allowed: {spec.allowed()}',
        read_only=spec.name in READ_ONLY,
        dynamic_typing=True,
    )
    if spec.min is not None and spec.max is not None:
        if spec.type is int:
            descriptor.integer_range = [
                IntegerRange(from_value=int(spec.min), to_value=int(spec.max), step=1)
            ]
        elif spec.type is float:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(spec.min), to_value=float(spec.max), step=0.0)
            ]
    return descriptor


def _default(spec: SettingSpec) -> Any:
    return list(spec.default) if spec.type is list else spec.default


class FerNode(Node):
    """Facial expression recognition on a camera topic (see the module docstring)."""

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self._undo_log_forwarding = forward_to(self.get_logger())  # provider fallbacks -> /rosout
        try:
            self._start()
        except BaseException:
            self.stop()  # a failed start leaves no thread and no log handler behind
            raise

    def _start(self) -> None:
        """Parameters, pipeline, publishers, subscription, worker: everything __init__ sets up."""
        for spec in ALL_SETTINGS:
            self.declare_parameter(spec.name, _default(spec), parameter_descriptor(spec))
        given = {spec.name: self.get_parameter(spec.name).value for spec in ALL_SETTINGS}
        # A bad value from a YAML file raises SettingsError: start-up fails, naming the parameter.
        settings, values = check_parameter_changes(PipelineSettings(), given, startup=True)
        self._pipeline = Pipeline(settings)  # raises ModelError naming the file
        self._pipeline_lock = threading.Lock()
        self._switcher = SettingsSwitcher(
            self._pipeline, self._pipeline_lock, self._settings_applied, self._settings_failed
        )
        self._last_failure = ''
        self._set_back_timer = None
        self._publish_annotated: bool = values['publish_annotated']
        self._hri_lock = threading.Lock()
        self._hri: Optional[HriPublisher] = None
        if values['hri_output']:  # raises SettingsError naming hri_msgs when it is missing
            self._hri = HriPublisher(self.create_publisher, self.destroy_publisher)
        compressed = values['input_type'] == 'compressed'
        self._decoder = FrameDecoder(
            compressed, values['use_cv_bridge'], log=self.get_logger().info
        )
        self._kit = rclpy_kit()
        self._stats = NodeStats()
        self._canvas = None

        self._make_publishers()
        self._image_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE
            if values['reliability'] == 'reliable'
            else ReliabilityPolicy.BEST_EFFORT,
        )
        self._image_topic = (
            ('image/compressed', CompressedImage) if compressed else ('image', Image)
        )
        self._subscription = None
        if values['enable']:
            self._subscribe()
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._worker = self._make_worker(values['max_rate_hz'])
        self._worker.start()
        self._diagnostics_timer = self.create_timer(
            DIAGNOSTICS_PERIOD_S, self._publish_diagnostics
        )
        topic, msg_type = self._image_topic
        self.get_logger().info(
            f'{"listening on" if values["enable"] else "disabled; will listen on"} '
            f'{self.resolve_topic_name(topic)} ({msg_type.__name__}, {values["reliability"]}); '
            f'model {self._pipeline.classifier.path} on {self._pipeline.provider}; '
            f'labels {", ".join(self._pipeline.labels)}; '
            f'image conversion: {self._decoder.description}'
        )

    def _make_publishers(self) -> None:
        self._expressions_pub = self.create_publisher(FaceExpressionArray, 'expressions', 10)
        # Reliable keep-last 1: matches RViz's default (reliable) and best-effort viewers alike.
        self._annotated_pub = self.create_publisher(Image, 'image_annotated', 1)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)

    def _make_worker(self, max_rate_hz: float) -> FrameWorker:
        logger = self.get_logger()
        return FrameWorker(
            self._process,
            self._stats,
            warn=lambda m: logger.warning(m, throttle_duration_sec=LOG_THROTTLE_S),
            error=lambda m: logger.error(m, throttle_duration_sec=LOG_THROTTLE_S),
            max_rate_hz=max_rate_hz,
            shutting_down=lambda: not self.context.ok(),
        )

    def _subscribe(self) -> None:
        topic, msg_type = self._image_topic
        self._subscription = self.create_subscription(
            msg_type, topic, self._on_image, self._image_qos
        )

    def _set_enabled(self, enabled: bool) -> None:
        """Subscribe to images, or drop the subscription so no image costs anything."""
        if enabled and self._subscription is None:
            with self._pipeline_lock:
                self._pipeline.reset()  # the scene may have changed while switched off
            self._subscribe()
            self.get_logger().info(f'enabled: listening on {self._subscription.topic_name}')
        elif not enabled and self._subscription is not None:
            self.destroy_subscription(self._subscription)
            self._subscription = None
            self._worker.discard_pending()
            self.get_logger().info('disabled: image subscription dropped until enable is true')

    # -- input ---------------------------------------------------------------------------------

    def _on_image(self, msg: Any) -> None:
        self._worker.submit(msg)

    def _process(self, msg: Any, received_at: float) -> None:
        """
        One frame: decode, run the pipeline, publish.

        Raises on bad input (the worker counts it).
        """
        frame = self._decoder.decode(
            msg
        )  # ImageConversionError: counted as rejected by the worker
        with self._pipeline_lock:
            result = self._pipeline.process(frame)
        self._expressions_pub.publish(expressions_message(self._kit, msg.header, result))
        with self._hri_lock:
            if self._hri is not None:
                self._hri.publish(msg.header, result)
        if self._publish_annotated and self._annotated_pub.get_subscription_count() > 0:
            image, self._canvas = annotated_image(
                self._kit, msg.header, frame, result, self._canvas
            )
            self._annotated_pub.publish(image)
        self._stats.frame_processed(
            received_at, time.monotonic(), len(result.faces), self._image_age(msg)
        )

    def _image_age(self, msg: Any) -> Optional[float]:
        """Seconds from the image's header.stamp to now on the node's clock (None: no stamp)."""
        stamp = msg.header.stamp
        if stamp.sec == 0 and stamp.nanosec == 0:
            return None
        clock = self.get_clock()
        return (clock.now() - Time.from_msg(stamp, clock_type=clock.clock_type)).nanoseconds / 1e9

    # -- parameters ----------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: List[Any]) -> SetParametersResult:
        """
        Check the whole batch, then apply all of it or none of it (the previous values stay).

        Returns at once: a change that loads a model or a detector continues in the background
        (see :class:`~fer_ros.ros.reload.SettingsSwitcher`); a file that does not exist is
        refused here, naming it.
        """
        try:
            changes = {p.name: p.value for p in parameters}
            running = self._switcher.loading or self._pipeline.settings
            new_settings, node_changes = check_parameter_changes(running, changes)
            if node_changes.get('hri_output'):
                import_hri_msgs()  # refuse the change, saying what is missing
            if new_settings != running:
                check_files(new_settings, running)
                if self._switcher.request(new_settings):
                    described = _describe_load(new_settings, running)
                    self.get_logger().info(f'loading {described} in the background')
        except FerRosError as exc:
            self._keep_declared_types(parameters)
            self.get_logger().warning(f'parameter change rejected: {exc}')
            return SetParametersResult(successful=False, reason=str(exc))
        if 'max_rate_hz' in node_changes:
            self._worker.max_rate_hz = node_changes['max_rate_hz']
        if 'publish_annotated' in node_changes:
            self._publish_annotated = node_changes['publish_annotated']
        if 'use_cv_bridge' in node_changes:
            self._decoder.set_use_cv_bridge(node_changes['use_cv_bridge'])
        if 'enable' in node_changes:
            self._set_enabled(node_changes['enable'])
        if 'hri_output' in node_changes:
            self._set_hri_output(node_changes['hri_output'])
        return SetParametersResult(successful=True)

    def _set_hri_output(self, enabled: bool) -> None:
        """Start or stop the ROS4HRI topics (hri_msgs is checked before the change is accepted)."""
        with self._hri_lock:
            if enabled and self._hri is None:
                self._hri = HriPublisher(self.create_publisher, self.destroy_publisher)
            elif not enabled and self._hri is not None:
                self._hri.close()
                self._hri = None

    def _settings_applied(self, settings: PipelineSettings) -> None:
        self._last_failure = ''
        self.get_logger().info(
            f'settings applied; model {self._pipeline.classifier.path} on '
            f'{self._pipeline.provider}'
        )

    def _settings_failed(self, settings: PipelineSettings, exc: Exception) -> None:
        """
        Report a failed background load, and set the parameters back to what runs.

        The setting back happens on the executor (a one-shot timer), after the parameter call
        that asked for the change has stored its values, which a fast failure can precede.
        """
        self._last_failure = f'{type(exc).__name__}: {exc}'
        self.get_logger().error(f'settings not applied, still running the previous ones: {exc}')
        if not self.context.ok():
            return

        def set_back() -> None:
            # one shot (destroying a timer inside its own callback upsets the executor)
            timer.cancel()
            running = self._pipeline.settings
            back = [
                Parameter(name, value=_ros_value(getattr(running, name)))
                for name in settings.changed_settings(running)
                # a value changed again since is the user's newer choice: leave it
                if self.get_parameter(name).value == _ros_value(getattr(settings, name))
            ]
            if back:
                self.set_parameters(back)

        if self._set_back_timer is not None:
            self.destroy_timer(self._set_back_timer)  # cancelled long ago
        timer = self._set_back_timer = self.create_timer(0.0, set_back)

    def _keep_declared_types(self, parameters: List[Any]) -> None:
        """
        Undo rclpy's retyping of a dynamically typed descriptor by a rejected value.

        rclpy sets the stored descriptor's type to the incoming value's type before the
        set-parameters callback can reject it; the value itself is kept, so its type must be too.
        """
        for parameter in parameters:
            spec = ALL_SPECS.get(parameter.name)
            if spec is not None:
                self.describe_parameter(parameter.name).type = _PARAMETER_TYPES[spec.type]

    # -- health --------------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        level, summary, values = self._stats.report(disabled=self._subscription is None)
        loading = self._switcher.loading
        if self._last_failure:
            level, summary = max(level, 1), f'last settings change failed: {self._last_failure}'
        values = values + [
            ('enabled', str(self._subscription is not None).lower()),
            ('loading', _describe_load(loading, self._pipeline.settings) if loading else ''),
            ('model', str(self._pipeline.classifier.path)),
            ('execution_provider', self._pipeline.provider),
            ('image_conversion', self._decoder.description),
            ('max_rate_hz', f'{self._worker.max_rate_hz:g}'),
        ]
        status = DiagnosticStatus(
            level=bytes([level]),
            name=f'{self.get_fully_qualified_name()}: facial expression recognition',
            message=summary,
            hardware_id=self.get_fully_qualified_name(),
            values=[KeyValue(key=k, value=v) for k, v in values],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)

    # -- shutdown ------------------------------------------------------------------------------

    def stop(self) -> None:
        """
        Stop the worker thread (waits for the frame in progress) and any pending load.

        Safe on a node whose start-up failed part-way, and when called twice.
        """
        for part in ('_switcher', '_worker'):
            running = getattr(self, part, None)
            if running is not None:
                running.stop()
        undo, self._undo_log_forwarding = getattr(self, '_undo_log_forwarding', None), None
        if undo is not None:
            undo()

    def destroy_node(self) -> None:
        self.stop()
        super().destroy_node()


def check_files(settings: PipelineSettings, running: PipelineSettings) -> None:
    """
    Refuse at once a new model or detector file that does not exist.

    The load itself runs later.
    """
    if settings.model != running.model:
        resolve_model(settings.model)
    if settings.detector_model != running.detector_model and settings.detector_model:
        check_model_file(Path(settings.detector_model).expanduser(), 'detector')


def _ros_value(value: Any) -> Any:
    """Return a setting's value as a ROS parameter value (string arrays are lists)."""
    return list(value) if isinstance(value, tuple) else value


def _describe_load(settings: PipelineSettings, running: PipelineSettings) -> str:
    return ', '.join(
        f'{name}={getattr(settings, name)}' for name in settings.changed_settings(running)
    )


def main(args: Optional[List[str]] = None) -> int:
    """``ros2 run fer_ros fer_node``: spin the node until Ctrl-C or shutdown."""
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = FerNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (
        FerRosError,
        ParameterException,
    ) as exc:  # bad model or parameters at start-up: say why, exit
        # rclpy's parameter exceptions carry (message, name) as args: print the message only
        message = exc.args[0] if len(exc.args) > 1 and isinstance(exc.args[0], str) else str(exc)
        get_logger(NODE_NAME).fatal(message)
        code = 2
    finally:
        # One Ctrl-C both shuts the context down (ending spin) and raises KeyboardInterrupt in
        # Python, which can arrive later, in the middle of this cleanup: ignore it from here on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    raise SystemExit(main())
