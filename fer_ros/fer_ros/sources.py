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
Where frames come from and where annotated frames go: camera, video, image, folder, sample.

``open_source`` turns the ``--source`` argument into an iterator of frames and
raises :class:`~fer_ros.errors.SourceError` with the reason when it cannot be
opened. In a folder, an unreadable image is counted, logged and skipped; a
single unreadable image is an error. The built-in sample is scikit-image's
public-domain ``astronaut`` photograph (``pip install "fer_ros[sample]"``).

Once open, a source never raises mid-run: a video that ends before the frame
count its header announced (truncated, corrupt) simply ends, with a note in
:attr:`FrameSource.ended_early`; a camera that stops delivering frames (reads
fail and no frame came for ``CAMERA_TIMEOUT_S``, 5 s: unplugged, driver
crash) ends the iteration with the reason in :attr:`FrameSource.lost`. The
caller then closes its outputs as on a normal end and decides what to report.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
import logging
from pathlib import Path
import time
from typing import Iterator, List, Optional, Tuple, Union

import cv2
import numpy as np

from .errors import SourceError

LOG = logging.getLogger(__name__)

IMAGE_SUFFIXES = (
    '.jpg',
    '.jpeg',
    '.png',
    '.bmp',
    '.tif',
    '.tiff',
    '.webp',
    '.pgm',
    '.ppm',
    '.jp2',
)
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')
SAMPLE_NAME = 'astronaut'
# A camera read can fail once in a while (USB hiccup) and recover: failed reads are retried
# CAMERA_RETRY_DELAY_S apart, and the camera counts as lost once no frame came for
# CAMERA_TIMEOUT_S.
# On Linux one read of a stalled camera itself waits up to OpenCV's V4L2 select timeout
# (OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT, 10 s by default), so there it is lost after that long.
CAMERA_TIMEOUT_S = 5.0
CAMERA_RETRY_DELAY_S = 0.1


@dataclass
class Frame:
    """One frame and where it came from."""

    index: int  # 0-based position in the source
    name: str  # file stem for images, ``frame_000123`` for video and camera
    bgr: np.ndarray


def read_image(path: Union[str, Path]) -> np.ndarray:
    """Read an image file as BGR uint8; :class:`SourceError` when it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f'image not found: {path}')
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(
            f'cannot read image {path}: not an image format OpenCV can decode, or corrupt'
        )
    return image


def sample_image() -> np.ndarray:
    """scikit-image's ``astronaut`` photograph (public domain, NASA) as BGR."""
    try:
        from skimage import data
    except ImportError:
        raise SourceError(
            'the built-in sample image comes from scikit-image: pip install "fer_ros[sample]", '
            'or give --source'
        ) from None
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


class FrameSource(ABC):
    """An opened source: iterate it for :class:`Frame` objects, then :meth:`close` it."""

    def __init__(
        self, kind: str, description: str, total: Optional[int] = None, fps: float = 0.0
    ) -> None:
        self.kind = kind  # camera, video, image, folder or sample
        self.description = description
        self.total = total  # number of frames when known
        self.fps = fps  # frame rate of a video or camera (0 when unknown)
        self.skipped = 0  # unreadable images skipped (folders)
        self.lost: Optional[str] = None  # why a camera stopped delivering frames mid-run
        self.ended_early: Optional[str] = (
            None  # a video that ended before its announced frame count
        )

    @property
    def is_stream(self) -> bool:
        """Tell whether this is a video or camera (annotated output is a video), not stills."""
        return self.kind in ('camera', 'video')

    @abstractmethod
    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook: still images hold nothing to release
        """Release the camera or video file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _StillSource(FrameSource):
    def __init__(
        self, kind: str, description: str, items: List[Union[Path, np.ndarray]], names: List[str]
    ):
        super().__init__(kind, description, total=len(items))
        self._items = items
        self._names = names

    def __iter__(self) -> Iterator[Frame]:
        for index, (item, name) in enumerate(zip(self._items, self._names)):
            if isinstance(item, np.ndarray):
                yield Frame(index, name, item)
                continue
            try:
                image = read_image(item)
            except SourceError as exc:
                if self.kind != 'folder':
                    raise
                self.skipped += 1
                LOG.warning('skipping %s', exc)
                continue
            yield Frame(index, name, image)


class _CaptureSource(FrameSource):
    def __init__(self, kind: str, description: str, capture: cv2.VideoCapture) -> None:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if kind == 'video' else 0
        super().__init__(
            kind,
            description,
            total=count if count > 0 else None,
            fps=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
        )
        self._capture = capture

    def _read(self) -> Tuple[Optional[np.ndarray], str]:
        """Return the next frame, or None and why not."""
        try:
            ok, frame = self._capture.read()
        except cv2.error as exc:  # some backends raise instead of returning False
            return None, f'read error: {(str(exc).strip().splitlines() or ["cv2.error"])[-1]}'
        if not ok or frame is None or frame.size == 0:
            return None, 'read returned no frame'
        return frame, ''

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        failures = 0
        last_frame_at = time.monotonic()
        while True:
            frame, why = self._read()
            if frame is not None:
                failures = 0
                yield Frame(index, f'frame_{index:06d}', frame)
                index += 1
                last_frame_at = time.monotonic()
                continue
            if self.kind == 'video':
                if self.total and index < self.total:
                    self.ended_early = (
                        f'{self.description} ended after {index} of {self.total} frames '
                        f'({why}; truncated or corrupt?)'
                    )
                return
            failures += 1
            waited = time.monotonic() - last_frame_at
            if waited >= CAMERA_TIMEOUT_S:
                self.lost = (
                    f'{self.description} stopped delivering frames after {index} frame(s) '
                    f'(none for {waited:.1f} s, {failures} failed read(s), last: {why}; '
                    f'unplugged?)'
                )
                return
            time.sleep(CAMERA_RETRY_DELAY_S)

    def close(self) -> None:  # noqa: B027 - optional hook: still images hold nothing to release
        self._capture.release()


def open_source(spec: Optional[str]) -> FrameSource:
    """Open ``--source``: None (built-in sample), a camera index, a video, an image or a folder."""
    if spec is None or spec == '':
        return _StillSource(
            'sample', f'built-in sample image ({SAMPLE_NAME})', [sample_image()], [SAMPLE_NAME]
        )
    if spec.isdigit():
        capture = cv2.VideoCapture(int(spec))
        if not capture.isOpened():
            raise SourceError(
                f'cannot open camera {spec} (is it connected, and is it /dev/video{spec}?)'
            )
        return _CaptureSource('camera', f'camera {spec}', capture)
    path = Path(spec).expanduser()
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise SourceError(f'folder {path} has no images ({", ".join(IMAGE_SUFFIXES)})')
        return _StillSource(
            'folder', f'folder {path} ({len(files)} images)', list(files), [p.stem for p in files]
        )
    if not path.exists():
        raise SourceError(
            f'source not found: {spec} (expected a camera index, video, image or folder)'
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        read_image(path)  # fail now, with the reason, rather than mid-run
        return _StillSource('image', f'image {path}', [path], [path.stem])
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SourceError(
            f'cannot open video {path}: not a video format OpenCV can decode, or corrupt'
        )
    ok, _ = capture.read()
    if not ok:
        capture.release()
        raise SourceError(f'cannot read any frame from video {path}')
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return _CaptureSource('video', f'video {path}', capture)


class VideoSink:
    """
    Writes annotated frames to a video file; opened lazily on the first frame (size known then).

    Every frame is written at the first frame's size. The file is complete
    only after :meth:`close`, which Ctrl-C and SIGTERM still reach (see
    :mod:`fer_ros.stop_signals`); a hard kill (SIGKILL, power loss) loses it,
    as OpenCV buffers and indexes the file at the end (measured: 31 frames
    written, then SIGKILL, left an empty ``.avi`` and an unplayable ``.mp4``).
    """

    FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG', '.mkv': 'MJPG'}

    def __init__(self, path: Union[str, Path], fps: float) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in self.FOURCC:
            raise SourceError(
                f'cannot write video {self.path}: use one of {", ".join(self.FOURCC)}'
            )
        self.fps = fps if fps and fps > 0 else 30.0
        self._writer: Optional[cv2.VideoWriter] = None
        self._size = (0, 0)

    def write(self, bgr: np.ndarray) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*self.FOURCC[self.path.suffix.lower()])
            self._size = (bgr.shape[1], bgr.shape[0])
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, self._size)
            if not self._writer.isOpened():
                raise SourceError(
                    f'cannot write video {self.path} (no encoder for {self.path.suffix})'
                )
        if (bgr.shape[1], bgr.shape[0]) != self._size:
            # OpenCV silently drops frames of another size (a camera that changed resolution)
            bgr = cv2.resize(bgr, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(bgr)

    def close(self) -> None:
        """Finish the file (an MP4 is only playable once closed); safe to call twice."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
