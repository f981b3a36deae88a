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
Where ``fer-ros run`` sends each processed frame.

JSON lines, annotated images or video, a window.

``open_outputs`` turns ``--output`` / ``--jsonl`` / ``--show`` and the kind of source into one
``FrameOutputs``. The run opens its JSON lines once the model loads, calls ``write`` once per
frame and ``close`` once at the end.
Keeping the routing here leaves ``run.py`` with the loop and the exit code only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys
from typing import Any, IO, List, Optional

DEFAULT_OUTPUT_DIR = 'fer_ros_output'
IMAGE_OUTPUT_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
WINDOW = 'fer-ros'


def check_show() -> None:
    """Fail before the run when ``--show`` cannot open a window (headless OpenCV)."""
    import cv2

    from ..errors import SourceError

    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:
        raise SourceError(
            '--show needs an OpenCV build with a GUI (pip install opencv-python instead of '
            'opencv-python-headless); use --output to write annotated frames instead'
        ) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone, so the exit's flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class FrameOutputs:
    """The open outputs of one run, written frame by frame and closed once."""

    def __init__(
        self,
        jsonl: Optional[str],
        video_sink: Any = None,
        image_file: Optional[Path] = None,
        image_dir: Optional[Path] = None,
        show: bool = False,
        bars: bool = False,
    ) -> None:
        self.jsonl = jsonl
        self.video_sink = video_sink
        self.image_file = image_file
        self.image_dir = image_dir
        self.show = show
        self.bars = bars
        # Whether any output needs the annotated frame (drawing is skipped otherwise).
        self.draws = bool(video_sink or image_dir or image_file or show)
        self.written: List[Path] = []
        self.reader_gone = False  # the reader of ``--jsonl -`` closed the pipe
        self.quit = False  # ``q`` pressed in the window
        self._canvas = None
        self._json: Optional[IO[str]] = None

    def open_jsonl(self) -> None:
        """Open the JSON lines output once the model has loaded (a failed start writes nothing)."""
        if self.jsonl == '-':
            self._json = sys.stdout
        elif self.jsonl:
            Path(self.jsonl).parent.mkdir(parents=True, exist_ok=True)
            self._json = open(self.jsonl, 'w', encoding='utf-8', buffering=1)  # one write a frame

    def write(self, frame: Any, result: Any) -> None:
        """Send one processed frame to every output."""
        self._write_json(frame, result)
        if self.draws:
            self._write_drawing(frame, result)

    def _write_json(self, frame: Any, result: Any) -> None:
        if self._json is None:
            return
        record = {'frame': frame.index, 'name': frame.name, **result.to_dict()}
        try:
            self._json.write(json.dumps(record) + '\n')
            if self._json is sys.stdout:
                self._json.flush()  # a reader of the pipe gets each frame as it is done
        except BrokenPipeError:  # `fer-ros run --jsonl - | head`: the reader is gone
            self.reader_gone = True  # the frame's other outputs are still written
            self._json = None
            _silence_stdout()

    def _write_drawing(self, frame: Any, result: Any) -> None:
        import cv2

        from ..annotate import annotate
        from ..errors import SourceError

        if self._canvas is None or self._canvas.shape != frame.bgr.shape:
            self._canvas = frame.bgr.copy()
        annotate(frame.bgr, result, out=self._canvas, bars=self.bars)
        if self.video_sink is not None:
            self.video_sink.write(self._canvas)
        target = self.image_file or (
            self.image_dir / f'{frame.name}.jpg' if self.image_dir is not None else None
        )
        if target is not None:
            if not cv2.imwrite(str(target), self._canvas):
                raise SourceError(f'cannot write {target}')
            self.written.append(target)
        if self.show:
            cv2.imshow(WINDOW, self._canvas)
            self.quit = (cv2.waitKey(1) & 0xFF) == ord('q')

    def close(self) -> None:
        """Close the video (playable) and the JSON file; safe to call once after any frame."""
        import cv2

        if self.video_sink is not None:
            self.video_sink.close()
        if self._json is not None and self._json is not sys.stdout:
            self._json.close()
        if self.show:
            cv2.destroyAllWindows()

    def report(self) -> None:
        """Name on stderr every file the run wrote."""
        if self.video_sink is not None:
            print(f'annotated video: {self.video_sink.path}', file=sys.stderr)
        if len(self.written) == 1:
            print(f'annotated image: {self.written[0]}', file=sys.stderr)
        elif self.written:
            print(f'annotated images: {len(self.written)} in {self.image_dir}', file=sys.stderr)
        if self.jsonl and self.jsonl != '-':
            print(f'results: {self.jsonl}', file=sys.stderr)


def open_outputs(
    source: Any, output: Optional[str], jsonl: Optional[str], show: bool, bars: bool
) -> FrameOutputs:
    """
    Route ``--output`` / ``--jsonl`` by the source's kind; stills and the sample get defaults.

    A video file output needs a stream (camera or video); for stills ``--output`` is a folder, or
    one image file when the source is one image. Raises ``SourceError`` before anything is opened
    when the combination cannot work.
    """
    from ..errors import SourceError
    from ..sources import VideoSink

    if not source.is_stream:
        output = output or DEFAULT_OUTPUT_DIR
        jsonl = jsonl or str(Path(DEFAULT_OUTPUT_DIR) / 'results.jsonl')
    if show:
        check_show()
    video_sink = image_file = image_dir = None
    if output:
        out_path = Path(output)
        is_video_name = out_path.suffix.lower() in VideoSink.FOURCC
        if source.is_stream and is_video_name:
            video_sink = VideoSink(out_path, source.fps)
        elif source.kind == 'image' and out_path.suffix.lower() in IMAGE_OUTPUT_SUFFIXES:
            image_file = out_path
        elif is_video_name and not source.is_stream:
            raise SourceError(
                f'--output {output}: a video output needs a video or camera source; give a folder'
            )
        else:
            image_dir = out_path
            image_dir.mkdir(parents=True, exist_ok=True)
    return FrameOutputs(jsonl, video_sink, image_file, image_dir, show=show, bars=bars)
