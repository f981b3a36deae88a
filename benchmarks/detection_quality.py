"""Detection quality on hard scenes, and expression accuracy per detector and crop framing.

``measure_detection``
    Haar, YuNet (fer_ros's two detectors, each at fer_ros's default settings)
    and the ``fer`` package's detector on the same :func:`benchmarks.frames.hard_scenes`:
    2-6 faces of 56-220 px per 640x480 frame, turned up to 30 degrees, half of
    them partly covered, uneven light, textured backgrounds. Two face sources:
    real heads from photographs shipped in scikit-image and matplotlib (faces
    with hair, neck and surroundings, as a camera sees them), and FER2013 crops
    (tight faces with no context: harder for any detector than a camera's view).
    Reports placed faces found, false positives per frame, detection ms per
    frame, and recall on the covered, strongly turned and small faces.
``measure_framing``
    The expression model end to end (detect, crop, classify) on FER2013
    PrivateTest faces placed upright and turned up to 30 degrees, for each
    detector, with and without the eye-landmark alignment, at several
    ``face_margin`` values; the accuracy of the same model on the exact 48x48
    crops of the same faces is the reference.
"""

from __future__ import annotations

import time
from typing import Callable, Dict, List, Sequence, Tuple

from benchmarks.frames import (
    fer_sources,
    hard_scenes,
    HardFace,
    match_centres,
    photo_sources,
    place_faces,
)
import cv2
import numpy as np

FaceBoxes = Callable[[np.ndarray], List[Tuple[float, float, float, float]]]
SCENE_SETS = ('photo heads', 'FER2013 crops')
STRONG_TURN = 20.0  # degrees
SMALL_FACE = 100  # px
# Each detector at its documented threshold (settings.py: YuNet's default; Haar's n >= 4 windows).
DETECTOR_THRESHOLDS = {'yunet': 0.6, 'haar': 0.55}


def fer_ros_detector(**settings) -> FaceBoxes:
    """fer_ros's detector as the pipeline builds it (its raw boxes, so every detector is judged
    alike).
    """
    from fer_ros.pipeline import Pipeline
    from fer_ros.settings import PipelineSettings

    detector = Pipeline(PipelineSettings(**settings)).detector

    def find(bgr: np.ndarray):
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return [d.face for d in detector.detect(bgr, grey)]

    return find


def scene_sets(faces: np.ndarray, count: int, seed: int) -> Dict[str, list]:
    """The two sets of hard scenes, ``count`` frames each, the same for every detector."""
    return {
        'photo heads': hard_scenes(photo_sources(), count, seed),
        'FER2013 crops': hard_scenes(fer_sources(faces), count, seed + 1),
    }


def _recall(faces: List[HardFace], hits: List[bool], keep: Callable[[HardFace], bool]) -> Dict:
    chosen = [hit for face, hit in zip(faces, hits) if keep(face)]
    return {'found': int(sum(chosen)), 'placed': len(chosen)}


def measure_detection(detectors: Dict[str, FaceBoxes], scenes: Dict[str, list]) -> List[Dict]:
    """One row per (scene set, detector): found / placed, false positives per frame, ms per
    frame.
    """
    rows = []
    for scene_name, frames in scenes.items():
        for name, find in detectors.items():
            find(frames[0][0])  # warm-up
            all_faces: List[HardFace] = []
            hits: List[bool] = []
            false_positives, times = 0, []
            for image, faces in frames:
                start = time.perf_counter()
                boxes = find(image)
                times.append((time.perf_counter() - start) * 1e3)
                matched = {i for i, _ in match_centres(faces, boxes)}
                hits += [i in matched for i in range(len(faces))]
                all_faces += faces
                false_positives += len(boxes) - len(matched)
            rows.append(
                {
                    'scenes': scene_name,
                    'detector': name,
                    'frames': len(frames),
                    'found': int(sum(hits)),
                    'placed': len(hits),
                    'recall': sum(hits) / max(1, len(hits)),
                    'false_positives_per_frame': false_positives / len(frames),
                    'ms_per_frame': float(np.median(times)),
                    'covered': _recall(all_faces, hits, lambda f: f.occluded),
                    'turned_over_20_degrees': _recall(
                        all_faces, hits, lambda f: abs(f.angle) > STRONG_TURN
                    ),
                    'under_100_px': _recall(all_faces, hits, lambda f: f.side < SMALL_FACE),
                }
            )
    return rows


def measure_framing(
    data,
    model: str,
    n_faces: int,
    seed: int,
    margins: Sequence[float],
    max_rotations: Sequence[float] = (0.0, 30.0),
) -> List[Dict]:
    """End-to-end expression accuracy per detector, alignment and margin (see the module
    docstring).
    """
    variants = [('yunet', True, m) for m in margins] + [('yunet', False, m) for m in margins]
    variants.append(
        ('haar', False, 0.0)
    )  # Haar's margin was chosen in 2026-11 (docs/detection.md)
    rows = []
    for max_rotation in max_rotations:
        rng = np.random.default_rng(seed)
        indices = rng.choice(len(data), n_faces, replace=False)
        frames = [
            place_faces(
                data.images, data.targets, indices[s : s + 3], rng, max_rotation=max_rotation
            )
            for s in range(0, n_faces, 3)
        ]
        for detector, align, margin in variants:
            row = _framing_row(data, model, frames, detector, align, margin)
            rows.append({'faces_turned_up_to': max_rotation, 'placed': n_faces, **row})
    return rows


def _framing_row(
    data, model: str, frames: list, detector: str, align: bool, margin: float
) -> Dict:
    """Faces found and expression accuracy end to end vs on the exact crops, for one
    configuration.
    """
    from fer_ros.pipeline import Pipeline
    from fer_ros.preprocess import faces_to_input
    from fer_ros.settings import PipelineSettings

    pipeline = Pipeline(
        PipelineSettings(
            model=model,
            detector=detector,
            face_alignment=align,
            face_margin=margin,
            tracking=False,
            score_threshold=DETECTOR_THRESHOLDS[detector],
        )
    )
    found, correct = [], 0
    for frame, placed in frames:
        result = pipeline.process(frame, still=True)
        truth = [_as_hard_face(p) for p in placed]
        for i, j in match_centres(truth, [f.box for f in result.faces]):
            found.append(placed[i].index)
            correct += pipeline.labels.index(result.faces[j].label) == placed[i].target
    inputs = faces_to_input(list(data.images[found]), pipeline.model_info.preprocessing)
    crops = pipeline.classifier.predict(inputs)
    return {
        'detector': detector,
        'alignment': align,
        'face_margin': margin,
        'found': len(found),
        'accuracy_end_to_end': correct / max(1, len(found)),
        'accuracy_on_exact_crops': float(np.mean(crops.argmax(1) == data.targets[found])),
    }


def _as_hard_face(placed) -> HardFace:
    x, y, side, _ = placed.box
    return HardFace((x + side / 2, y + side / 2), side, 0.0, False, placed.index)
