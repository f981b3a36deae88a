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

"""YuNet: the shipped file is the original, its decoding matches OpenCV's, no cv2.dnn needed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
from fer_ros import yunet
from fer_ros.detection import create_detector, Detection, YuNetFaceDetector
from fer_ros.errors import ModelError
from fer_ros.resources import YUNET_MODEL, YUNET_SHA256
import numpy as np
import pytest

# OpenCV Zoo's fixed-size file of the same weights (cv2.dnn cannot load the dynamic one).
SHARED_YUNET = Path(__file__).resolve().parents[3] / 'shared' / 'models' / 'yunet'
ZOO_MODEL = SHARED_YUNET / 'face_detection_yunet_2023mar.onnx'


def astronaut_bgr(size=None) -> np.ndarray:
    """scikit-image's public-domain astronaut photograph (ships in the wheel), as BGR."""
    data = pytest.importorskip('skimage.data')
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return bgr if size is None else cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def test_shipped_model_is_the_original_with_its_licence():
    assert hashlib.sha256(YUNET_MODEL.read_bytes()).hexdigest() == YUNET_SHA256
    licence = (YUNET_MODEL.parent / 'LICENSE').read_text()
    assert 'Apache License' in licence and 'Version 2.0' in licence
    assert YUNET_SHA256 in (YUNET_MODEL.parent / 'README.md').read_text()


def test_decode_places_a_cell_prediction_on_the_grid():
    """
    One confident cell at stride 16, row 2, column 3, with known offsets.

    The box and landmarks follow.
    """
    width, height = 128, 64
    outputs = {}
    for stride in yunet.STRIDES:
        cells = (width // stride) * (height // stride)
        outputs[f'cls_{stride}'] = np.zeros((1, cells, 1), np.float32)
        outputs[f'obj_{stride}'] = np.zeros((1, cells, 1), np.float32)
        outputs[f'bbox_{stride}'] = np.zeros((1, cells, 4), np.float32)
        outputs[f'kps_{stride}'] = np.zeros((1, cells, 10), np.float32)
    index = 2 * (width // 16) + 3
    outputs['cls_16'][0, index] = 0.81
    outputs['obj_16'][0, index] = 1.5  # clipped to 1
    outputs['bbox_16'][0, index] = [0.5, 0.25, np.log(2.0), np.log(3.0)]
    outputs['kps_16'][0, index] = [0.1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0]
    faces = yunet.decode(outputs, width, height, score_threshold=0.5)
    assert len(faces) == 1
    cx, cy, w, h = (3 + 0.5) * 16, (2 + 0.25) * 16, 32.0, 48.0
    np.testing.assert_allclose(faces.boxes[0], [cx - w / 2, cy - h / 2, w, h], rtol=1e-6)
    np.testing.assert_allclose(faces.scores, [0.9], rtol=1e-6)
    np.testing.assert_allclose(faces.landmarks[0, 0], [3.1 * 16, 2.2 * 16], rtol=1e-6)
    assert len(yunet.decode(outputs, width, height, score_threshold=0.95)) == 0


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], np.float32)
    assert yunet.nms(boxes, np.array([0.5, 0.9, 0.7], np.float32), 0.3) == [1, 2]
    assert yunet.nms(boxes, np.array([0.5, 0.9, 0.7], np.float32), 0.9) == [1, 2, 0]


def _parity_frames():
    base = astronaut_bgr((640, 640))
    yield 'astronaut', base
    yield 'mirrored', np.ascontiguousarray(base[:, ::-1])
    for angle in (-20, 15):
        turn = cv2.getRotationMatrix2D((320, 320), angle, 0.8)
        yield f'rotated {angle}', cv2.warpAffine(base, turn, (640, 640))
    small = cv2.resize(base, (160, 160))
    crowd = np.full((640, 640, 3), 90, np.uint8)
    for i, (x, y) in enumerate([(20, 40), (240, 60), (460, 30), (120, 380), (400, 420)]):
        crowd[y:, x:][:160, :160] = small if i % 2 else small[:, ::-1]
    yield 'five small faces', crowd
    yield 'no face', np.random.default_rng(0).integers(0, 256, (640, 640, 3), dtype=np.uint8)


@pytest.mark.skipif(
    not hasattr(cv2, 'FaceDetectorYN'), reason='needs OpenCV >= 4.8 (cv2.FaceDetectorYN)'
)
@pytest.mark.skipif(
    not ZOO_MODEL.is_file(), reason=f"OpenCV Zoo's YuNet file not found at {ZOO_MODEL}"
)
def test_boxes_landmarks_and_scores_match_opencv_face_detector_yn():
    """fer_ros's ONNX Runtime + numpy decoding against cv2.FaceDetectorYN on the same frames."""
    reference = cv2.FaceDetectorYN.create(
        str(ZOO_MODEL), '', (640, 640), 0.5, yunet.NMS_IOU, yunet.TOP_K
    )
    ours = YuNetFaceDetector(
        detection_width=0, min_face_size=8, max_faces=100, score_threshold=0.5
    )
    total = 0
    for name, frame in _parity_frames():
        _, expected = reference.detect(frame)
        expected = np.zeros((0, 15), np.float32) if expected is None else expected
        found = ours.detect(frame, None)
        assert len(found) == len(expected), name
        for det, row in zip(found, expected[np.argsort(-expected[:, -1])]):
            np.testing.assert_allclose(det.face, row[:4], atol=0.05, err_msg=name)
            np.testing.assert_allclose(
                det.landmarks.reshape(-1), row[4:14], atol=0.05, err_msg=name
            )
            assert det.score == pytest.approx(float(row[14]), abs=1e-4), name
        total += len(found)
    assert total >= 7  # the astronaut in four frames and five in the crowd (at least most of them)


@pytest.mark.parametrize('size', [(500, 333), (641, 479), (97, 131)])
def test_any_frame_size_is_padded_to_the_network_grid(size):
    frame = astronaut_bgr(size)
    found = YuNetFaceDetector(detection_width=0, min_face_size=8).detect(frame, None)
    assert len(found) == 1
    x, y, w, h = found[0].face
    assert 0.3 * size[0] < x + w / 2 < 0.6 * size[0] and 0.1 * size[1] < y + h / 2 < 0.4 * size[1]


def test_downscaled_and_region_detection_give_full_frame_boxes():
    frame = astronaut_bgr((1024, 1024))
    full = YuNetFaceDetector(detection_width=0).detect(frame, None)[0]
    small = YuNetFaceDetector(detection_width=320).detect(frame, None)[0]
    x, y, w, h = full.face
    region = (int(x - w), int(y - h), int(x + 2 * w), int(y + 2 * h))
    regional = YuNetFaceDetector().detect(frame, None, region, face_size=max(w, h))[0]
    for other in (small, regional):
        np.testing.assert_allclose(other.face, full.face, atol=0.06 * w)
        np.testing.assert_allclose(other.landmarks, full.landmarks, atol=0.06 * w)


def test_eye_angle_follows_an_in_plane_rotation():
    frame = astronaut_bgr((640, 640))
    detector = YuNetFaceDetector(detection_width=0)
    upright = detector.detect(frame, None)[0].eye_angle()
    assert abs(upright) < 5
    for angle in (-20, 20):
        tilted = cv2.warpAffine(frame, cv2.getRotationMatrix2D((320, 320), angle, 1.0), (640, 640))
        measured = detector.detect(tilted, None)[0].eye_angle()
        # getRotationMatrix2D turns the picture anticlockwise for positive angles, so the eye line
        # (in image coordinates, y down) turns by -angle; landmarks on tilted faces are less exact.
        assert np.sign(measured) == -np.sign(angle) and 5 < abs(measured) < 30, (angle, measured)


def test_detection_eye_angle_without_landmarks_is_zero():
    assert Detection((0, 0, 10, 10), 1.0).eye_angle() == 0.0
    eyes = np.array([[10, 10], [20, 20], [0, 0], [0, 0], [0, 0]], np.float32)
    assert Detection((0, 0, 10, 10), 1.0, landmarks=eyes).eye_angle() == pytest.approx(45.0)


def test_bad_yunet_files_fail_at_start_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match='yunet.onnx'):
        create_detector('yunet', str(tmp_path / 'yunet.onnx'))
    junk = tmp_path / 'junk.onnx'
    junk.write_bytes(b'not a model')
    with pytest.raises(ModelError, match=r'junk\.onnx.*cannot load'):
        create_detector('yunet', str(junk))
    expression_model = sorted((YUNET_MODEL.parent.parent).glob('fer_default.onnx'))[0]
    with pytest.raises(ModelError, match=r'fer_default\.onnx: not a YuNet model'):
        create_detector('yunet', str(expression_model))
    if ZOO_MODEL.is_file():
        with pytest.raises(ModelError, match='dynamic height and width'):
            create_detector('yunet', str(ZOO_MODEL))


def test_shipped_model_is_the_default_and_runs_on_the_requested_providers():
    detector = create_detector(
        'yunet', '', ('TensorrtExecutionProvider', 'CPUExecutionProvider'), 1
    )
    assert Path(detector.source) == YUNET_MODEL and detector.provider == 'CPUExecutionProvider'


def test_full_pass_buffer_is_reused_and_never_leaks_an_older_frame():
    detector = YuNetFaceDetector(detection_width=0)
    frame = astronaut_bgr((320, 250))
    detector.detect(frame, None)
    kept = detector._blob
    detector.detect(frame, None)
    assert detector._blob is kept  # same size: no new allocation
    smaller = astronaut_bgr((320, 240))  # pads to the same 320x256 input
    found = detector.detect(smaller, None)
    assert not detector._blob[:, :, 240:, :].any()  # rows 240-249 of the previous frame are gone
    fresh = YuNetFaceDetector(detection_width=0).detect(smaller, None)
    np.testing.assert_allclose([d.face for d in found], [d.face for d in fresh])
