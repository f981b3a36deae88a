"""Whole-pipeline speed: frames per second and per-stage ms, fer_ros and fer on the same frames.

For each frame size and face count, both pipelines process the same list of
synthetic frames (real FER2013 faces placed in a room scene). Runs alternate
(fer_ros then fer, then fer then fer_ros, ...), and the frame-rate ratio is
computed for each pair of neighbouring runs before taking the median, so load
from other processes on a shared machine cancels out instead of favouring
whichever library happened to run during a quiet moment.

The first run of each pipeline also scores detection (placed faces found, at
IoU >= 0.3) and the expression of each found face against its FER2013 label.
"""

from __future__ import annotations

import time
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .frames import match_boxes, synthesize_clip, synthesize_frames, SyntheticFrame
from .timing import median, pairwise_ratios, summarize

FRAME_SIZES: Tuple[Tuple[int, int], ...] = ((640, 480), (1280, 720))
FACE_COUNTS: Tuple[int, ...] = (0, 1, 4)
SCENES = ('photos', 'video')  # unrelated frames, or a clip of a static camera (see frames.py)
WARMUP_FRAMES = 2


def _run(
    subject, frames: Sequence[SyntheticFrame]
) -> Tuple[float, List[Dict[str, float]], List[list]]:
    """Process every frame once; returns (seconds, per-frame stage timings, per-frame outputs)."""
    stages, outputs = [], []
    subject.begin_run()
    start = time.perf_counter()
    for frame in frames:
        outputs.append(subject.process(frame.image))
        stages.append(dict(subject.last_timings))
    return time.perf_counter() - start, stages, outputs


def _quality(
    frames: Sequence[SyntheticFrame],
    outputs: Sequence[list],
    targets: np.ndarray,
    labels: Sequence[str],
) -> Dict[str, int]:
    placed = found = matched = correct = 0
    for frame, faces in zip(frames, outputs):
        boxes = [box for box, _ in faces]
        pairs = match_boxes(frame.boxes, boxes)
        placed += len(frame.boxes)
        found += len(boxes)
        matched += len(pairs)
        correct += sum(faces[j][1] == labels[targets[frame.face_indices[i]]] for i, j in pairs)
    return {
        'faces_placed': placed,
        'faces_found': found,
        'faces_matched': matched,
        'expressions_correct': int(correct),
    }


def _fer_stages(fer_subject, frames: Sequence[SyntheticFrame]) -> Dict[str, float]:
    """fer's detect and classify stages timed apart (median ms per frame), by calling them
    separately.
    """
    detect, classify = [], []
    for frame in frames:
        t0 = time.perf_counter()
        boxes = fer_subject.find_faces(frame.image)
        t1 = time.perf_counter()
        fer_subject.classify_boxes(frame.image, boxes)
        t2 = time.perf_counter()
        detect.append((t1 - t0) * 1e3)
        classify.append((t2 - t1) * 1e3)
    return {'detect': round(median(detect), 3), 'preprocess+classify': round(median(classify), 3)}


def measure_pipelines(
    subjects: Dict[str, object],
    faces: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    frames_per_run: int,
    repeats: int,
    frame_sizes: Sequence[Tuple[int, int]] = FRAME_SIZES,
    face_counts: Sequence[int] = FACE_COUNTS,
    seed: int = 0,
    scene: str = 'photos',
) -> List[Dict]:
    """One row per (frame size, face count) with fps, stage ms and quality of each subject.

    ``subjects`` maps a name to an object with ``process(bgr) -> [(box, label)]``
    and ``last_timings`` (stage ms of the last frame; may be empty). When both
    ``fer_ros`` and ``fer`` are present the row also has their pairwise fps ratio.
    ``scene`` is ``photos`` (unrelated frames; stateful subjects reset before
    each) or ``video`` (one clip, state kept from frame to frame within a run).
    """
    if scene not in SCENES:
        raise ValueError(f'unknown scene {scene!r}; allowed: {", ".join(SCENES)}')
    synthesize = synthesize_frames if scene == 'photos' else synthesize_clip
    for subject in subjects.values():
        if hasattr(subject, 'independent_frames'):
            subject.independent_frames = scene == 'photos'
    names = list(subjects)
    rows = []
    for width, height in frame_sizes:
        for n_faces in face_counts:
            frame_seed = seed + 1000 * n_faces + width
            frames = synthesize(faces, width, height, n_faces, frames_per_run, seed=frame_seed)
            for name in names:
                for frame in frames[:WARMUP_FRAMES]:
                    subjects[name].process(frame.image)
            fps: Dict[str, List[float]] = {name: [] for name in names}
            stage_runs: Dict[str, List[Dict[str, float]]] = {name: [] for name in names}
            quality: Dict[str, Dict[str, int]] = {}
            for r in range(repeats):
                for name in names if r % 2 == 0 else names[::-1]:
                    seconds, stages, outputs = _run(subjects[name], frames)
                    fps[name].append(len(frames) / seconds)
                    stage_runs[name].extend(stages)
                    if name not in quality:
                        quality[name] = _quality(frames, outputs, targets, labels)
            row: Dict = {
                'scene': scene,
                'frame': f'{width}x{height}',
                'faces': n_faces,
                'frames_per_run': len(frames),
            }
            for name in names:
                stage_ms = {}
                keys = stage_runs[name][0].keys() if stage_runs[name] else ()
                for key in keys:
                    stage_ms[key] = round(median(s[key] for s in stage_runs[name]), 3)
                if name == 'fer' and hasattr(subjects[name], 'find_faces'):
                    stage_ms = _fer_stages(subjects[name], frames)
                row[name] = {
                    'fps': summarize(fps[name], 2),
                    'ms_per_frame': round(1e3 / median(fps[name]), 2),
                    'stages_ms': stage_ms,
                    **quality[name],
                }
            if 'fer_ros' in fps and 'fer' in fps:
                ratios = pairwise_ratios(fps['fer_ros'], fps['fer'])
                row['fps_ratio_fer_ros_over_fer'] = summarize(ratios, 2)
            rows.append(row)
    return rows
