"""The fer_ros node: camera images in, facial expressions, annotated images and diagnostics out.

Topics (relative to the node's namespace; the launch file remaps ``image``):

* ``image`` (sensor_msgs/Image) or ``image/compressed`` (sensor_msgs/CompressedImage),
  chosen by ``input_type``; keep-last depth 1, best effort unless ``reliability``
  says otherwise.
* ``expressions`` (fer_ros_msgs/FaceExpressionArray): one per processed frame,
  also when no face is seen, with the source image's header.
* ``image_annotated`` (sensor_msgs/Image): only while someone subscribes.
* ``/diagnostics`` (diagnostic_msgs/DiagnosticArray): node health once a second.

Frames are handed from the subscription callback to one worker thread through a
one-slot mailbox (:class:`~fer_ros.ros.worker.FrameWorker`): the worker always
takes the newest frame, so a slow machine drops frames (counted) instead of
building a backlog, and ``max_rate_hz`` bounds the work. Parameters are
validated on every change and either applied or rejected with the reason. A
bad frame is counted as rejected, any other failure on one frame as a
processing error; both are logged (throttled) and skipped, and the worker goes on.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any, List, Optional

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
    SetParametersResult,
)
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from fer_ros_msgs.msg import FaceExpressionArray

from ..errors import FerRosError
from ..pipeline import Pipeline
from ..settings import SPECS, PipelineSettings, SettingSpec
from .convert import annotated_image
from .decode import FrameDecoder
from .messages import expressions_message, rclpy_kit
from .parameters import ALL_SETTINGS, ALL_SPECS, READ_ONLY, check_parameter_changes
from .stats import NodeStats
from .worker import FrameWorker

NODE_NAME = "fer_node"
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
    """ROS parameter descriptor of a setting: type, description, allowed values and range.

    ``dynamic_typing`` lets a value of the wrong type reach the node's own check
    (:func:`~fer_ros.ros.parameters.check_parameter_changes`), which rejects it with
    a message naming the allowed type and range, instead of rclpy's bare "Wrong
    parameter type"; the check admits only the declared type, so types never change.
    """
    descriptor = ParameterDescriptor(
        name=spec.name,
        type=_PARAMETER_TYPES[spec.type],
        description=spec.description,
        additional_constraints=f"allowed: {spec.allowed()}",
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
        for spec in ALL_SETTINGS:
            self.declare_parameter(spec.name, _default(spec), parameter_descriptor(spec))
        given = {spec.name: self.get_parameter(spec.name).value for spec in ALL_SETTINGS}
        # Raises SettingsError (start-up fails, naming the parameter) for a bad value from a YAML file.
        settings, values = check_parameter_changes(PipelineSettings(), given, startup=True)
        self._pipeline = Pipeline(settings)  # raises ModelError naming the file
        self._pipeline_lock = threading.Lock()
        self._publish_annotated: bool = values["publish_annotated"]
        compressed = values["input_type"] == "compressed"
        self._decoder = FrameDecoder(compressed, values["use_cv_bridge"], log=self.get_logger().info)
        self._kit = rclpy_kit()
        self._stats = NodeStats()
        self._canvas = None

        self._expressions_pub = self.create_publisher(FaceExpressionArray, "expressions", 10)
        # Reliable keep-last 1: matches RViz's default (reliable) and best-effort viewers alike.
        self._annotated_pub = self.create_publisher(Image, "image_annotated", 1)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        image_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE
            if values["reliability"] == "reliable"
            else ReliabilityPolicy.BEST_EFFORT,
        )
        topic, msg_type = ("image/compressed", CompressedImage) if compressed else ("image", Image)
        self._subscription = self.create_subscription(msg_type, topic, self._on_image, image_qos)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        logger = self.get_logger()
        self._worker = FrameWorker(
            self._process,
            self._stats,
            warn=lambda m: logger.warning(m, throttle_duration_sec=LOG_THROTTLE_S),
            error=lambda m: logger.error(m, throttle_duration_sec=LOG_THROTTLE_S),
            max_rate_hz=values["max_rate_hz"],
            shutting_down=lambda: not self.context.ok(),
        )
        self._worker.start()
        self._diagnostics_timer = self.create_timer(DIAGNOSTICS_PERIOD_S, self._publish_diagnostics)
        self.get_logger().info(
            f"listening on {self._subscription.topic_name} ({msg_type.__name__}, {values['reliability']}); "
            f"model {self._pipeline.classifier.path} on {self._pipeline.provider}; "
            f"labels {', '.join(self._pipeline.labels)}; "
            f"image conversion: {self._decoder.description}"
        )

    # -- input ---------------------------------------------------------------------------------

    def _on_image(self, msg: Any) -> None:
        self._worker.submit(msg)

    def _process(self, msg: Any, received_at: float) -> None:
        """One frame: decode, run the pipeline, publish. Raises on bad input (the worker counts it)."""
        frame = self._decoder.decode(msg)  # ImageConversionError: counted as rejected by the worker
        with self._pipeline_lock:
            result = self._pipeline.process(frame)
        self._expressions_pub.publish(expressions_message(self._kit, msg.header, result))
        if self._publish_annotated and self._annotated_pub.get_subscription_count() > 0:
            image, self._canvas = annotated_image(self._kit, msg.header, frame, result, self._canvas)
            self._annotated_pub.publish(image)
        self._stats.frame_processed(received_at, time.monotonic(), len(result.faces))

    # -- parameters ----------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: List[Any]) -> SetParametersResult:
        """Check the whole batch, then apply all of it or none of it (the previous values stay)."""
        try:
            changes = {p.name: p.value for p in parameters}
            new_settings, node_changes = check_parameter_changes(self._pipeline.settings, changes)
            if new_settings != self._pipeline.settings:
                with self._pipeline_lock:
                    self._pipeline.update(new_settings)  # raises (and keeps running as before) on failure
                applied = ", ".join(f"{k}={v}" for k, v in changes.items() if k in SPECS)
                self.get_logger().info(
                    f"applied {applied}; model {self._pipeline.classifier.path} on {self._pipeline.provider}"
                )
        except FerRosError as exc:
            self._keep_declared_types(parameters)
            self.get_logger().warning(f"parameter change rejected: {exc}")
            return SetParametersResult(successful=False, reason=str(exc))
        if "max_rate_hz" in node_changes:
            self._worker.max_rate_hz = node_changes["max_rate_hz"]
        if "publish_annotated" in node_changes:
            self._publish_annotated = node_changes["publish_annotated"]
        if "use_cv_bridge" in node_changes:
            self._decoder.set_use_cv_bridge(node_changes["use_cv_bridge"])
        return SetParametersResult(successful=True)

    def _keep_declared_types(self, parameters: List[Any]) -> None:
        """Undo rclpy's retyping of a dynamically typed descriptor by a rejected value.

        rclpy sets the stored descriptor's type to the incoming value's type before the
        set-parameters callback can reject it; the value itself is kept, so its type must be too.
        """
        for parameter in parameters:
            spec = ALL_SPECS.get(parameter.name)
            if spec is not None:
                self.describe_parameter(parameter.name).type = _PARAMETER_TYPES[spec.type]

    # -- health --------------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        level, summary, values = self._stats.report()
        values = values + [
            ("model", str(self._pipeline.classifier.path)),
            ("execution_provider", self._pipeline.provider),
            ("image_conversion", self._decoder.description),
            ("max_rate_hz", f"{self._worker.max_rate_hz:g}"),
        ]
        status = DiagnosticStatus(
            level=bytes([level]),
            name=f"{self.get_fully_qualified_name()}: facial expression recognition",
            message=summary,
            hardware_id=self.get_fully_qualified_name(),
            values=[KeyValue(key=k, value=v) for k, v in values],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)

    # -- shutdown ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the worker thread (waits for the frame in progress)."""
        self._worker.stop()

    def destroy_node(self) -> None:
        self.stop()
        super().destroy_node()


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
    except (FerRosError, ParameterException) as exc:  # bad model or parameters at start-up: say why, exit
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


if __name__ == "__main__":
    raise SystemExit(main())
