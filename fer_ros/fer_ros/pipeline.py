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
BGR frame -> FrameResult: detect faces, preprocess, classify in one batch, track and smooth.

No ROS and no TensorFlow here: the CLI and the ROS node both drive this class.
Everything that can be kept (model session, detector, grey frame, face crops,
model input batch) is created once and reused, so the per-frame path only does
per-frame work.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import time
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np

from .classifier import Classifier
from .detection import create_detector, Detection, FaceDetector
from .model_metadata import describe, ModelInfo
from .preprocess import crop_face, faces_to_input
from .resources import resolve_model
from .results import FaceResult, FrameResult
from .settings import PipelineSettings
from .tracking import iou, Tracker

LOG = logging.getLogger(__name__)

# Between full-frame detections, each tracked face is looked for in its predicted box
# grown by this fraction of its side on every side (fast head motion stays inside).
ROI_GROWTH = 0.5
DUPLICATE_IOU = 0.5  # detections overlapping more than this are the same face


CLASSIFIER_RELOAD = {'model', 'providers', 'intra_op_threads'}
DETECTOR_RELOAD = {'detector', 'detector_model', 'providers', 'intra_op_threads'}


@dataclass(frozen=True)
class PreparedSettings:
    """
    New settings with the model and detector they need already loaded.

    None for either: keep the running one.

    Made by :meth:`Pipeline.prepare` against ``base``, the settings running then.
    """

    settings: PipelineSettings
    base: PipelineSettings
    classifier: Optional[Classifier]
    detector: Optional[FaceDetector]


def _detector_kwargs(settings: PipelineSettings) -> Dict[str, Any]:
    return {
        'detection_width': settings.detection_width,
        'min_face_size': settings.min_face_size,
        'max_faces': settings.max_faces,
        'face_margin': settings.face_margin,
        'score_threshold': settings.score_threshold,
    }


class Pipeline:
    """
    The perception core. Build it once, then call :meth:`process` for every frame.

    Construction loads the model and the detector and raises
    :class:`~fer_ros.errors.ModelError` naming the file when one is missing or
    inconsistent. :meth:`update` changes settings while running (reloading the
    model or detector only when one of their settings changed).
    """

    def __init__(self, settings: Optional[PipelineSettings] = None) -> None:
        self.settings = settings if settings is not None else PipelineSettings()
        self.classifier: Classifier = self._load_classifier(self.settings)
        self.detector: FaceDetector = self._load_detector(self.settings)
        self.tracker = Tracker(
            self.settings.iou_threshold,
            self.settings.max_missed_frames,
            self._alpha(self.settings),
            max_tracks=self.settings.max_faces,
        )
        self._grey: Optional[np.ndarray] = None
        self._allocate_buffers()
        self._frame_index = 0
        self._force_full = True

    # -- construction and settings -------------------------------------------------------------

    @staticmethod
    def _load_classifier(settings: PipelineSettings) -> Classifier:
        path = resolve_model(settings.model)
        return Classifier(path, settings.providers, settings.intra_op_threads)

    @staticmethod
    def _load_detector(settings: PipelineSettings) -> FaceDetector:
        return create_detector(
            settings.detector,
            settings.detector_model,
            settings.providers,
            settings.intra_op_threads,
            **_detector_kwargs(settings),
        )

    @staticmethod
    def _alpha(settings: PipelineSettings) -> Optional[float]:
        return settings.smoothing_alpha if settings.smoothing else None

    def _allocate_buffers(self) -> None:
        """Crops and model input for the most faces a frame can have (twice that with flip TTA)."""
        size = self.classifier.info.input_size
        n = self.settings.max_faces * (2 if self.settings.tta == 'flip' else 1)
        self._crops = np.empty((n, size, size), dtype=np.uint8)
        self._batch = np.empty((n,) + self.classifier.input_shape, dtype=np.float32)

    def update(self, settings: PipelineSettings) -> None:
        """
        Switch to new settings while running: :meth:`prepare`, then :meth:`apply`.

        Model and detector are rebuilt only when their settings changed; the new
        ones are built before the old ones are dropped, so a failure (e.g. a
        missing model file) raises and leaves the pipeline running as before.
        Tracks are kept unless tracking is turned off or the model changed.
        """
        self.apply(self.prepare(settings))

    def needs_loading(self, settings: PipelineSettings) -> bool:
        """
        Tell whether switching to ``settings`` loads a model or a detector.

        Loading is slow (seconds on a Pi, minutes for a TensorRT engine); other changes
        only change numbers.
        """
        changed = set(settings.changed_reload_settings(self.settings))
        return bool(CLASSIFIER_RELOAD & changed) or self._detector_reloads(settings, changed)

    def _detector_reloads(self, settings: PipelineSettings, changed: set) -> bool:
        return bool(DETECTOR_RELOAD & changed) and not (
            settings.detector == 'haar' == self.settings.detector
        )

    def prepare(self, settings: PipelineSettings) -> PreparedSettings:
        """
        Load what ``settings`` needs that differs from the running ones.

        Changes nothing running.

        Safe to call from another thread while :meth:`process` runs: it only reads
        ``self.settings`` and builds new objects. Raises ``ModelError`` naming the file.
        """
        changed = set(settings.changed_reload_settings(self.settings))
        classifier = self._load_classifier(settings) if CLASSIFIER_RELOAD & changed else None
        detector = (
            self._load_detector(settings) if self._detector_reloads(settings, changed) else None
        )
        return PreparedSettings(settings, self.settings, classifier, detector)

    def apply(self, prepared: PreparedSettings) -> None:
        """
        Switch to prepared settings at once (no loading); call between frames.

        Raises ``ValueError`` when the pipeline's settings changed since :meth:`prepare`.
        """
        if prepared.base is not self.settings:
            raise ValueError('settings changed since prepare(); prepare again')
        old, settings = self.settings, prepared.settings
        classifier = prepared.classifier or self.classifier
        detector = prepared.detector or self.detector
        if prepared.detector is None:
            detector.configure(**_detector_kwargs(settings))
        model_changed = classifier is not self.classifier
        self.classifier, self.detector, self.settings = classifier, detector, settings
        self.tracker.iou_threshold = settings.iou_threshold
        self.tracker.max_missed_frames = settings.max_missed_frames
        self.tracker.smoothing_alpha = self._alpha(settings)
        self.tracker.max_tracks = settings.max_faces
        if model_changed or settings.max_faces != old.max_faces or settings.tta != old.tta:
            self._allocate_buffers()
        if model_changed or not settings.tracking:
            self.reset()  # smoothed probabilities of another model's labels are meaningless

    def reset(self) -> None:
        """
        Forget all tracks (e.g. when the camera or the scene changes).

        The next frame is a full pass.
        """
        self.tracker.reset()
        self._force_full = True

    # -- information ---------------------------------------------------------------------------

    @property
    def labels(self) -> Tuple[str, ...]:
        """Class names in model order, from the model's metadata."""
        return self.classifier.labels

    @property
    def model_info(self) -> ModelInfo:
        return self.classifier.info

    @property
    def provider(self) -> str:
        """Return the ONNX Runtime execution provider actually running the model."""
        return self.classifier.provider

    def describe(self) -> Dict[str, Any]:
        """JSON-friendly summary: model, metadata, provider, detector and settings."""
        return {
            'model': str(self.classifier.path),
            'model_info': describe(self.model_info),
            'provider': self.provider,
            'detector': type(self.detector).__name__,
            'settings': self.settings.to_dict(),
        }

    # -- per frame -----------------------------------------------------------------------------

    def _detect(self, bgr: np.ndarray, grey: np.ndarray) -> List[Detection]:
        """
        Return this frame's faces: a full pass, or region searches around the tracked faces.

        Region searches are sized from each track's raw detector box (not the
        crop box, whose margin would skew them). When a tracked face is not found
        in its region, a full pass runs in the same frame, so a face that moved
        more than the region allows, or a new one, is not missed for a frame.
        """
        s = self.settings
        full = (
            self._force_full
            or not s.tracking
            or s.full_detection_interval <= 1
            or self._frame_index % s.full_detection_interval == 0
            or not self.tracker.tracks
        )
        if not full:
            found = self._detect_regions(bgr, grey)
            if found is not None:
                return found
        self._force_full = False
        return self.detector.detect(bgr, grey)

    def _detect_regions(self, bgr: np.ndarray, grey: np.ndarray) -> Optional[List[Detection]]:
        """Faces found around each tracked face; None as soon as one tracked face is missing."""
        found: List[Detection] = []
        for box in self.tracker.active_boxes():
            x, y, w, h = box
            gx, gy = w * ROI_GROWTH, h * ROI_GROWTH
            region = (int(x - gx), int(y - gy), int(x + w + gx), int(y + h + gy))
            hits = self.detector.detect(bgr, grey, region, face_size=max(w, h))
            if not hits:
                return None
            for det in hits:
                if all(iou(det.box, other.box) < DUPLICATE_IOU for other in found):
                    found.append(det)
        found.sort(key=lambda d: d.score, reverse=True)
        return found[: self.settings.max_faces]

    def process(self, bgr: np.ndarray, still: bool = False) -> FrameResult:
        """
        Detect, classify and track the faces of one BGR (or grey) uint8 frame.

        ``still=True`` treats the frame as an unrelated photograph: tracks are
        reset first (nothing carries over from the previous image), the whole
        frame is searched, and faces are reported without waiting for
        ``confirm_frames`` frames.
        """
        if still:
            self.reset()
        t0 = time.perf_counter()
        bgr, grey = self._colour_and_grey(bgr)
        height, width = grey.shape
        detections = self._detect(bgr, grey)
        self._frame_index += 1
        t1 = time.perf_counter()

        n = len(detections)
        labels = self.labels
        faces: List[FaceResult] = []
        probs = np.zeros((0, len(labels)), dtype=np.float32)
        t2 = t3 = t1
        if n:
            batch = self._prepare_batch(grey, detections)
            t2 = time.perf_counter()
            probs = self._classify(batch, n)
            t3 = time.perf_counter()
        for det, (track_id, p) in zip(detections, self._track(detections, probs, still)):
            if track_id is not None:  # None: not yet confirmed
                best = int(np.argmax(p))
                face = FaceResult(
                    track_id=track_id,
                    box=det.box,
                    detection_score=det.score,
                    label=labels[best],
                    confidence=float(p[best]),
                    probabilities=np.array(p, dtype=np.float32),
                )
                faces.append(face)
        t4 = time.perf_counter()
        timings = {
            'detect': (t1 - t0) * 1e3,
            'preprocess': (t2 - t1) * 1e3,
            'classify': (t3 - t2) * 1e3,
            'track': (t4 - t3) * 1e3,
            'total': (t4 - t0) * 1e3,
        }
        return FrameResult(
            faces=faces, labels=labels, timings_ms=timings, frame_size=(width, height)
        )

    def _colour_and_grey(self, bgr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """
        Return the frame as the detector wants it (BGR or grey) and its grey version.

        The grey version is a reused buffer.
        """
        channels = bgr.shape[2] if bgr.ndim == 3 else 1
        if bgr.dtype != np.uint8 or bgr.ndim not in (2, 3) or channels not in (1, 3, 4):
            raise ValueError(
                f'expected a uint8 BGR, BGRA or grey image, got {bgr.dtype} {bgr.shape}'
            )
        if channels == 4:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_BGRA2BGR)
        height, width = bgr.shape[:2]
        if channels == 1:
            grey = bgr.reshape(height, width)
            if self.detector.uses_grey is False:
                bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
            return bgr, grey
        if self._grey is None or self._grey.shape != (height, width):
            self._grey = np.empty((height, width), dtype=np.uint8)
        return bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY, dst=self._grey)

    def _prepare_batch(self, grey: np.ndarray, detections: List[Detection]) -> np.ndarray:
        """
        Crop every face, rotated upright with ``face_alignment``.

        With flip TTA, also its mirror image.
        """
        n = len(detections)
        size = self.classifier.info.input_size
        crops = self._crops[:n]
        align = self.settings.face_alignment
        for i, det in enumerate(detections):
            crop_face(grey, det.box, size, out=crops[i], angle=det.eye_angle() if align else 0.0)
        if self.settings.tta == 'flip':
            mirrors = self._crops[n:][:n]
            np.copyto(mirrors, crops[:, :, ::-1])
            n *= 2
        return faces_to_input(
            self._crops[:n], self.classifier.info.preprocessing, out=self._batch[:n]
        )

    def _classify(self, batch: np.ndarray, n: int) -> np.ndarray:
        """
        Probabilities of the ``n`` faces: one model call.

        With flip TTA, face and mirror averaged.
        """
        probs = self.classifier.predict(batch)
        if len(probs) == 2 * n:
            probs = (probs[:n] + probs[n:]) * np.float32(0.5)
        return probs

    def _track(
        self, detections: List[Detection], probs: np.ndarray, still: bool
    ) -> List[Tuple[Optional[int], np.ndarray]]:
        """
        (id, probabilities) per detection.

        Id None for a face not yet seen in ``confirm_frames`` frames.
        """
        if not self.settings.tracking:
            return [(self.tracker.next_id(), probs[i]) for i in range(len(detections))]
        tracks = self.tracker.update_tracks([d.face for d in detections], probs)
        needed = 1 if still else self.settings.confirm_frames
        return [(t.track_id if t.hits >= needed else None, t.probabilities) for t in tracks]
