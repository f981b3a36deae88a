"""fer_ros as the benchmarks drive it: its classifier on face crops and its whole pipeline on
frames.

Thin adapters only: the model, its metadata, the preprocessing and the
pipeline are fer_ros's own (``Classifier``, ``preprocess``, ``Pipeline``).
"""

from __future__ import annotations

from typing import List, Tuple

from fer_ros.classifier import Classifier
from fer_ros.pipeline import Pipeline
from fer_ros.preprocess import crop_face, faces_to_input
from fer_ros.resources import resolve_model
from fer_ros.settings import PipelineSettings
import numpy as np

Box = Tuple[int, int, int, int]
CPU = ('CPUExecutionProvider',)


class FerRosClassifier:
    """A fer_ros ONNX model with the preprocessing its metadata names."""

    def __init__(self, model: str, threads: int = 1) -> None:
        self.path = resolve_model(model)
        self.classifier = Classifier(self.path, CPU, threads)
        self.info = self.classifier.info
        self.labels = self.classifier.labels
        self.name = f'fer_ros {self.path.name}'

    def preprocess(self, grey_faces: np.ndarray) -> np.ndarray:
        """Whole-face grey crops (N x S x S uint8) -> model input, as the pipeline prepares
        them.
        """
        size = self.info.input_size
        if grey_faces.shape[1:] != (size, size):
            side = grey_faces.shape[1]
            grey_faces = np.stack(
                [crop_face(face, (0, 0, side, side), size) for face in grey_faces]
            )
        return faces_to_input(grey_faces, self.info.preprocessing)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.classifier.predict(batch)


class FerRosPipeline:
    """``fer_ros.pipeline.Pipeline(settings).process(frame)`` with the given settings."""

    name = 'fer_ros'

    def __init__(self, settings: PipelineSettings) -> None:
        self.pipeline = Pipeline(settings)
        self.last_timings: dict = {}
        #: True for unrelated photos: tracks are reset before each frame, since
        #: temporal smoothing would otherwise mix the expressions of different
        #: people who happen to stand at the same place. False for a video clip.
        self.independent_frames = True

    def begin_run(self) -> None:
        """Start a run over a clip from a clean state (no tracks from the previous run)."""
        self.pipeline.reset()

    def process(self, bgr: np.ndarray) -> List[Tuple[Box, str]]:
        """Run the pipeline on one frame; returns (box, expression) per face."""
        result = self.pipeline.process(bgr, still=self.independent_frames)
        self.last_timings = result.timings_ms
        return [(tuple(int(v) for v in face.box), face.label) for face in result.faces]
