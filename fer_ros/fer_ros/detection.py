"""Face detectors behind one small interface: OpenCV's Haar cascade (default) and YuNet.

Detection is the expensive stage of the pipeline, so every detector:

* runs on a downscaled copy of the frame (``detection_width``) kept in a reused
  buffer, and can search only a region of the frame (re-detection around a
  tracked face);
* returns boxes in full-frame pixels with a score in [0, 1];
* squares each box and adds ``face_margin`` (see :func:`frame_box`) so the crop
  has the framing of the FER2013 training faces (tight, roughly brow to chin).

The Haar cascade ships inside the OpenCV wheel (``cv2.data.haarcascades``), so
the default needs no download. YuNet (``cv2.FaceDetectorYN``) is used when the
user gives the path of its ONNX file.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .errors import ModelError
from .preprocess import Box
from .settings import SPECS

LOG = logging.getLogger(__name__)

# Chosen by measurement (benchmarks/face_framing.py --section cascade, FER2013 PrivateTest faces
# placed in 640x480 frames, detection at 320 px): the default, alt and alt2 cascades find the same
# share of faces within noise (71-74%); alt2 was the fastest, with 0.04 false positives per frame
# at score_threshold 0.55. A scale step of 1.05 finds ~6 points more but costs twice the time.
HAAR_CASCADE = "haarcascade_frontalface_alt2.xml"
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


@dataclass
class Detection:
    """One face found by a detector: framed box in full-frame pixels and a score in [0, 1]."""

    box: Box
    score: float


def frame_box(box: Box, margin: float) -> Box:
    """Square ``box`` around its centre and grow it by ``margin`` x its side.

    The square side is the larger of width and height times ``1 + margin``;
    the result may extend past the frame (``preprocess.crop_face`` pads it).
    """
    x, y, w, h = box
    side = max(w, h) * (1.0 + margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    s = max(1, int(round(side)))
    return (int(round(cx - s / 2.0)), int(round(cy - s / 2.0)), s, s)


class FaceDetector(ABC):
    """Base class: downscaling, region search and box framing; subclasses find raw boxes.

    ``detect(bgr, grey)`` returns faces sorted by score (highest first), at most
    ``max_faces``, each at least ``min_face_size`` full-frame pixels wide.
    """

    #: whether :meth:`_find` wants the grey frame (True) or the BGR frame (False)
    uses_grey = True

    def __init__(
        self,
        detection_width: int = SPECS["detection_width"].default,
        min_face_size: int = SPECS["min_face_size"].default,
        max_faces: int = SPECS["max_faces"].default,
        face_margin: float = SPECS["face_margin"].default,
        score_threshold: float = SPECS["score_threshold"].default,
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
                raise AttributeError(f"{type(self).__name__} has no setting {name}")
            setattr(self, name, value)

    def detect(
        self,
        bgr: np.ndarray,
        grey: np.ndarray,
        region: Optional[Region] = None,
        face_size: Optional[float] = None,
    ) -> List[Detection]:
        """Find faces in the whole frame, or only inside ``region`` when given.

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
            size = (max(1, int(round(view.shape[1] * scale))), max(1, int(round(view.shape[0] * scale))))
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
        raw = self._find(view, min_size, max_size)
        detections = []
        for (bx, by, bw, bh), score in raw:
            if score < self.score_threshold:
                continue
            full = (bx / scale + x0, by / scale + y0, bw / scale, bh / scale)
            if max(full[2], full[3]) < self.min_face_size:
                continue
            detections.append(Detection(frame_box(full, self.face_margin), float(score)))
        detections.sort(key=lambda d: d.score, reverse=True)
        return detections[: self.max_faces]

    @abstractmethod
    def _find(self, image: np.ndarray, min_size: int, max_size: int) -> List[Tuple[Tuple[float, ...], float]]:
        """Raw (x, y, w, h) boxes in ``image`` pixels with scores in [0, 1] (``max_size`` 0: no limit)."""
        raise NotImplementedError


class HaarFaceDetector(FaceDetector):
    """OpenCV's frontal-face Haar cascade, shipped inside the OpenCV wheel (no download)."""

    uses_grey = True

    def __init__(self, cascade_path: Optional[str] = None, **settings) -> None:
        super().__init__(**settings)
        path = Path(cascade_path) if cascade_path else Path(cv2.data.haarcascades) / HAAR_CASCADE
        if not path.is_file():
            raise ModelError(f"Haar cascade not found: {path} (is opencv-python(-headless) 4.x installed?)")
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f"Haar cascade could not be loaded: {path}")
        self.source = str(path)

    def _find(self, image, min_size, max_size):
        boxes, neighbours = self._cascade.detectMultiScale2(
            image,
            scaleFactor=HAAR_SCALE_FACTOR,
            minNeighbors=1,  # every candidate comes back; score_threshold does the filtering
            minSize=(min_size, min_size),
            maxSize=(max_size, max_size) if max_size else (0, 0),
        )
        return [
            (tuple(float(v) for v in box), float(n) / (float(n) + HAAR_MIN_NEIGHBOURS))
            for box, n in zip(boxes, np.asarray(neighbours).reshape(-1))
        ]


class YuNetFaceDetector(FaceDetector):
    """OpenCV's YuNet DNN face detector (``cv2.FaceDetectorYN``) from a user-supplied ONNX file."""

    uses_grey = False

    def __init__(self, model_path: str, **settings) -> None:
        super().__init__(**settings)
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelError(
                f"YuNet model file not found: {path} (download face_detection_yunet_2023mar.onnx from "
                "the OpenCV model zoo, or use detector=haar)"
            )
        try:
            # Threshold 0: fer_ros applies score_threshold itself so it can change at run time.
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.05, 0.3, 5000)
        except cv2.error as exc:
            raise ModelError(f"{path}: not a YuNet model OpenCV can load: {exc}") from None
        self._input_size: Tuple[int, int] = (320, 320)
        self.source = str(path)

    def _find(self, image, min_size, max_size):
        size = (image.shape[1], image.shape[0])
        if size != self._input_size:
            self._net.setInputSize(size)
            self._input_size = size
        _, faces = self._net.detect(image)
        if faces is None:
            return []
        found = []
        for row in faces:
            x, y, w, h = (float(v) for v in row[:4])
            if max(w, h) >= min_size and (not max_size or max(w, h) <= max_size):
                found.append(((x, y, w, h), float(row[-1])))
        return found


def create_detector(
    detector: str = "haar",
    detector_model: str = "",
    **settings,
) -> FaceDetector:
    """Build the detector named by the ``detector`` setting (``haar`` or ``yunet``)."""
    if detector == "haar":
        return HaarFaceDetector(None, **settings)  # detector_model is YuNet's; Haar uses OpenCV's own
    if detector == "yunet":
        if not detector_model:
            raise ModelError("detector=yunet needs detector_model, the path of YuNet's .onnx file")
        return YuNetFaceDetector(detector_model, **settings)
    raise ModelError(f"unknown detector {detector!r}; allowed: haar, yunet")
