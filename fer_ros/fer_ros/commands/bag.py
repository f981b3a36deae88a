"""``fer-ros bag``: run the pipeline over the images of a rosbag2 and write the results to a new rosbag2.

Reads sensor_msgs/Image or CompressedImage from one topic of a rosbag2
(sqlite3 or mcap), and writes ``<prefix>/expressions``
(fer_ros_msgs/FaceExpressionArray) and ``<prefix>/image_annotated``
(sensor_msgs/Image) with the source header and the input's bag timestamps, so
``ros2 bag play`` replays them in step with the input (optionally copied in).
No ROS install is needed: the ``rosbags`` library reads and writes the bags and
our message types are registered from the package's own .msg files.

A message that cannot be read or decoded (corrupt CDR, unsupported encoding,
bad sizes, corrupt JPEG/PNG) is counted as skipped and the run goes on; a frame
the pipeline fails on is counted as failed and the run goes on (exit status 1
at the end, so scripts notice). Either way every other frame is processed and
written.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..errors import FerRosError, SourceError
from ..settings_cli import add_setting_arguments, settings_from_args

HELP = "process the images of a rosbag2 and write expressions and annotated images to a new rosbag2"
LOG = logging.getLogger(__name__)

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
LOGGED_BAD_FRAMES = 5  # corrupt frames logged one by one; the rest only counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="input rosbag2 (folder, or a .db3/.mcap file)")
    parser.add_argument("output", type=Path, help="output rosbag2 folder (must not exist)")
    parser.add_argument("--topic", required=True,
                        help="image topic to process (sensor_msgs/Image or CompressedImage), "
                        "e.g. /camera/image_raw")
    parser.add_argument("--prefix", default="/fer",
                        help="namespace of the output topics (default /fer: /fer/expressions, "
                        "/fer/image_annotated, as the node publishes them)")
    parser.add_argument("--no-annotated", action="store_true", help="do not write annotated images")
    parser.add_argument("--include-input", action="store_true",
                        help="also copy the input image messages into the output bag")
    parser.add_argument("--storage", choices=("sqlite3", "mcap"), default="sqlite3",
                        help="storage format of the output bag (default sqlite3, which every ROS 2 "
                        "distro reads without extra plugins)")
    parser.add_argument("--distro", choices=("humble", "jazzy"), default="humble",
                        help="ROS 2 distro whose message definitions are written (default humble)")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many input frames (0 = all)")
    add_setting_arguments(parser)


def _topic(prefix: str, name: str) -> str:
    return "/" + "/".join(p for p in (prefix.strip("/"), name) if p)


def main(args: argparse.Namespace) -> int:
    try:
        from rosbags.highlevel import AnyReader
        from rosbags.rosbag2 import StoragePlugin, Writer
    except ImportError:
        raise FerRosError("fer-ros bag needs the rosbags library: pip install 'fer_ros[bag]'") from None
    from tqdm import tqdm

    from ..pipeline import Pipeline
    from ..ros.convert import annotated_image, compressed_to_frame, image_to_frame
    from ..ros.messages import ARRAY_MSG, expressions_message, rosbags_kit, rosbags_typestore

    if not args.input.exists():
        raise SourceError(f"input bag not found: {args.input}")
    if args.output.exists():
        raise SourceError(f"output bag already exists: {args.output} (choose a new folder)")
    settings = settings_from_args(args)

    typestore = rosbags_typestore(args.distro)
    kit = rosbags_kit(typestore)
    pipeline = Pipeline(settings)
    LOG.info("model %s on %s", pipeline.classifier.path, pipeline.provider)

    try:
        reader = AnyReader([args.input], default_typestore=typestore)
        reader.open()
    except Exception as exc:  # rosbags raises its own types for unreadable bags
        raise SourceError(f"cannot read rosbag2 {args.input}: {exc}") from exc
    try:
        connections = [c for c in reader.connections if c.topic == args.topic]
        if not connections:
            images = sorted({c.topic for c in reader.connections if c.msgtype in (IMAGE, COMPRESSED)})
            raise SourceError(f"topic {args.topic} not in {args.input}; image topics there: "
                              f"{', '.join(images) or 'none'}")
        msgtype = connections[0].msgtype
        if msgtype not in (IMAGE, COMPRESSED):
            raise SourceError(f"topic {args.topic} has type {msgtype}; expected {IMAGE} or {COMPRESSED}")
        decode = image_to_frame if msgtype == IMAGE else compressed_to_frame
        total = sum(c.msgcount for c in connections)
        if args.limit > 0:
            total = min(total, args.limit)

        plugin = StoragePlugin.MCAP if args.storage == "mcap" else StoragePlugin.SQLITE3
        counts = {"frames": 0, "processed": 0, "skipped": 0, "failed": 0, "faces": 0}
        with Writer(args.output, version=8, storage_plugin=plugin) as writer:
            out_expr = writer.add_connection(
                _topic(args.prefix, "expressions"), ARRAY_MSG, typestore=typestore
            )
            out_image = None
            if not args.no_annotated:
                out_image = writer.add_connection(_topic(args.prefix, "image_annotated"), IMAGE,
                                                  typestore=typestore)
            out_input = None
            if args.include_input:
                out_input = writer.add_connection(args.topic, msgtype, typestore=typestore)
            canvas = None
            progress = tqdm(total=total, unit="frame", desc="fer-ros bag", disable=None)
            for connection, timestamp, raw in reader.messages(connections=connections):
                if args.limit > 0 and counts["frames"] >= args.limit:
                    break
                counts["frames"] += 1
                progress.update(1)
                if out_input is not None:
                    writer.write(out_input, timestamp, raw)
                try:
                    msg = reader.deserialize(raw, connection.msgtype)
                    frame = decode(msg)
                except Exception as exc:  # rosbags raises assorted types on corrupt CDR
                    counts["skipped"] += 1
                    if counts["skipped"] <= LOGGED_BAD_FRAMES:
                        LOG.warning("frame %d (t=%d ns) skipped: %s", counts["frames"], timestamp, exc)
                    continue
                try:
                    result = pipeline.process(frame)
                except Exception as exc:
                    counts["failed"] += 1
                    if counts["failed"] <= LOGGED_BAD_FRAMES:
                        LOG.error("frame %d (t=%d ns) failed: %r", counts["frames"], timestamp, exc)
                    continue
                counts["processed"] += 1
                counts["faces"] += len(result.faces)
                out = expressions_message(kit, msg.header, result)
                writer.write(out_expr, timestamp, typestore.serialize_cdr(out, ARRAY_MSG))
                if out_image is not None:
                    image, canvas = annotated_image(kit, msg.header, frame, result, canvas)
                    writer.write(out_image, timestamp, typestore.serialize_cdr(image, IMAGE))
            progress.close()
    finally:
        reader.close()

    failed = f", {counts['failed']} failed in processing" if counts["failed"] else ""
    print(f"{args.output}: {counts['frames']} frames read, {counts['processed']} processed, "
          f"{counts['skipped']} skipped (corrupt or unsupported){failed}, {counts['faces']} faces")
    return 1 if counts["failed"] else 0
