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

"""What the pipeline returns for one frame; the contract between the core, the CLI and ROS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np


@dataclass
class FaceResult:
    """One face in one frame."""

    track_id: int  # stable while the face stays in view (new faces get new ids)
    box: Tuple[int, int, int, int]  # x, y, width, height in source-frame pixels
    detection_score: float  # detector confidence in [0, 1]
    label: str  # most likely class after smoothing
    confidence: float  # its probability in [0, 1]
    probabilities: np.ndarray  # float32, one per label, model order, sums to 1

    def to_dict(self, labels: Tuple[str, ...]) -> dict:
        """JSON-friendly form (used by ``--jsonl`` and reports)."""
        return {
            'id': self.track_id,
            'box': [int(v) for v in self.box],
            'detection_score': round(float(self.detection_score), 4),
            'expression': self.label,
            'confidence': round(float(self.confidence), 4),
            'probabilities': {k: round(float(p), 4) for k, p in zip(labels, self.probabilities)},
        }


@dataclass
class FrameResult:
    """Every face of one frame plus per-stage timings in milliseconds."""

    faces: List[FaceResult]
    labels: Tuple[str, ...]  # class names in model order (from the model's metadata)
    timings_ms: Dict[str, float] = field(
        default_factory=dict
    )  # detect, preprocess, classify, track, total
    frame_size: Tuple[int, int] = (0, 0)  # width, height

    def to_dict(self) -> dict:
        return {
            'frame_size': list(self.frame_size),
            'faces': [f.to_dict(self.labels) for f in self.faces],
            'timings_ms': {k: round(v, 3) for k, v in self.timings_ms.items()},
        }
