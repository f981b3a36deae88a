"""Unit tests of the benchmark's building blocks: frames, matching, accuracy, ratios, targets."""

from __future__ import annotations

from benchmarks.accuracy import evaluate_classifier
from benchmarks.frames import match_boxes, synthesize_frames
from benchmarks.report import evaluate_targets
from benchmarks.timing import pairwise_ratios, summarize
from fer_ros.tracking import iou
import numpy as np
import pytest


def _faces(n=10, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize('size,n_faces', [((640, 480), 0), ((640, 480), 1), ((1280, 720), 4)])
def test_frames_have_the_requested_faces_inside_the_frame(size, n_faces):
    width, height = size
    frames = synthesize_frames(_faces(), width, height, n_faces, count=3, seed=1)
    assert len(frames) == 3
    for frame in frames:
        assert frame.image.shape == (height, width, 3) and frame.image.dtype == np.uint8
        assert len(frame.boxes) == len(frame.face_indices) == n_faces
        assert len(set(frame.face_indices)) == n_faces
        for x, y, w, h in frame.boxes:
            assert w == h >= 0.2 * height
            assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for i, a in enumerate(frame.boxes):  # faces never overlap
            assert all(iou(a, b) == 0 for b in frame.boxes[i + 1 :])


def test_frames_are_reproducible_and_differ_by_seed():
    a = synthesize_frames(_faces(), 320, 240, 1, 2, seed=5)
    b = synthesize_frames(_faces(), 320, 240, 1, 2, seed=5)
    c = synthesize_frames(_faces(), 320, 240, 1, 2, seed=6)
    assert all(np.array_equal(x.image, y.image) and x.boxes == y.boxes for x, y in zip(a, b))
    assert not np.array_equal(a[0].image, c[0].image)


def test_placed_face_keeps_its_pixels():
    """The centre of a placed face is the enlarged FER2013 face (tinted), not background."""
    faces = np.zeros((1, 48, 48), np.uint8)
    faces[0, :, 24:] = 255  # left half black, right half white
    frame = synthesize_frames(faces, 640, 480, 1, 1, seed=2)[0]
    x, y, side, _ = frame.boxes[0]
    grey = frame.image.mean(axis=2)
    assert grey[y + side // 2, x + side // 4] < 10
    assert grey[y + side // 2, x + 3 * side // 4] > 200


def test_bad_frame_requests_are_rejected():
    with pytest.raises(ValueError, match='at least 5 faces'):
        synthesize_frames(_faces(3), 640, 480, 5, 1)
    with pytest.raises(ValueError, match='count'):
        synthesize_frames(_faces(3), 640, 480, 1, 0)


def test_match_boxes_is_one_to_one_and_uses_iou():
    placed = [(0, 0, 100, 100), (200, 0, 100, 100)]
    found = [(5, 5, 100, 100), (10, 0, 100, 100), (600, 600, 50, 50)]
    assert match_boxes(placed, found) == [(0, 0)]  # the better of two overlapping boxes
    assert match_boxes(placed, found[1:]) == [(0, 0)]
    assert match_boxes(placed, []) == []


class _Oracle:
    """Predicts the true class, in its own label order (reversed), to check matching by name."""

    def __init__(self, targets, labels, wrong_every=0):
        self.name, self.labels = 'oracle', tuple(reversed(labels))
        self._targets, self._labels, self._wrong_every, self._seen = (
            targets,
            labels,
            wrong_every,
            0,
        )

    def preprocess(self, faces):
        start = self._seen
        self._seen += len(faces)
        return np.arange(start, self._seen)

    def predict(self, index):
        probs = np.zeros((len(index), len(self.labels)), np.float32)
        for row, i in enumerate(index):
            cls = self._targets[i]
            if self._wrong_every and i % self._wrong_every == 0:
                cls = (cls + 1) % len(self._labels)
            probs[row, self.labels.index(self._labels[cls])] = 1.0
        return probs


def test_accuracy_matches_labels_by_name_and_counts_recall():
    labels = ('angry', 'happy', 'sad')
    targets = np.array([0, 1, 2, 1, 1, 0] * 100)
    images = np.zeros((len(targets), 48, 48), np.uint8)
    perfect = evaluate_classifier(_Oracle(targets, labels), images, targets, labels)
    assert perfect['accuracy'] == 1.0 and set(perfect['recall'].values()) == {1.0}
    flawed = evaluate_classifier(_Oracle(targets, labels, wrong_every=2), images, targets, labels)
    assert flawed['accuracy'] == 0.5
    assert np.sum(flawed['confusion']) == len(targets)


def test_pairwise_ratios_and_summary():
    assert pairwise_ratios([10.0, 20.0], [2.0, 5.0]) == [5.0, 4.0]
    with pytest.raises(ValueError):
        pairwise_ratios([1.0], [1.0, 2.0])
    assert summarize([3.0, 1.0, 2.0]) == {'median': 2.0, 'min': 1.0, 'max': 3.0, 'runs': 3}


def test_targets_report_misses_honestly():
    result = {
        'default_model': 'fer_ros m.onnx',
        'peer_classifier': 'fer',
        'accuracy': [
            {'model': 'fer_ros m.onnx', 'accuracy': 0.6},
            {'model': 'fer', 'accuracy': 0.58},
            {'model': 'fer_ros m_int8.onnx', 'accuracy': 0.595},
        ],
        'classifier_speed': [
            {'model': 'fer_ros m.onnx', 'threads': 1, 'batch': 1, 'ms_per_face': {'median': 1.5}},
            {'model': 'fer_ros m.onnx', 'threads': 1, 'batch': 8, 'ms_per_face': {'median': 0.5}},
        ],
        'pipeline': [
            {'frame': '640x480', 'faces': 1, 'fps_ratio_fer_ros_over_fer': {'median': 4.2}}
        ],
        'sweep': [
            {
                'scene': 'video',
                'settings': {},
                'frame': '640x480',
                'faces': 1,
                'fps_ratio_fer_ros_over_fer': {'median': 12.0},
            }
        ],
    }
    met = {
        t['target'].split(' ')[0] + str(i): t['met']
        for i, t in enumerate(evaluate_targets(result))
    }
    # vs fer, >= 71%, int8 loss, 10x photos 640x480, 10x video 640x480, 10x everywhere, < 1 ms,
    # batching
    assert list(met.values()) == [True, False, True, False, True, False, False, True]


def test_clip_keeps_the_scene_and_moves_faces_a_little():
    from benchmarks.frames import synthesize_clip

    clip = synthesize_clip(_faces(), 640, 480, 2, count=10, seed=3, step=3)
    assert len(clip) == 10
    assert all(f.face_indices == clip[0].face_indices for f in clip)
    for a, b in zip(clip, clip[1:]):
        for (ax, ay, aside, _), (bx, by, bside, _) in zip(a.boxes, b.boxes):
            assert aside == bside and abs(ax - bx) <= 3 and abs(ay - by) <= 3
    background = np.ones((480, 640), bool)  # pixels no face ever covers: the same scene throughout
    for frame in clip:
        for x, y, side, _ in frame.boxes:
            background[y : y + side, x : x + side] = False
    assert background.sum() > 0.3 * background.size
    assert np.array_equal(clip[0].image[background], clip[-1].image[background])


def test_moving_faces_come_go_crowd_and_repeat_with_the_seed():
    from benchmarks.frames import MovingFaces

    def run(seed):
        stream = MovingFaces(_faces(), 320, 240, seed=seed, max_present=3, crowd=8)
        return stream, [stream.next_frame() for _ in range(1200)]

    stream, frames = run(4)
    counts = [len(f.boxes) for f in frames]
    assert 0 in counts and max(counts) >= 8 and stream.crowds >= 2  # gaps with nobody, and crowds
    assert stream.entered > 20
    for frame in frames:
        assert len(frame.boxes) == len(frame.people) == len(set(frame.people))
        for x, y, side, _ in frame.boxes:  # only faces entirely in view are ground truth
            assert 0 <= x and x + side <= 320 and 0 <= y and y + side <= 240
    # people walk: a person's box moves by a few pixels a frame, never jumps
    where = {}
    for frame in frames:
        for person, (x, y, _, _) in zip(frame.people, frame.boxes):
            if person in where:
                assert abs(x - where[person][0]) <= 5 and abs(y - where[person][1]) <= 5
            where[person] = (x, y)
    _, again = run(4)
    assert all(
        np.array_equal(a.image, b.image) and a.boxes == b.boxes for a, b in zip(frames, again)
    )


def test_report_rerenders_into_a_marked_block(tmp_path):
    import json

    from benchmarks.report import BEGIN, END, main

    result = {
        'profile': 'smoke',
        'command': 'python benchmarks/run.py --profile smoke',
        'environment': {
            'date_utc': '2026-01-01T00:00:00+00:00',
            'cpu_model': 'cpu',
            'cpu_cores_usable': 2,
            'load_average_at_start': [0.0, 0.0, 0.0],
            'platform': 'linux',
            'python': '3.11',
            'packages': {'onnxruntime': '1.0'},
            'git_commit': 'abc',
        },
        'memory': {
            'fer_ros': {'peak_rss_mb': 97.0, 'rss_after_init_mb': 90.0, 'frames_processed': 3}
        },
    }
    source = tmp_path / 'r.json'
    source.write_text(json.dumps(result))
    doc = tmp_path / 'doc.md'
    doc.write_text(f'intro\n{BEGIN}\nold table\n{END}\noutro\n')
    assert main([str(source), '--heading-offset', '2', '--into', str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith('intro\n') and text.endswith('outro\n') and 'old table' not in text
    assert '### fer_ros vs fer' in text and '| fer_ros | 97 | 90 | 3 |' in text


def test_hard_scenes_place_turned_covered_faces_inside_the_frame():
    from benchmarks.frames import fer_sources, HARD_MAX_ROTATION, hard_scenes, photo_sources

    faces = np.random.default_rng(0).integers(0, 256, (20, 48, 48), dtype=np.uint8)
    sources = fer_sources(faces)
    try:
        sources += photo_sources()
    except ImportError:  # scikit-image or matplotlib missing: FER-like sources alone
        pass
    scenes = hard_scenes(sources, 12, seed=4)
    again = hard_scenes(sources, 2, seed=4)
    assert [img.tobytes() for img, _ in scenes[:2]] == [img.tobytes() for img, _ in again]
    placed = [face for _, faces_in in scenes for face in faces_in]
    assert all(img.shape == (480, 640, 3) and img.dtype == np.uint8 for img, _ in scenes)
    assert all(2 <= len(f) <= 6 for _, f in scenes)
    assert all(abs(f.angle) <= HARD_MAX_ROTATION and 56 <= f.side <= 220 for f in placed)
    assert 0.2 < np.mean([f.occluded for f in placed]) < 0.8
    for _, faces_in in scenes:
        for f in faces_in:
            half = f.side / 2
            assert half <= f.centre[0] <= 640 - half and half <= f.centre[1] <= 480 - half


def test_match_centres_pairs_nearest_faces_of_similar_size_once():
    from benchmarks.frames import HardFace, match_centres

    faces = [HardFace((100, 100), 80, 0.0, False, 0), HardFace((300, 100), 80, 25.0, True, 1)]
    found = [
        (70, 65, 70, 70),
        (260, 60, 80, 80),
        (265, 60, 80, 80),
        (500, 400, 80, 80),
        (90, 90, 20, 20),
    ]
    assert sorted(match_centres(faces, found)) == [(0, 0), (1, 1)]
    assert match_centres(faces, [(260, 60, 400, 400)]) == []  # far too large
