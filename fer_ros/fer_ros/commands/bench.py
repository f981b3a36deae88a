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
``fer-ros bench``: frames per second and per-stage milliseconds of the pipeline.

The default input is reproducible on any machine: the built-in sample photograph
(one face) scaled into a 640x480 frame, processed ``--frames`` times after a
warm-up. ``--source`` benchmarks on an image or the frames of a video instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Dict, List, Optional, TextIO, Tuple

HELP = 'measure pipeline frames per second and per-stage milliseconds on a reproducible input'
STAGES = ('detect', 'preprocess', 'classify', 'track', 'total')

LOG = logging.getLogger('fer_ros.bench')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..settings_cli import add_setting_arguments

    parser.add_argument(
        '--source', help='image or video to benchmark on (default: the built-in sample)'
    )
    parser.add_argument('--frames', type=int, default=200, help='frames to time (default 200)')
    parser.add_argument('--warmup', type=int, default=10, help='untimed frames first (default 10)')
    parser.add_argument(
        '--size',
        default='640x480',
        help='frame size WIDTHxHEIGHT the sample is fitted into (default 640x480)',
    )
    parser.add_argument(
        '--json',
        dest='json_path',
        help="also write the figures to this JSON file ('-': the JSON alone on stdout, the table "
        'on stderr)',
    )
    add_setting_arguments(parser)


def fit_into(bgr, width: int, height: int):
    """Scale ``bgr`` to fit ``width`` x ``height`` keeping its aspect, centred on a black frame."""
    import cv2
    import numpy as np

    h, w = bgr.shape[:2]
    scale = min(width / w, height / h)
    resized = cv2.resize(
        bgr,
        (max(1, int(round(w * scale))), max(1, int(round(h * scale)))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    rows, cols = resized.shape[:2]
    y0, x0 = (height - rows) // 2, (width - cols) // 2
    y1, x1 = y0 + rows, x0 + cols
    frame[y0:y1, x0:x1] = resized
    return frame


def _parse_size(text: str):
    from ..errors import SettingsError

    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise SettingsError(f'--size {text!r} must be WIDTHxHEIGHT, e.g. 640x480') from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise SettingsError(f'--size {text!r}: width and height must be in 16..8192')
    return width, height


def main(args: argparse.Namespace) -> int:
    from ..errors import SettingsError
    from ..pipeline import Pipeline
    from ..settings_cli import settings_from_args

    if args.frames < 1 or args.warmup < 0:
        raise SettingsError('--frames must be >= 1 and --warmup >= 0')
    width, height = _parse_size(args.size)
    settings = settings_from_args(args)
    frames = _read_frames(args.source, args.frames)
    if args.source is None:
        frames = [fit_into(frames[0], width, height)]
    pipeline = Pipeline(settings)
    timings, faces = _time_frames(pipeline, frames, args.frames, args.warmup)
    report = {
        'input': args.source or f'built-in sample in {width}x{height}',
        'frame_size': list(frames[0].shape[1::-1]),
        'frames': args.frames,
        'faces_per_frame': faces / args.frames,
        'fps': 1000.0 / float(timings['total'].mean()),
        'ms': _summarise(timings),
        'model': pipeline.classifier.path.name,
        'provider': pipeline.provider,
        'settings': settings.to_dict(),
    }
    # With --json - the JSON alone goes to stdout (so it can be piped); the table goes to stderr.
    table_stream = sys.stderr if args.json_path == '-' else sys.stdout
    _print_table(report, settings, table_stream)
    if args.json_path == '-':
        print(json.dumps(report, indent=2))
    elif args.json_path:
        with open(args.json_path, 'w', encoding='utf-8') as handle:
            json.dump(report, handle, indent=2)
    return 0


def _read_frames(source_arg: Optional[str], limit: int) -> List[Any]:
    """Up to ``limit`` frames of an image or video (the sample by default); never a camera."""
    from ..errors import SourceError
    from ..sources import open_source

    frames: List[Any] = []
    with open_source(source_arg) as source:
        if source.kind == 'camera':
            raise SourceError(
                'bench needs a reproducible input: give an image or a video, not a camera'
            )
        for frame in source:
            frames.append(frame.bgr)
            if len(frames) >= limit:
                break
        if source.ended_early:
            LOG.warning('%s; timing the %d frame(s) read', source.ended_early, len(frames))
        if not frames:
            raise SourceError(f'no frame could be read from {source.description}')
    return frames


def _time_frames(
    pipeline: Any, frames: List[Any], count: int, warmup: int
) -> Tuple[Dict[str, Any], int]:
    """
    Time ``count`` frames after ``warmup`` untimed ones, per stage.

    Returns the milliseconds per stage and the faces found.
    """
    import numpy as np
    from tqdm import tqdm

    for i in range(warmup):
        pipeline.process(frames[i % len(frames)])
    pipeline.reset()
    timings = {stage: np.empty(count) for stage in STAGES}
    faces = 0
    for i in tqdm(range(count), unit='frame', file=sys.stderr, leave=False):
        result = pipeline.process(frames[i % len(frames)])
        faces += len(result.faces)
        for stage in STAGES:
            timings[stage][i] = result.timings_ms.get(stage, 0.0)
    return timings, faces


def _summarise(timings: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    import numpy as np

    return {
        stage: {
            'mean': float(values.mean()),
            'median': float(np.median(values)),
            'p95': float(np.percentile(values, 95)),
        }
        for stage, values in timings.items()
    }


def _print_table(report: Dict[str, Any], settings: Any, stream: TextIO) -> None:
    """Return the human-readable figures: input, model, one row per stage, fps."""
    size = report['frame_size']
    print(
        f'input: {report["input"]} ({size[0]}x{size[1]}), {report["frames"]} frames, '
        f'{report["faces_per_frame"]:.2f} faces/frame',
        file=stream,
    )
    print(
        f'model: {report["model"]} on {report["provider"]}; detector {settings.detector} at '
        f'width {settings.detection_width or "full"}',
        file=stream,
    )
    print(f'{"stage":<12}{"mean ms":>10}{"median":>10}{"p95":>10}', file=stream)
    for stage, row in report['ms'].items():
        print(
            f'{stage:<12}{row["mean"]:>10.2f}{row["median"]:>10.2f}{row["p95"]:>10.2f}',
            file=stream,
        )
    print(f'fps: {report["fps"]:.1f}', file=stream)
