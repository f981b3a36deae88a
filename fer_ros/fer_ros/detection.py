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
Face detectors behind one small interface: YuNet (default, a DNN) and OpenCV's Haar cascade.

Detection is the expensive stage of the pipeline, so every detector:

* runs on a downscaled copy of the frame (``detection_width``) kept in a reused
  buffer, and can search only a region of the frame (re-detection around a
  tracked face);
* returns boxes in full-frame pixels with a score in [0, 1];
* squares each box and adds ``face_margin`` (see :func:`frame_box`) so the crop
  has the framing of the FER2013 training faces (tight, roughly brow to chin).

YuNet ships inside the package (``models/detector/``, Apache-2.0, its hash
checked by the tests) and runs with ONNX Runtime under the same execution
providers and threads as the expression model, so it needs nothing from OpenCV
beyond image operations. Its outputs are decoded by :mod:`fer_ros.yunet`; its
eye landmarks let the crop be rotated upright. The Haar cascade is an option,
looked up in ``cv2.data`` (pip's OpenCV) or the distribution's ``opencv-data``
folders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from . import yunet
from .errors import ModelError
from .onnx_session import check_model_file, CPU, one_line, open_session
from .preprocess import Box
from .resources import YUNET_MODEL
from .settings import SPECS

LOG = logging.getLogger(__name__)

# Chosen by measurement (benchmarks/face_framing.py --section cascade, FER2013 PrivateTest faces
# placed in 640x480 frames, detection at 320 px): the default, alt and alt2 cascades find the same
# share of faces within noise (71-74%); alt2 was the fastest, with 0.04 false positives per frame
# at score_threshold 0.55. A scale step of 1.05 finds ~6 points more but costs twice the time.
HAAR_CASCADE = 'haarcascade_frontalface_alt2.xml'
# Where distributions put the cascades: Debian/Ubuntu's opencv-data package, older layouts.
HAAR_SYSTEM_DIRS = ('/usr/share/opencv4/haarcascades', '/usr/share/opencv/haarcascades')
# Haar neighbour count n is reported as the score n / (n + HAAR_MIN_NEIGHBOURS): the
# cascade's usual acceptance rule (n >= HAAR_MIN_NEIGHBOURS) then means score >= 0.5.
HAAR_MIN_NEIGHBOURS = 3
HAAR_SCALE_FACTOR = 1.1

# Region re-detection (between full passes): the tracked face is searched at a resolution
# where it is about REGION_FACE_PX wide (Haar's window is 20 px), for faces of 0.6x-1.7x its size.
REGION_FACE_PX = 48.0
REGION_MIN_FACTOR = 0.6
REGION_MAX_FACTOR = 1.7

Region = Tuple[int, int, int, int]  # x0, y0, x1, y1 in full-frame pixels (x1, y1 exclusive)


RawFace = Tuple[
    Tuple[float, float, float, float], float, Optional[np.ndarray]
]  # box, score, landmarks


@dataclass
class Detection:
    """
    One face found by a detector, in full-frame pixels.

    ``box`` is the framed crop box (square, ``face_margin`` added): what is
    classified and published. ``face`` is the detector's own box, which tracking
    and region searches use, so they do not depend on the margin. ``landmarks``
    (YuNet only) are the eyes, nose tip and mouth corners, 5 x 2.
    """

    box: Box
    score: float
    face: Tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    landmarks: Optional[np.ndarray] = None

    def eye_angle(self) -> float:
        """
        In-plane rotation of the face in degrees (0 when upright or without landmarks).

        The angle of the line from the person's right eye to their left eye;
        rotating the image by it (``cv2.getRotationMatrix2D``) makes the eyes level.
        """
        if self.landmarks is None:
            return 0.0
        (rx, ry), (lx, ly) = self.landmarks[0], self.landmarks[1]
        return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def frame_box(box: Box, margin: float) -> Box:
    """
    Square ``box`` around its centre and grow it by ``margin`` x its side.

    The square side is the larger of width and height times ``1 + margin``;
    the result may extend past the frame (``preprocess.crop_face`` pads it).
    """
    x, y, w, h = box
    side = max(w, h) * (1.0 + margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    s = max(1, int(round(side)))
    return (int(round(cx - s / 2.0)), int(round(cy - s / 2.0)), s, s)


class FaceDetector(ABC):
    """
    Base class: downscaling, region search and box framing; subclasses find raw boxes.

    ``detect(bgr, grey)`` returns faces sorted by score (highest first), at most
    ``max_faces``, each at least ``min_face_size`` full-frame pixels wide.
    """

    #: whether :meth:`_find` wants the grey frame (True) or the BGR frame (False)
    uses_grey = True

    def __init__(
        self,
        detection_width: int = SPECS['detection_width'].default,
        min_face_size: int = SPECS['min_face_size'].default,
        max_faces: int = SPECS['max_faces'].default,
        face_margin: float = SPECS['face_margin'].default,
        score_threshold: float = SPECS['score_threshold'].default,
    ) -> None:
        self.detection_width = detection_width
        self.min_face_size = min_face_size
        self.max_faces = max_faces
        self.face_margin = face_margin
        self.score_threshold = score_threshold
        self._small: Optional[np.ndarray] = None  # reused downscale buffer

    def configure(self, **settings) -> None:
        """Change detection settings that need no reload (width, sizes, margin, threshold)."""
        for name, value in settings.items():
            if not hasattr(self, name):
                raise AttributeError(f'{type(self).__name__} has no setting {name}')
            setattr(self, name, value)

    def detect(
        self,
        bgr: np.ndarray,
        grey: np.ndarray,
        region: Optional[Region] = None,
        face_size: Optional[float] = None,
    ) -> List[Detection]:
        """
        Find faces in the whole frame, or only inside ``region`` when given.

        ``face_size`` (with ``region``: the side of the face tracked there) lets
        the region be searched at a resolution where that face is about
        ``REGION_FACE_PX`` pixels and only for faces of 0.6x to 1.7x that size,
        which costs a fraction of a full pass.
        """
        image = grey if self.uses_grey else bgr
        frame_h, frame_w = image.shape[:2]
        if region is None:
            x0, y0, x1, y1 = 0, 0, frame_w, frame_h
        else:
            x0, y0 = max(0, int(region[0])), max(0, int(region[1]))
            x1, y1 = min(frame_w, int(region[2])), min(frame_h, int(region[3]))
            if x1 - x0 < self.min_face_size or y1 - y0 < self.min_face_size:
                return []
        view = image[y0:y1, x0:x1]
        scale = 1.0
        max_size = 0
        if region is not None and face_size:
            scale = min(1.0, REGION_FACE_PX / float(face_size))
            max_size = int(REGION_MAX_FACTOR * face_size * scale)
        elif self.detection_width and frame_w > self.detection_width:
            # Full pass, or a region searched at the resolution a full pass would use.
            scale = self.detection_width / float(frame_w)
        if scale != 1.0:
            size = (
                max(1, int(round(view.shape[1] * scale))),
                max(1, int(round(view.shape[0] * scale))),
            )
            if region is None:
                shape = (size[1], size[0]) + view.shape[2:]
                if self._small is None or self._small.shape != shape:
                    self._small = np.empty(shape, dtype=image.dtype)
                view = cv2.resize(view, size, dst=self._small, interpolation=cv2.INTER_AREA)
            else:  # regions change size every frame; they are small, so no buffer is kept
                view = cv2.resize(view, size, interpolation=cv2.INTER_AREA)
        min_size = max(8, int(self.min_face_size * scale))
        if region is not None and face_size:
            min_size = max(min_size, int(REGION_MIN_FACTOR * face_size * scale))
        if max_size and max_size <= min_size:
            return []
        found = self._find(view, min_size, max_size, region is None)
        detections = self._to_frame(found, scale, (x0, y0))
        detections.sort(key=lambda d: d.score, reverse=True)
        return detections[: self.max_faces]

    def _to_frame(self, found: Any, scale: float, origin: Tuple[int, int]) -> List[Detection]:
        """Map ``_find``'s (box, score, points) in the searched view to frame pixels."""
        x0, y0 = origin
        detections = []
        for (bx, by, bw, bh), score, points in found:
            if score < self.score_threshold:
                continue
            full = (bx / scale + x0, by / scale + y0, bw / scale, bh / scale)
            if max(full[2], full[3]) < self.min_face_size:
                continue
            if points is not None:
                points = points / scale + np.array([x0, y0], dtype=np.float32)
            detections.append(
                Detection(frame_box(full, self.face_margin), float(score), full, points)
            )
        return detections

    @abstractmethod
    def _find(
        self, image: np.ndarray, min_size: int, max_size: int, full_pass: bool
    ) -> List[RawFace]:
        """
        Raw faces in ``image`` pixels: (x, y, w, h), score in [0, 1], landmarks (5 x 2) or None.

        Faces narrower than ``min_size`` or (``max_size`` > 0) wider than ``max_size`` are left
        out.
        ``full_pass`` says the image is the whole frame (its size repeats: buffers can be kept).
        """
        raise NotImplementedError


class HaarFaceDetector(FaceDetector):
    """OpenCV's frontal-face Haar cascade, shipped inside the OpenCV wheel (no download)."""

    uses_grey = True

    def __init__(self, cascade_path: Optional[str] = None, **settings) -> None:
        super().__init__(**settings)
        path = Path(cascade_path) if cascade_path else find_haar_cascade()
        if not path.is_file():
            raise ModelError(f'Haar cascade not found: {path}')
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f'Haar cascade could not be loaded: {path}')
        self.source = str(path)

    def _find(self, image, min_size, max_size, full_pass):
        boxes, neighbours = self._cascade.detectMultiScale2(
            image,
            scaleFactor=HAAR_SCALE_FACTOR,
            minNeighbors=1,  # every candidate comes back; score_threshold does the filtering
            minSize=(min_size, min_size),
            maxSize=(max_size, max_size) if max_size else (0, 0),
        )
        return [
            (tuple(float(v) for v in box), float(n) / (float(n) + HAAR_MIN_NEIGHBOURS), None)
            for box, n in zip(boxes, np.asarray(neighbours).reshape(-1))
        ]


def haar_search_dirs() -> List[Path]:
    """List the folders that may hold OpenCV's cascades: ``cv2.data``, then the distro's."""
    dirs = []
    data = getattr(cv2, 'data', None)  # absent from distribution builds (python3-opencv)
    if data is not None and getattr(data, 'haarcascades', None):
        dirs.append(Path(data.haarcascades))
    return dirs + [Path(d) for d in HAAR_SYSTEM_DIRS]


def find_haar_cascade(name: str = HAAR_CASCADE) -> Path:
    """
    Return the path of cascade ``name``.

    :class:`ModelError` naming every path tried when none exists.
    """
    tried = [folder / name for folder in haar_search_dirs()]
    for path in tried:
        if path.is_file():
            return path
    raise ModelError(
        f'Haar cascade {name} not found; tried {", ".join(map(str, tried))}. Install the cascades '
        '(Debian/Ubuntu: sudo apt install opencv-data; or pip install opencv-python-headless) '
        'or use detector=yunet, which ships with fer_ros'
    )


class YuNetFaceDetector(FaceDetector):
    """
    YuNet run by ONNX Runtime.

    The shipped ``yunet_s_dynamic.onnx`` unless another file is given.

    The frame (or region) is copied into a zero-padded NCHW float32 buffer whose
    height and width are multiples of 32, as ``cv2.FaceDetectorYN`` pads it; the
    buffer is kept while the input size stays the same (full passes).
    """

    uses_grey = False

    def __init__(
        self,
        model_path: Optional[str] = None,
        providers: Sequence[str] = (CPU,),
        intra_op_threads: int = 1,
        **settings,
    ) -> None:
        super().__init__(**settings)
        path = Path(model_path).expanduser() if model_path else YUNET_MODEL
        check_model_file(path, 'YuNet model')
        self._session, self.provider = open_session(path, providers, intra_op_threads)
        self._check_signature(path)
        self._blob: Optional[np.ndarray] = None  # full-pass input, kept while the frame size stays
        self._blob_image_size: Tuple[int, int] = (0, 0)
        self.source = str(path)

    def _check_signature(self, path: Path) -> None:
        inputs = self._session.get_inputs()
        names = {o.name for o in self._session.get_outputs()}
        missing = [name for name in yunet.OUTPUT_NAMES if name not in names]
        if len(inputs) != 1 or missing:
            raise ModelError(
                f'{path}: not a YuNet model (needs one input and outputs '
                f'{", ".join(yunet.OUTPUT_NAMES)}; '
                f'missing {", ".join(missing) or "none"})'
            )
        shape = inputs[0].shape
        if len(shape) != 4 or not all(isinstance(d, str) or d is None for d in shape[2:]):
            raise ModelError(
                f'{path}: YuNet input must have a dynamic height and width, got {shape} '
                '(use yunet_s_dynamic.onnx, which fer_ros ships)'
            )
        self._input_name = inputs[0].name
        try:
            self._session.run(
                list(yunet.OUTPUT_NAMES), {self._input_name: np.zeros((1, 3, 64, 64), np.float32)}
            )
        except Exception as exc:  # onnxruntime's private exception types
            raise ModelError(
                f'{path}: the YuNet model fails on a test input: {one_line(exc)}'
            ) from None

    def _input_blob(self, image: np.ndarray, reuse: bool) -> Tuple[np.ndarray, int, int]:
        """
        Return the network input for ``image``: zero-padded NCHW float32.

        With ``reuse`` (full passes: the frame's size only changes with the
        camera or ``detection_width``) one buffer is kept; regions, which differ
        in size every frame and are small, get a fresh one each.
        """
        height, width = image.shape[:2]
        pw, ph = yunet.padded_size(width, height)
        if not reuse:
            blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        elif self._blob is None or self._blob_image_size != (height, width):
            blob = self._blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
            self._blob_image_size = (height, width)
        else:
            blob = (
                self._blob
            )  # same image size: the padding is still zero, only the image is rewritten
        np.copyto(blob[0, :, :height, :width], image.transpose(2, 0, 1), casting='unsafe')
        return blob, pw, ph

    def _find(self, image, min_size, max_size, full_pass):
        blob, pw, ph = self._input_blob(image, reuse=full_pass)
        outputs = self._session.run(list(yunet.OUTPUT_NAMES), {self._input_name: blob})
        # The threshold is read per call, so a score_threshold change applies to the next frame.
        faces = yunet.decode(dict(zip(yunet.OUTPUT_NAMES, outputs)), pw, ph, self.score_threshold)
        found = []
        for box, points, score in zip(faces.boxes, faces.landmarks, faces.scores):
            side = max(box[2], box[3])
            if side >= min_size and (not max_size or side <= max_size):
                found.append((tuple(float(v) for v in box), float(score), points))
        return found


def create_detector(
    detector: str = 'yunet',
    detector_model: str = '',
    providers: Sequence[str] = (CPU,),
    intra_op_threads: int = 1,
    **settings,
) -> FaceDetector:
    """
    Build the detector named by the ``detector`` setting (``yunet`` or ``haar``).

    ``detector_model`` is YuNet's ONNX file ("" = the shipped one); Haar uses
    OpenCV's cascade (see :func:`find_haar_cascade`) and ignores it, and the providers.
    """
    if detector == 'yunet':
        return YuNetFaceDetector(detector_model or None, providers, intra_op_threads, **settings)
    if detector == 'haar':
        return HaarFaceDetector(None, **settings)
    raise ModelError(f'unknown detector {detector!r}; allowed: yunet, haar')
