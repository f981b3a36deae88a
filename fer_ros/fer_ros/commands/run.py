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
``fer-ros run``: detect faces and their expressions in a camera, video, image or folder.

With no ``--source`` it runs on the built-in sample photograph and writes the
annotated image and a JSON line to ``fer_ros_output/``: the quickest way to see
fer_ros work on a fresh machine.

However a run ends, its outputs hold exactly the frames processed: the JSON
lines are flushed frame by frame and the annotated video is closed (playable).
Exit codes: 0 when the source is done (end of video, ``--max-frames``, ``q``;
also a video that ends before its announced length, with a warning; or the
reader of ``--jsonl -`` closed the pipe, as ``| head`` does); 1 when a
camera stops delivering frames mid-run (one ``error:`` line); 130 / 143 after
Ctrl-C / SIGTERM, which stop the run after the frame in hand (a second one stops
at once); 2 for bad input found before the run (as every ``fer-ros`` command).
"""

from __future__ import annotations

import argparse
from collections import Counter
import logging
import sys
import time
from typing import Any, Tuple

from .run_outputs import DEFAULT_OUTPUT_DIR, FrameOutputs, open_outputs

HELP = (
    'detect faces and classify their expressions in a camera, video, image, folder or the '
    'built-in sample'
)

LOG = logging.getLogger('fer_ros.run')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..settings_cli import add_setting_arguments

    parser.add_argument(
        '--source',
        help='camera index (0), video file, image file or folder of images; '
        "default: the built-in sample photograph (scikit-image's astronaut)",
    )
    parser.add_argument(
        '--output',
        help='annotated output: a video file (.mp4/.avi) for camera and video sources, a folder '
        '(or '
        'one image file for an image source) for stills; default for stills and the sample: '
        f'{DEFAULT_OUTPUT_DIR}/',
    )
    parser.add_argument(
        '--jsonl',
        help=f'write one JSON line per frame (faces, boxes, probabilities, timings); default for '
        f'stills and '
        f"the sample: {DEFAULT_OUTPUT_DIR}/results.jsonl; '-' writes to stdout",
    )
    parser.add_argument(
        '--show', action='store_true', help='show the annotated frames in a window (q quits)'
    )
    parser.add_argument(
        '--bars', action='store_true', help='draw probability bars beside each face'
    )
    parser.add_argument(
        '--max-frames', type=int, default=0, help='stop after this many frames (0: all)'
    )
    add_setting_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from ..errors import SourceError
    from ..pipeline import Pipeline
    from ..settings_cli import settings_from_args
    from ..sources import open_source
    from ..stop_signals import StopSignals

    if args.max_frames < 0:
        raise SourceError('--max-frames must be >= 0')
    settings = settings_from_args(args)
    source = open_source(args.source)  # errors before the model is loaded: fail fast on typos
    outputs = open_outputs(source, args.output, args.jsonl, show=args.show, bars=args.bars)
    pipeline = Pipeline(settings)
    LOG.info(
        'model %s on %s; source: %s',
        pipeline.classifier.path.name,
        pipeline.provider,
        source.description,
    )
    stop = StopSignals()
    start = time.perf_counter()
    outputs.open_jsonl()
    try:
        with stop, source:
            frames, faces, expressions = _process_frames(
                pipeline, source, outputs, stop, args.max_frames
            )
    finally:
        outputs.close()
    _print_summary(frames, faces, expressions, time.perf_counter() - start, source, outputs)
    return _exit_code(frames, source, outputs, stop)


def _process_frames(
    pipeline: Any, source: Any, outputs: FrameOutputs, stop: Any, max_frames: int
) -> Tuple[int, int, Counter]:
    """
    Run the pipeline over the source until it ends or is stopped.

    Stops at the end of the source, ``--max-frames``, ``q``, a signal or a closed pipe.
    """
    from tqdm import tqdm

    frames = faces = 0
    expressions: Counter = Counter()
    limit = max_frames or None
    total = min(source.total, limit) if source.total and limit else (source.total or limit)
    with tqdm(total=total, unit='frame', disable=total == 1, file=sys.stderr) as bar:
        for frame in source:
            if limit and frames >= limit:
                break
            # Photos are unrelated: no track, smoothing or confirmation carries over between them.
            result = pipeline.process(frame.bgr, still=not source.is_stream)
            frames += 1
            faces += len(result.faces)
            expressions.update(f.label for f in result.faces)
            outputs.write(frame, result)
            bar.update(1)
            if outputs.quit or stop.requested or outputs.reader_gone:
                break
    return frames, faces, expressions


def _print_summary(
    frames: int,
    faces: int,
    expressions: Counter,
    elapsed: float,
    source: Any,
    outputs: FrameOutputs,
) -> None:
    """One line of counts and speed on stderr, then the files written."""
    summary = ', '.join(f'{name} {count}' for name, count in expressions.most_common()) or 'none'
    fps = frames / elapsed if elapsed else 0.0
    print(
        f'{frames} frame(s), {faces} face(s) in {elapsed:.1f} s ({fps:.1f} fps); expressions: '
        f'{summary}',
        file=sys.stderr,
    )
    if source.skipped:
        print(f'skipped {source.skipped} unreadable image(s)', file=sys.stderr)
    outputs.report()


def _exit_code(frames: int, source: Any, outputs: FrameOutputs, stop: Any) -> int:
    """Return the documented exit code for how the run ended (see the module docstring)."""
    from ..errors import SourceError

    if outputs.reader_gone:
        print(
            f'fer-ros run: stopped after {frames} frame(s): the reader of --jsonl - closed the '
            f'pipe',
            file=sys.stderr,
        )
        return 0
    if stop.requested:
        print(
            f'fer-ros run: stopped by {stop.name} after {frames} frame(s); outputs are complete',
            file=sys.stderr,
        )
        return stop.exit_code
    if source.lost:
        print(
            f'fer-ros run: error: {source.lost}; outputs are complete up to the last frame',
            file=sys.stderr,
        )
        return 1
    if frames == 0:
        raise SourceError(f'no frame could be read from {source.description}')
    if source.ended_early:
        print(f'warning: {source.ended_early}', file=sys.stderr)
    return 0
