"""Detector settings sweep: fer_ros frame rate and face recall for several detection settings.

Face detection is the expensive stage, and its settings trade speed against
the faces found. This runs fer_ros with each variant of the pipeline settings
against fer on the same 640x480 frames (alternating runs, pairwise ratios, as
in ``pipeline_speed``), so a default can be chosen from measured figures
rather than guessed.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from .pipeline_speed import measure_pipelines

# Overrides of the pipeline's default settings, the default first.
VARIANTS: Sequence[Dict] = (
    {},
    {"detection_width": 240},
    {"detection_width": 160},
    {"min_face_size": 60},
    {"min_face_size": 80},
    {"detection_width": 240, "min_face_size": 60},
)


def measure_sweep(make_ours, fer_subject, faces: np.ndarray, targets: np.ndarray, labels: Sequence[str],
                  frames_per_run: int, repeats: int, variants: Sequence[Dict] = VARIANTS,
                  seed: int = 0) -> List[Dict]:
    """One row per (variant, face count) on 640x480 frames; ``make_ours(overrides)`` builds fer_ros."""
    rows = []
    for overrides in variants:
        subjects = {"fer_ros": make_ours(overrides)}
        if fer_subject is not None:
            subjects["fer"] = fer_subject
        for row in measure_pipelines(subjects, faces, targets, labels, frames_per_run, repeats,
                                     frame_sizes=((640, 480),), face_counts=(1, 4), seed=seed):
            row["settings"] = dict(overrides)
            rows.append(row)
    return rows
