"""Measure how the face crop's framing (``face_margin``) and region re-detection affect fer_ros.

Two measurements on FER2013 PrivateTest faces placed into 640x480 frames at
known positions and sizes (``benchmarks/frames.py``, ``place_faces``):

``margin``
    Detect every frame once, then crop each detected face with every candidate
    margin and classify it: end-to-end accuracy, box IoU with the true FER2013
    crop, and the crop-level accuracy of the same model on the same faces. The
    default ``face_margin`` is the margin that maximises end-to-end accuracy.
``cascade``
    Recall and false positives of OpenCV's three frontal-face Haar cascades
    (one face per frame), to choose the default cascade and score threshold.
``interval``
    Faces drift across the frame for 30 frames; for each ``full_detection_interval``
    the per-frame recall and the detection time are reported.

    python benchmarks/face_framing.py --section cascade --faces 300
    python benchmarks/face_framing.py --section margin --faces 900
    python benchmarks/face_framing.py --section interval

Runs from a checkout (puts the repository root and ``fer_ros/`` on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import sys
import time

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'fer_ros')]

from benchmarks.frames import place_faces  # noqa: E402
from fer_ros.detection import frame_box, HaarFaceDetector  # noqa: E402
from fer_ros.pipeline import Pipeline  # noqa: E402
from fer_ros.preprocess import crop_face, faces_to_input  # noqa: E402
from fer_ros.settings import PipelineSettings  # noqa: E402
from fer_ros.tracking import iou  # noqa: E402
from fer_ros.training.data import read_fer2013  # noqa: E402

CASCADES = (
    'haarcascade_frontalface_default.xml',
    'haarcascade_frontalface_alt.xml',
    'haarcascade_frontalface_alt2.xml',
)
DEFAULT_DATA = ROOT.parent / 'shared' / 'data' / 'fer2013' / 'fer2013.csv.gz'


def measure_margins(
    data, model: str, n_faces: int, margins, seed: int, detection_width: int, detector: dict
) -> dict:
    pipeline = Pipeline(
        PipelineSettings(
            model=model,
            face_margin=0.0,
            tracking=False,
            detection_width=detection_width,
            **detector,
        )
    )
    info = pipeline.model_info
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(data), n_faces, replace=False)
    matched = []  # (dataset index, raw square box, frame grey)
    for start in range(0, n_faces, 3):
        frame, placed = place_faces(data.images, data.targets, indices[start : start + 3], rng)
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        detections = pipeline.detector.detect(frame, grey)
        for face in placed:
            best = max(detections, key=lambda d: iou(d.box, face.box), default=None)
            if best is not None and iou(best.box, face.box) >= 0.4:
                matched.append((face.index, best.box, grey, face.box))
    hits = np.array([m[0] for m in matched])
    targets = data.targets[hits]
    crop_probs = pipeline.classifier.predict(
        faces_to_input(list(data.images[hits]), info.preprocessing)
    )
    crop_accuracy = float(np.mean(crop_probs.argmax(1) == targets))
    rows = []
    for margin in margins:
        crops = [
            crop_face(grey, frame_box(box, margin), info.input_size) for _, box, grey, _ in matched
        ]
        probs = pipeline.classifier.predict(faces_to_input(crops, info.preprocessing))
        ious = [iou(frame_box(box, margin), truth) for _, box, _, truth in matched]
        rows.append(
            {
                'face_margin': margin,
                'accuracy_end_to_end': float(np.mean(probs.argmax(1) == targets)),
                'median_box_iou': float(np.median(ious)),
            }
        )
    return {
        'faces': n_faces,
        'recall': len(matched) / n_faces,
        'accuracy_on_crops_of_detected_faces': crop_accuracy,
        'model': str(pipeline.classifier.path),
        'detection_width': detection_width,
        'margins': rows,
    }


def measure_cascades(
    data, n_faces: int, seed: int, detection_width: int, thresholds=(0.5, 0.55)
) -> list:
    """Recall and false positives of OpenCV's frontal-face cascades, one placed face per frame."""
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(data), n_faces, replace=False)
    frames = [place_faces(data.images, data.targets, [i], rng) for i in indices]
    rows = []
    for cascade in CASCADES:
        for threshold in thresholds:
            detector = HaarFaceDetector(
                str(Path(cv2.data.haarcascades) / cascade),
                detection_width=detection_width,
                score_threshold=threshold,
            )
            found = false_positives = 0
            start = time.perf_counter()
            for frame, placed in frames:
                detections = detector.detect(frame, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
                hit = any(iou(d.box, placed[0].box) >= 0.4 for d in detections)
                found += hit
                false_positives += len(detections) - hit
            rows.append(
                {
                    'cascade': cascade,
                    'score_threshold': threshold,
                    'recall': found / n_faces,
                    'false_positives_per_frame': false_positives / n_faces,
                    'ms_per_frame': (time.perf_counter() - start) * 1e3 / n_faces,
                }
            )
    return rows


def measure_intervals(
    data, model: str, intervals, seed: int, detector: dict, sequences: int = 12, length: int = 30
) -> list:
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(sequences):
        indices = rng.choice(len(data), 2, replace=False)
        frame, placed = place_faces(data.images, data.targets, indices, rng, side_range=(110, 150))
        step = rng.integers(-4, 5, size=2)
        clips.append((frame, placed, step))
    rows = []
    for interval in intervals:
        pipeline = Pipeline(
            PipelineSettings(model=model, full_detection_interval=interval, **detector)
        )
        found = total = 0
        detect_ms = []
        for frame, placed, (dx, dy) in clips:
            pipeline.reset()
            for t in range(length):
                moved = np.roll(np.roll(frame, int(dx) * t, axis=1), int(dy) * t, axis=0)
                result = pipeline.process(moved)
                detect_ms.append(result.timings_ms['detect'])
                for face in placed:
                    truth = (face.box[0] + dx * t, face.box[1] + dy * t, face.box[2], face.box[3])
                    total += 1
                    found += any(iou(f.box, truth) >= 0.4 for f in result.faces)
        rows.append(
            {
                'full_detection_interval': interval,
                'recall': found / total,
                'detect_ms_mean': float(np.mean(detect_ms)),
                'detect_ms_median': float(np.median(detect_ms)),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--section', choices=('cascade', 'margin', 'interval', 'all'), default='all'
    )
    parser.add_argument('--data', default=os.environ.get('FER2013_CSV', str(DEFAULT_DATA)))
    parser.add_argument('--model', default='fer_default.onnx')
    parser.add_argument('--faces', type=int, default=900)
    parser.add_argument('--margins', default='-0.1,-0.05,0,0.05,0.1,0.15,0.2,0.3')
    parser.add_argument('--intervals', default='1,3,5,10')
    parser.add_argument('--detection-width', type=int, default=PipelineSettings().detection_width)
    parser.add_argument('--detector', default='yunet', help='yunet or haar')
    parser.add_argument(
        '--detector-model', default='', help='YuNet .onnx file (with --detector yunet)'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the figures here too')
    args = parser.parse_args()
    detector = {'detector': args.detector, 'detector_model': args.detector_model}
    data = read_fer2013(args.data, splits=['PrivateTest'])['PrivateTest']
    report = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), 'cv2': cv2.__version__}
    if args.section in ('cascade', 'all'):
        report['cascade'] = rows = measure_cascades(
            data, min(args.faces, 300), args.seed, args.detection_width
        )
        print('| cascade | score_threshold | recall | false positives / frame | ms / frame |')
        print('|---|---|---|---|---|')
        for row in rows:
            print(
                f'| {row["cascade"]} | {row["score_threshold"]} | {row["recall"]:.3f} | '
                f'{row["false_positives_per_frame"]:.3f} | {row["ms_per_frame"]:.1f} |'
            )
    if args.section in ('margin', 'all'):
        margins = [float(m) for m in args.margins.split(',')]
        report['margin'] = m = measure_margins(
            data, args.model, args.faces, margins, args.seed, args.detection_width, detector
        )
        print(
            f'recall {m["recall"]:.3f}; crop-level accuracy of the detected faces '
            f'{m["accuracy_on_crops_of_detected_faces"]:.3f} ({m["model"]})'
        )
        print(
            '| face_margin | end-to-end accuracy | median box IoU vs FER2013 crop |\n|---|---|---|'
        )
        for row in m['margins']:
            margin, accuracy, box_iou = (
                row['face_margin'],
                row['accuracy_end_to_end'],
                row['median_box_iou'],
            )
            print(f'| {margin:+.2f} | {accuracy:.3f} | {box_iou:.3f} |')
    if args.section in ('interval', 'all'):
        intervals = [int(v) for v in args.intervals.split(',')]
        report['interval'] = rows = measure_intervals(
            data, args.model, intervals, args.seed, detector
        )
        print('| full_detection_interval | recall | detect ms mean | median |\n|---|---|---|---|')
        for row in rows:
            print(
                f'| {row["full_detection_interval"]} | {row["recall"]:.3f} | '
                f'{row["detect_ms_mean"]:.1f} | '
                f'{row["detect_ms_median"]:.1f} |'
            )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
