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
``fer-ros bag``: run the pipeline over a rosbag2 and write the results to a new one.

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
written. A run in which no frame could be processed (all corrupt, or none on the
topic) also exits 1.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys
from typing import Any, Dict, List, Tuple

from ..errors import FerRosError, SourceError
from ..settings_cli import add_setting_arguments, settings_from_args

HELP = (
    'process the images of a rosbag2 and write expressions and annotated images to a new rosbag2'
)
LOG = logging.getLogger(__name__)

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
LOGGED_BAD_FRAMES = 5  # corrupt frames logged one by one; the rest only counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('input', type=Path, help='input rosbag2 (folder, or a .db3/.mcap file)')
    parser.add_argument('output', type=Path, help='output rosbag2 folder (must not exist)')
    parser.add_argument(
        '--topic',
        required=True,
        help='image topic to process (sensor_msgs/Image or CompressedImage), '
        'e.g. /camera/image_raw',
    )
    parser.add_argument(
        '--prefix',
        default='/fer',
        help='namespace of the output topics (default /fer: /fer/expressions, '
        '/fer/image_annotated, as the node publishes them)',
    )
    parser.add_argument(
        '--no-annotated', action='store_true', help='do not write annotated images'
    )
    parser.add_argument(
        '--include-input',
        action='store_true',
        help='also copy the input image messages into the output bag',
    )
    parser.add_argument(
        '--storage',
        choices=('sqlite3', 'mcap'),
        default='sqlite3',
        help='storage format of the output bag (default sqlite3, which every ROS 2 '
        'distro reads without extra plugins)',
    )
    parser.add_argument(
        '--distro',
        choices=('humble', 'jazzy'),
        default='humble',
        help='ROS 2 distro whose message definitions are written (default humble)',
    )
    parser.add_argument(
        '--limit', type=int, default=0, help='stop after this many input frames (0 = all)'
    )
    add_setting_arguments(parser)


def _topic(prefix: str, name: str) -> str:
    return '/' + '/'.join(p for p in (prefix.strip('/'), name) if p)


class _Outputs:
    """Return the output connections: expressions, and annotated images and input if asked."""

    def __init__(
        self, writer: Any, args: argparse.Namespace, msgtype: str, typestore: Any
    ) -> None:
        from ..ros.messages import ARRAY_MSG

        self.writer = writer
        add = writer.add_connection
        self.expressions = add(_topic(args.prefix, 'expressions'), ARRAY_MSG, typestore=typestore)
        self.annotated = None
        if not args.no_annotated:
            self.annotated = add(
                _topic(args.prefix, 'image_annotated'), IMAGE, typestore=typestore
            )
        self.input = add(args.topic, msgtype, typestore=typestore) if args.include_input else None


def main(args: argparse.Namespace) -> int:
    from ..pipeline import Pipeline
    from ..ros.messages import rosbags_kit, rosbags_typestore

    any_reader, writer_type, plugins = _rosbags()
    if not args.input.exists():
        raise SourceError(f'input bag not found: {args.input}')
    if args.output.exists():
        raise SourceError(f'output bag already exists: {args.output} (choose a new folder)')
    settings = settings_from_args(args)
    typestore = rosbags_typestore(args.distro)
    pipeline = Pipeline(settings)
    LOG.info('model %s on %s', pipeline.classifier.path, pipeline.provider)

    try:
        reader = any_reader([args.input], default_typestore=typestore)
        reader.open()
    except Exception as exc:  # rosbags raises its own types for unreadable bags
        raise SourceError(f'cannot read rosbag2 {args.input}: {exc}') from exc
    try:
        connections, msgtype = _input_connections(reader, args.topic, args.input)
        plugin = plugins.MCAP if args.storage == 'mcap' else plugins.SQLITE3
        with writer_type(args.output, version=8, storage_plugin=plugin) as writer:
            outputs = _Outputs(writer, args, msgtype, typestore)
            kit = rosbags_kit(typestore)
            counts = _process(reader, connections, outputs, pipeline, kit, typestore, args.limit)
    finally:
        reader.close()
    return _report(args.output, counts)


def _rosbags() -> Tuple[Any, Any, Any]:
    """``AnyReader``, ``Writer`` and ``StoragePlugin`` from rosbags, or a one-line install hint."""
    try:
        from rosbags.highlevel import AnyReader
        from rosbags.rosbag2 import StoragePlugin, Writer
    except ImportError:
        raise FerRosError(
            "fer-ros bag needs the rosbags library: pip install 'fer_ros[bag]'"
        ) from None
    return AnyReader, Writer, StoragePlugin


def _input_connections(reader: Any, topic: str, path: Path) -> Tuple[List[Any], str]:
    """
    Return the connections of ``topic`` and its image type.

    A clear error naming the bag's image topics.
    """
    connections = [c for c in reader.connections if c.topic == topic]
    if not connections:
        images = sorted({c.topic for c in reader.connections if c.msgtype in (IMAGE, COMPRESSED)})
        listed = ', '.join(images) or 'none'
        raise SourceError(f'topic {topic} not in {path}; image topics there: {listed}')
    msgtype = connections[0].msgtype
    if msgtype not in (IMAGE, COMPRESSED):
        raise SourceError(f'topic {topic} has type {msgtype}; expected {IMAGE} or {COMPRESSED}')
    return connections, msgtype


def _process(
    reader: Any,
    connections: List[Any],
    outputs: _Outputs,
    pipeline: Any,
    kit: Any,
    typestore: Any,
    limit: int,
) -> Dict[str, int]:
    """Decode, process and write every frame; skip corrupt frames, count failures."""
    from tqdm import tqdm

    from ..ros.convert import annotated_image, compressed_to_frame, image_to_frame
    from ..ros.messages import ARRAY_MSG, expressions_message

    decode = image_to_frame if connections[0].msgtype == IMAGE else compressed_to_frame
    total = sum(c.msgcount for c in connections)
    total = min(total, limit) if limit > 0 else total
    counts = {'frames': 0, 'processed': 0, 'skipped': 0, 'failed': 0, 'faces': 0}
    canvas = None
    with tqdm(total=total, unit='frame', desc='fer-ros bag', disable=None) as progress:
        for connection, timestamp, raw in reader.messages(connections=connections):
            if limit > 0 and counts['frames'] >= limit:
                break
            counts['frames'] += 1
            progress.update(1)
            if outputs.input is not None:
                outputs.writer.write(outputs.input, timestamp, raw)
            try:
                msg = reader.deserialize(raw, connection.msgtype)
                frame = decode(msg)
            except Exception as exc:  # rosbags raises assorted types on corrupt CDR
                _count(counts, 'skipped', 'frame %d (t=%d ns) skipped: %s', timestamp, exc)
                continue
            try:
                result = pipeline.process(frame)
            except Exception as exc:
                _count(counts, 'failed', 'frame %d (t=%d ns) failed: %r', timestamp, exc)
                continue
            counts['processed'] += 1
            counts['faces'] += len(result.faces)
            out = expressions_message(kit, msg.header, result)
            outputs.writer.write(
                outputs.expressions, timestamp, typestore.serialize_cdr(out, ARRAY_MSG)
            )
            if outputs.annotated is not None:
                image, canvas = annotated_image(kit, msg.header, frame, result, canvas)
                outputs.writer.write(
                    outputs.annotated, timestamp, typestore.serialize_cdr(image, IMAGE)
                )
    return counts


def _count(
    counts: Dict[str, int], kind: str, message: str, timestamp: int, exc: Exception
) -> None:
    """Count a skipped or failed frame; log the first few of each kind one by one."""
    counts[kind] += 1
    if counts[kind] <= LOGGED_BAD_FRAMES:
        log = LOG.warning if kind == 'skipped' else LOG.error
        log(message, counts['frames'], timestamp, exc)


def _report(output: Path, counts: Dict[str, int]) -> int:
    """Print the counts; exit 1 when a frame failed or when no frame could be processed."""
    failed = f', {counts["failed"]} failed in processing' if counts['failed'] else ''
    print(
        f'{output}: {counts["frames"]} frames read, {counts["processed"]} processed, '
        f'{counts["skipped"]} skipped (corrupt or unsupported){failed}, {counts["faces"]} faces'
    )
    if counts['processed'] == 0:
        print(
            f'fer-ros bag: error: no frame of the {counts["frames"]} read could be processed',
            file=sys.stderr,
        )
        return 1
    return 1 if counts['failed'] else 0
