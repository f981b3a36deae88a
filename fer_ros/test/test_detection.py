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

"""Face detection on real FER2013 faces placed into frames at known positions and sizes."""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess
import sys

from benchmarks.frames import place_faces
import cv2
from fer_ros.detection import create_detector, frame_box, HaarFaceDetector
from fer_ros.errors import ModelError
from fer_ros.tracking import iou
import numpy as np
import pytest

# Measured on this fixed sample (seed 7, 150 faces, 3 per 640x480 frame, 96-160 px) with the
# default settings (alt2 cascade, detection at 320 px wide, face_margin 0): recall 0.780, median
# IoU with the true FER2013 crop 0.856, 0.04 false positives per frame. The bounds leave room for
# other OpenCV builds.
REAL_CASCADE = Path(cv2.data.haarcascades) / 'haarcascade_frontalface_alt2.xml'
MIN_RECALL = 0.70
MIN_MEDIAN_IOU = 0.78
MAX_FALSE_POSITIVES_PER_FRAME = 0.15


def _scenes(dataset, n_faces=150, per_frame=3, seed=7, side_range=(96, 160)):
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(dataset), n_faces, replace=False)
    for start in range(0, n_faces, per_frame):
        yield place_faces(
            dataset.images,
            dataset.targets,
            indices[start:][:per_frame],
            rng,
            side_range=side_range,
        )


def _match(detections, placed):
    """Pairs (placed face, best detection IoU) and the number of unmatched detections."""
    used = set()
    ious = []
    for face in placed:
        best, best_iou = None, 0.0
        for j, det in enumerate(detections):
            overlap = iou(det.box, face.box)
            if j not in used and overlap > best_iou:
                best, best_iou = j, overlap
        if best is not None and best_iou >= 0.4:
            used.add(best)
            ious.append(best_iou)
        else:
            ious.append(0.0)
    return ious, len(detections) - len(used)


@pytest.mark.slow
def test_recall_and_box_accuracy_on_placed_fer2013_faces(fer2013_private_test):
    detector = create_detector('haar')  # default settings, as the pipeline uses them
    ious, false_positives, frames = [], 0, 0
    for frame, placed in _scenes(fer2013_private_test):
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        found, fp = _match(detector.detect(frame, grey), placed)
        ious += found
        false_positives += fp
        frames += 1
    ious = np.array(ious)
    recall = float(np.mean(ious > 0))
    median_iou = float(np.median(ious[ious > 0]))
    print(
        f'recall {recall:.3f}, median IoU {median_iou:.3f}, '
        f'fp/frame {false_positives / frames:.3f}'
    )
    assert recall >= MIN_RECALL
    assert median_iou >= MIN_MEDIAN_IOU
    assert false_positives / frames <= MAX_FALSE_POSITIVES_PER_FRAME


def test_frame_box_squares_and_adds_margin():
    assert frame_box((10, 20, 100, 80), 0.0) == (10, 10, 100, 100)
    x, y, w, h = frame_box((0, 0, 100, 100), 0.2)
    assert (w, h) == (120, 120) and (x, y) == (-10, -10)
    assert frame_box((50, 50, 40, 60), -0.5)[2:] == (30, 30)


@pytest.fixture(scope='module')
def one_face_frame(fer2013_private_test):
    """Return a 1280x720 frame with one face the detector finds at every width used below."""
    rng = np.random.default_rng(11)
    detectors = [create_detector('haar', detection_width=w) for w in (0, 640, 320)]
    for index in range(200):
        frame, placed = place_faces(
            fer2013_private_test.images,
            fer2013_private_test.targets,
            [index],
            rng,
            frame_size=(1280, 720),
            side_range=(200, 240),
        )
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if all(
            len(found) == 1 and iou(found[0].box, placed[0].box) > 0.7
            for found in (d.detect(frame, grey) for d in detectors)
        ):
            return frame, grey, placed[0].box
    pytest.fail('no detectable face among 200 PrivateTest faces')


def test_downscaled_detection_returns_full_frame_boxes(one_face_frame):
    frame, grey, truth = one_face_frame
    for width in (640, 320):
        found = create_detector('haar', detection_width=width).detect(frame, grey)
        assert len(found) == 1
        assert iou(found[0].box, truth) > 0.6, width
        assert 0.0 <= found[0].score <= 1.0


def test_region_search_only_looks_inside_the_region(one_face_frame):
    frame, grey, (x, y, w, h) = one_face_frame
    detector = create_detector('haar')
    inside = (x - w // 2, y - h // 2, x + w + w // 2, y + h + h // 2)
    found = detector.detect(frame, grey, inside)
    assert len(found) == 1 and iou(found[0].box, (x, y, w, h)) > 0.6
    # a region of the same size elsewhere in the frame (wrapping around horizontally)
    ox = (x + 2 * w) % (1280 - 2 * w)
    elsewhere = (ox, y - h // 2, ox + 2 * w, y + h + h // 2)
    assert iou(elsewhere, inside) == 0 or ox > x + w
    assert detector.detect(frame, grey, elsewhere) == []


def test_min_face_size_and_max_faces(one_face_frame):
    frame, grey, truth = one_face_frame
    big = int(truth[2] * 1.5)
    found = create_detector('haar', min_face_size=big).detect(frame, grey)
    assert all(d.box[2] >= big for d in found)  # (Haar may frame a larger region around the face)
    assert not any(iou(d.box, truth) > 0.7 for d in found)
    frames = np.concatenate([frame, frame], axis=1)
    greys = np.concatenate([grey, grey], axis=1)
    assert len(create_detector('haar', detection_width=1280).detect(frames, greys)) == 2
    assert (
        len(create_detector('haar', detection_width=1280, max_faces=1).detect(frames, greys)) == 1
    )


def test_unknown_detector_is_refused_naming_the_allowed_ones():
    with pytest.raises(ModelError, match='allowed: yunet, haar'):
        create_detector('mtcnn')


def test_haar_cascade_is_found_without_downloads():
    assert HaarFaceDetector().source.endswith('.xml')


@pytest.fixture
def distro_opencv(monkeypatch):
    """Return OpenCV as the distribution's python3-opencv has it: no ``cv2.data`` module."""
    monkeypatch.delattr(cv2, 'data', raising=False)
    monkeypatch.setitem(sys.modules, 'cv2.data', None)


def test_haar_without_cv2_data_uses_the_distribution_folders(distro_opencv, monkeypatch, tmp_path):
    import fer_ros.detection as detection

    system = tmp_path / 'usr_share_opencv4_haarcascades'
    monkeypatch.setattr(detection, 'HAAR_SYSTEM_DIRS', (str(tmp_path / 'absent'), str(system)))
    with pytest.raises(ModelError) as error:
        create_detector('haar')
    message = str(error.value)
    assert (
        str(tmp_path / 'absent') in message and str(system) in message and 'opencv-data' in message
    )
    assert '\n' not in message
    system.mkdir()
    shutil.copy(REAL_CASCADE, system / detection.HAAR_CASCADE)
    assert create_detector('haar').source == str(system / detection.HAAR_CASCADE)


def test_pipeline_and_run_start_with_the_distribution_opencv(tmp_path):
    """Without cv2.data (python3-opencv), the node's start-up path and `fer-ros run` both work."""
    pytest.importorskip('skimage')
    script = (
        "import sys, cv2; sys.modules['cv2.data'] = None; cv2.__dict__.pop('data', None)\n"
        'from fer_ros.pipeline import Pipeline\n'
        'from fer_ros.ros.parameters import check_parameter_changes\n'
        'from fer_ros.settings import PipelineSettings\n'
        'settings, _ = check_parameter_changes(PipelineSettings(), {}, startup=True)  # as the '
        'node starts\n'
        'Pipeline(settings)\n'
        'from fer_ros import cli\n'
        "sys.exit(cli.main(['run']))\n"
    )
    done = subprocess.run(
        [sys.executable, '-c', script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / 'fer_ros_output' / 'results.jsonl').is_file()


def test_frame_box_properties():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(
        st.floats(-200, 800),
        st.floats(-200, 800),
        st.floats(4, 400),
        st.floats(4, 400),
        st.floats(-0.5, 1.0),
    )
    def check(x, y, w, h, margin):
        fx, fy, fw, fh = frame_box((x, y, w, h), margin)
        assert fw == fh  # square
        assert abs(fw - max(w, h) * (1 + margin)) <= 1.0  # grown by the margin
        assert (
            abs((fx + fw / 2) - (x + w / 2)) <= 1.0 and abs((fy + fh / 2) - (y + h / 2)) <= 1.0
        )  # same centre

    check()
