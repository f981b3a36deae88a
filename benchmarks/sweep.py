"""Detector settings sweep: fer_ros frame rate and face recall for several detection settings.

Face detection is the expensive stage, and its settings trade speed against
the faces found. This runs fer_ros with each variant of the pipeline settings
against fer on the same 640x480 frames (alternating runs, pairwise ratios, as
in ``pipeline_speed``), so a default can be chosen from measured figures
rather than guessed.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from .pipeline_speed import measure_pipelines

# (scene, overrides of the pipeline's default settings), the defaults first. Photos
# need a full detection on every frame; in a video clip, tracking lets
# full_detection_interval > 1 search only around the faces between full passes.
VARIANTS: Sequence[Tuple[str, Dict]] = (
    ('photos', {}),
    ('photos', {'detection_width': 240}),
    ('photos', {'detection_width': 160}),
    ('photos', {'min_face_size': 60}),
    ('photos', {'min_face_size': 80}),
    ('photos', {'detection_width': 240, 'min_face_size': 60}),
    ('video', {}),
    ('video', {'full_detection_interval': 5}),
    ('video', {'full_detection_interval': 10}),
    ('video', {'full_detection_interval': 5, 'detection_width': 240}),
)


def measure_sweep(
    make_ours,
    fer_subject,
    faces: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    frames_per_run: int,
    repeats: int,
    variants: Sequence[Tuple[str, Dict]] = VARIANTS,
    seed: int = 0,
) -> List[Dict]:
    """One row per (variant, face count) on 640x480 frames; ``make_ours(overrides)`` builds
    fer_ros.
    """
    rows = []
    for scene, overrides in variants:
        subjects = {'fer_ros': make_ours(overrides)}
        if fer_subject is not None:
            subjects['fer'] = fer_subject
        for row in measure_pipelines(
            subjects,
            faces,
            targets,
            labels,
            frames_per_run,
            repeats,
            frame_sizes=((640, 480),),
            face_counts=(1, 4),
            seed=seed,
            scene=scene,
        ):
            row['settings'] = dict(overrides)
            rows.append(row)
    return rows
