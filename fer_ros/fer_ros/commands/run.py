"""``fer-ros run``: detect faces and their expressions in a camera, video, image or folder.

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
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Optional

HELP = "detect faces and classify their expressions in a camera, video, image, folder or the built-in sample"
DEFAULT_OUTPUT_DIR = "fer_ros_output"
IMAGE_OUTPUT_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

LOG = logging.getLogger("fer_ros.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..settings_cli import add_setting_arguments

    parser.add_argument(
        "--source",
        help="camera index (0), video file, image file or folder of images; "
        "default: the built-in sample photograph (scikit-image's astronaut)",
    )
    parser.add_argument(
        "--output",
        help="annotated output: a video file (.mp4/.avi) for camera and video sources, a folder (or "
        "one image file for an image source) for stills; default for stills and the sample: "
        f"{DEFAULT_OUTPUT_DIR}/",
    )
    parser.add_argument(
        "--jsonl",
        help=f"write one JSON line per frame (faces, boxes, probabilities, timings); default for stills and "
        f"the sample: {DEFAULT_OUTPUT_DIR}/results.jsonl; '-' writes to stdout",
    )
    parser.add_argument("--show", action="store_true", help="show the annotated frames in a window (q quits)")
    parser.add_argument("--bars", action="store_true", help="draw probability bars beside each face")
    parser.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: all)")
    add_setting_arguments(parser)


def _check_show() -> None:
    import cv2

    from ..errors import SourceError

    try:
        cv2.namedWindow("fer-ros", cv2.WINDOW_NORMAL)
    except cv2.error:
        raise SourceError(
            "--show needs an OpenCV build with a GUI (pip install opencv-python instead of "
            "opencv-python-headless); use --output to write annotated frames instead"
        ) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone, so the exit's flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from ..annotate import annotate
    from ..errors import SourceError
    from ..pipeline import Pipeline
    from ..settings_cli import settings_from_args
    from ..sources import VideoSink, open_source
    from ..stop_signals import StopSignals

    if args.max_frames < 0:
        raise SourceError("--max-frames must be >= 0")
    settings = settings_from_args(args)
    source = open_source(args.source)  # errors before the model is loaded: fail fast on typos
    output, jsonl = args.output, args.jsonl
    if not source.is_stream:
        output = output or DEFAULT_OUTPUT_DIR
        jsonl = jsonl or str(Path(DEFAULT_OUTPUT_DIR) / "results.jsonl")
    if args.show:
        _check_show()

    video_sink: Optional[VideoSink] = None
    image_file: Optional[Path] = None
    image_dir: Optional[Path] = None
    if output:
        out_path = Path(output)
        if source.is_stream:
            if out_path.suffix.lower() in VideoSink.FOURCC:
                video_sink = VideoSink(out_path, source.fps)
            else:
                image_dir = out_path
        elif source.kind == "image" and out_path.suffix.lower() in IMAGE_OUTPUT_SUFFIXES:
            image_file = out_path
        elif out_path.suffix.lower() in VideoSink.FOURCC:
            raise SourceError(
                f"--output {output}: a video output needs a video or camera source; give a folder"
            )
        else:
            image_dir = out_path
        if image_dir is not None:
            image_dir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(settings)
    LOG.info(
        "model %s on %s; source: %s", pipeline.classifier.path.name, pipeline.provider, source.description
    )
    json_handle = None
    if jsonl == "-":
        json_handle = sys.stdout
    elif jsonl:
        Path(jsonl).parent.mkdir(parents=True, exist_ok=True)
        json_handle = open(jsonl, "w", encoding="utf-8", buffering=1)  # line-buffered: one write a frame

    need_drawing = bool(video_sink or image_dir or image_file or args.show)
    canvas = None
    frames = faces = 0
    expressions: Counter = Counter()
    written = []
    limit = args.max_frames or None
    total = min(source.total, limit) if source.total and limit else (source.total or limit)
    start = time.perf_counter()
    stop = StopSignals()
    reader_gone = False
    try:
        with stop, source, tqdm(total=total, unit="frame", disable=total == 1, file=sys.stderr) as bar:
            for frame in source:
                if limit and frames >= limit:
                    break
                # Photos are unrelated: no track, smoothing or confirmation carries over between them.
                result = pipeline.process(frame.bgr, still=not source.is_stream)
                frames += 1
                faces += len(result.faces)
                expressions.update(f.label for f in result.faces)
                if json_handle is not None:
                    record = {"frame": frame.index, "name": frame.name, **result.to_dict()}
                    try:
                        json_handle.write(json.dumps(record) + "\n")
                        if json_handle is sys.stdout:
                            json_handle.flush()  # a reader of the pipe gets each frame as it is done
                    except BrokenPipeError:  # `fer-ros run --jsonl - | head`: the reader is gone
                        reader_gone = True  # finish this frame's other outputs, then stop
                        json_handle = None
                        _silence_stdout()
                if need_drawing:
                    if canvas is None or canvas.shape != frame.bgr.shape:
                        canvas = frame.bgr.copy()
                    annotate(frame.bgr, result, out=canvas, bars=args.bars)
                    if video_sink is not None:
                        video_sink.write(canvas)
                    target = image_file or (
                        image_dir / f"{frame.name}.jpg" if image_dir is not None else None
                    )
                    if target is not None:
                        if not cv2.imwrite(str(target), canvas):
                            raise SourceError(f"cannot write {target}")
                        written.append(target)
                    if args.show:
                        cv2.imshow("fer-ros", canvas)
                        if cv2.waitKey(1) & 0xFF == ord("q"):
                            break
                bar.update(1)
                if stop.requested or reader_gone:
                    break
    finally:
        if video_sink is not None:
            video_sink.close()
        if json_handle is not None and json_handle is not sys.stdout:
            json_handle.close()
        if args.show:
            cv2.destroyAllWindows()
    elapsed = time.perf_counter() - start
    summary = ", ".join(f"{name} {count}" for name, count in expressions.most_common()) or "none"
    fps = frames / elapsed if elapsed else 0.0
    print(
        f"{frames} frame(s), {faces} face(s) in {elapsed:.1f} s ({fps:.1f} fps); "
        f"expressions: {summary}",
        file=sys.stderr,
    )
    if source.skipped:
        print(f"skipped {source.skipped} unreadable image(s)", file=sys.stderr)
    if video_sink is not None:
        print(f"annotated video: {video_sink.path}", file=sys.stderr)
    if len(written) == 1:
        print(f"annotated image: {written[0]}", file=sys.stderr)
    elif written:
        print(f"annotated images: {len(written)} in {image_dir}", file=sys.stderr)
    if jsonl and jsonl != "-":
        print(f"results: {jsonl}", file=sys.stderr)
    if reader_gone:
        print(f"fer-ros run: stopped after {frames} frame(s): the reader of --jsonl - closed the pipe",
              file=sys.stderr)
        return 0
    if stop.requested:
        print(f"fer-ros run: stopped by {stop.name} after {frames} frame(s); outputs are complete",
              file=sys.stderr)
        return stop.exit_code
    if source.lost:
        print(f"fer-ros run: error: {source.lost}; outputs are complete up to the last frame",
              file=sys.stderr)
        return 1
    if frames == 0:
        raise SourceError(f"no frame could be read from {source.description}")
    if source.ended_early:
        print(f"warning: {source.ended_early}", file=sys.stderr)
    return 0
