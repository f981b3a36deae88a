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
Boxes and ids on real faces: the five defects found on real scenes, each pinned by a test.

The face is scikit-image's public-domain astronaut (it ships in the wheel), pasted
into generated frames, so where the face is, and when it moves, is known.
"""

from __future__ import annotations

import json

import cv2
from fer_ros import cli
from fer_ros.pipeline import Pipeline
from fer_ros.settings import PipelineSettings
import numpy as np
import pytest

skimage_data = pytest.importorskip('skimage.data', reason='the astronaut face needs scikit-image')

FRAME = (640, 480)
FACE_CROP = (
    slice(30, 250),
    slice(150, 330),
)  # rows, columns of the astronaut photo: head and shoulders


def face_patch(height: int) -> np.ndarray:
    photo = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)[FACE_CROP]
    width = int(round(height * photo.shape[1] / photo.shape[0]))
    return cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)


def scene(x: int, y: int, height: int = 200, background: int = 110) -> np.ndarray:
    """Return a grey frame with the astronaut's head pasted with its top-left corner at (x, y)."""
    frame = np.full((FRAME[1], FRAME[0], 3), background, np.uint8)
    patch = face_patch(height)
    rows, cols = patch.shape[:2]
    frame[y:, x:][:rows, :cols] = patch
    return frame


def centre(box) -> np.ndarray:
    return np.array([box[0] + box[2] / 2.0, box[1] + box[3] / 2.0])


def test_unrelated_photos_do_not_share_tracks(tmp_path, monkeypatch):
    """Defect 1: `fer-ros run` on a folder searched photo 2 only where photo 1's face was."""
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a.png'), scene(20, 40))
    cv2.imwrite(str(folder / 'b.png'), scene(420, 250))
    monkeypatch.chdir(tmp_path)
    assert cli.main(['run', '--source', str(folder), '--jsonl', str(tmp_path / 'out.jsonl')]) == 0
    records = [json.loads(line) for line in (tmp_path / 'out.jsonl').read_text().splitlines()]
    assert [len(r['faces']) for r in records] == [1, 1]
    assert records[0]['faces'][0]['id'] != records[1]['faces'][0]['id']
    assert centre(records[1]['faces'][0]['box'])[0] > 420


def test_still_frames_are_classified_alone():
    """
    Defect 1, in the API.

    A still is not smoothed with the previous photo's face at the same spot.
    """
    pipeline = Pipeline(PipelineSettings(smoothing_alpha=0.1))
    alone = pipeline.process(scene(200, 100, background=30), still=True).faces[0]
    pipeline.process(
        np.ascontiguousarray(scene(200, 100)[:, :, ::-1]), still=True
    )  # another face there
    again = pipeline.process(scene(200, 100, background=30), still=True).faces[0]
    np.testing.assert_allclose(again.probabilities, alone.probabilities, atol=1e-6)
    assert again.track_id != alone.track_id


@pytest.mark.parametrize('margin', [0.0, 0.4, 0.8, 1.0])
def test_region_redetection_does_not_depend_on_the_margin(margin):
    """Defect 3: with face_margin >= 0.7 a face in a static scene vanished every other frame."""
    pipeline = Pipeline(
        PipelineSettings(face_margin=margin, confirm_frames=1, full_detection_interval=5)
    )
    frame = scene(200, 100)
    counts = [len(pipeline.process(frame).faces) for _ in range(10)]
    assert counts == [1] * 10


def test_a_lost_face_gets_a_full_pass_in_the_same_frame():
    """Defect 4: a face that jumped out of its search region was missing for one frame."""
    pipeline = Pipeline(PipelineSettings(confirm_frames=1, full_detection_interval=30))
    calls = []
    detect = pipeline.detector.detect
    pipeline.detector.detect = lambda bgr, grey, region=None, **kw: (
        calls.append(region) or detect(bgr, grey, region, **kw)
    )
    first = pipeline.process(scene(20, 40)).faces
    jumped = pipeline.process(scene(420, 250)).faces
    assert len(first) == 1 and len(jumped) == 1
    assert centre(jumped[0].box)[0] > 420
    assert (
        calls[0] is None and calls[1] is not None and calls[2] is None
    )  # full, region (missed), full


def test_new_faces_are_published_once_confirmed():
    """Defect 5: a detection was published on the first frame it appeared in."""
    frame = scene(200, 100)
    for needed in (1, 2, 3):
        pipeline = Pipeline(PipelineSettings(confirm_frames=needed))
        counts = [len(pipeline.process(frame).faces) for _ in range(4)]
        assert counts == [0] * (needed - 1) + [1] * (5 - needed), needed
    # A one-frame detection whose track expires before it is seen again is never published.
    flicker = Pipeline(
        PipelineSettings(confirm_frames=2, full_detection_interval=1, max_missed_frames=1)
    )
    empty = np.full_like(frame, 110)
    assert [len(flicker.process(f).faces) for f in (frame, empty, empty, frame)] == [0, 0, 0, 0]


@pytest.mark.parametrize('tilt', [-30.0, -12.0, 20.0])
def test_aligned_crop_levels_the_eyes(tilt):
    """
    Two bright 'eyes' on a line tilted by ``tilt``.

    Cropped with the Detection's angle, they are level.
    """
    from fer_ros.detection import Detection
    from fer_ros.preprocess import crop_face

    grey = np.zeros((400, 400), np.uint8)
    centre_xy, half = np.array([200.0, 180.0]), 40.0
    direction = np.array([np.cos(np.radians(tilt)), np.sin(np.radians(tilt))])
    eyes = np.array(
        [centre_xy - half * direction, centre_xy + half * direction]
    )  # person's right, left
    for x, y in eyes:
        cv2.circle(grey, (int(round(x)), int(round(y))), 6, 255, -1)
    landmarks = np.vstack([eyes, np.zeros((3, 2))]).astype(np.float32)
    det = Detection((110, 90, 180, 180), 1.0, (110.0, 90.0, 180.0, 180.0), landmarks)
    assert det.eye_angle() == pytest.approx(tilt, abs=1e-3)
    crop = crop_face(grey, det.box, 96, angle=det.eye_angle())
    left_half, right_half = crop[:, :48], crop[:, 48:]
    rows = [
        np.average(np.arange(96), weights=half_img.sum(axis=1))
        for half_img in (left_half, right_half)
    ]
    assert abs(rows[0] - rows[1]) < 1.0
    unaligned = crop_face(grey, det.box, 96)
    rows_before = [
        np.average(np.arange(96), weights=h.sum(axis=1))
        for h in (unaligned[:, :48], unaligned[:, 48:])
    ]
    assert abs(rows_before[0] - rows_before[1]) > 10 * abs(np.sin(np.radians(tilt)))


def test_alignment_changes_the_crop_not_the_box():
    tilted = cv2.warpAffine(scene(200, 100), cv2.getRotationMatrix2D((320, 240), 25, 1.0), FRAME)
    aligned = Pipeline(PipelineSettings(face_alignment=True)).process(tilted, still=True).faces
    plain = Pipeline(PipelineSettings(face_alignment=False)).process(tilted, still=True).faces
    assert len(aligned) == len(plain) == 1
    assert aligned[0].box == plain[0].box
    assert not np.allclose(aligned[0].probabilities, plain[0].probabilities)


def test_flip_tta_averages_each_face_with_its_mirror_in_one_batch():
    frame = np.hstack([scene(0, 100)[:, :320], scene(330, 60, height=160)[:, 320:]])
    plain = Pipeline(PipelineSettings(tracking=False, face_alignment=False))
    flipped = Pipeline(PipelineSettings(tracking=False, face_alignment=False, tta='flip'))
    calls = []
    predict = flipped.classifier.predict
    flipped.classifier.predict = lambda batch: calls.append(len(batch)) or predict(batch)
    faces = plain.process(frame).faces
    faces_tta = flipped.process(frame).faces
    assert len(faces) == len(faces_tta) == 2 and calls == [4]
    mirrored = plain.process(np.ascontiguousarray(frame[:, ::-1])).faces
    for face in faces_tta:
        own = min(faces, key=lambda f: abs(f.box[0] - face.box[0]))
        mirror = min(mirrored, key=lambda f: abs(640 - f.box[0] - f.box[2] - face.box[0]))
        np.testing.assert_allclose(
            face.probabilities, (own.probabilities + mirror.probabilities) / 2, atol=0.05
        )
