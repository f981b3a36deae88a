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

"""Tracker: stable ids for smooth motion and crossing faces, new ids on late returns, smoothing."""

from __future__ import annotations

from fer_ros.tracking import iou, Tracker
import numpy as np

UNIFORM = np.full(7, 1 / 7, dtype=np.float32)


def probs(n):
    return np.tile(UNIFORM, (n, 1))


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 0, 10, 10)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_smoothly_moving_faces_keep_their_ids():
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=3)
    ids = []
    for t in range(60):
        boxes = [(100 + 4 * t, 100 + 2 * t, 80, 80), (500 - 3 * t, 300, 100, 100)]
        ids.append([track_id for track_id, _ in tracker.update(boxes, probs(2))])
    assert all(frame_ids == ids[0] for frame_ids in ids)
    assert ids[0][0] != ids[0][1]


def test_two_crossing_faces_keep_their_ids():
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=3)
    first = None
    for t in range(41):
        # A moves right, B moves left along the same line; they overlap fully at t = 20.
        a = (100 + 10 * t, 200, 80, 80)
        b = (500 - 10 * t, 200, 80, 80)
        order = [a, b] if t % 2 else [b, a]  # detector output order must not matter
        result = dict(zip(order, (track_id for track_id, _ in tracker.update(order, probs(2)))))
        if first is None:
            first = (result[a], result[b])
        elif a != b:
            assert (result[a], result[b]) == first, f'ids swapped at t={t}'


def test_missed_frames_within_grace_keep_the_id():
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=3)
    ((first, _),) = tracker.update([(100, 100, 80, 80)], probs(1))
    for _ in range(3):
        assert tracker.update([], probs(0)) == []
    ((again, _),) = tracker.update([(104, 100, 80, 80)], probs(1))
    assert again == first


def test_face_returning_after_grace_gets_a_new_id():
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=3)
    ((first, _),) = tracker.update([(100, 100, 80, 80)], probs(1))
    for _ in range(4):
        tracker.update([], probs(0))
    ((later, _),) = tracker.update([(100, 100, 80, 80)], probs(1))
    assert later != first


def test_reset_forgets_tracks_and_never_reuses_ids():
    tracker = Tracker()
    ((first, _),) = tracker.update([(0, 0, 50, 50)], probs(1))
    tracker.reset()
    ((second, _),) = tracker.update([(0, 0, 50, 50)], probs(1))
    assert second != first


def test_track_count_is_capped_and_the_longest_unseen_go_first():
    # Faces leave while new ones arrive: without the cap, tracks of faces that left would pile up
    # (max_faces x (max_missed_frames + 1) of them), each searched for between full detections.
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=5, max_tracks=3)
    for t in range(20):
        boxes = [(200 * t, 0, 80, 80), (200 * t, 200, 80, 80)]  # two new faces every frame
        ids = [track_id for track_id, _ in tracker.update(boxes, probs(2))]
        assert len(tracker.tracks) <= 3
        # the faces of this frame always keep a track; the one left is from the previous frame
        live = [track.track_id for track in tracker.tracks]
        assert set(ids) <= set(live)
        if t:
            assert [tr.missed for tr in tracker.tracks if tr.track_id not in ids] == [1]
    # a face seen in every frame keeps its id through the churn
    tracker = Tracker(iou_threshold=0.3, max_missed_frames=5, max_tracks=2)
    steady = None
    for t in range(10):
        result = tracker.update([(0, 400, 80, 80), (300 + 200 * t, 0, 80, 80)], probs(2))
        steady = steady or result[0][0]
        assert result[0][0] == steady and len(tracker.tracks) == 2


def test_smoothing_stops_a_flickering_label():
    rng = np.random.default_rng(0)
    smooth = Tracker(smoothing_alpha=0.3)
    raw = Tracker(smoothing_alpha=None)
    flips_smooth = flips_raw = 0
    last_smooth = last_raw = None
    for t in range(50):
        # true class 3 ("happy"), but noise makes class 6 win the raw argmax every third frame
        p = np.full(7, 0.02, dtype=np.float32)
        p[3], p[6] = (0.4, 0.5) if t % 3 == 0 else (0.55, 0.33)
        p += rng.uniform(0, 0.01, 7).astype(np.float32)
        p /= p.sum()
        ((_, ps),) = smooth.update([(100, 100, 80, 80)], p[None])
        ((_, pr),) = raw.update([(100, 100, 80, 80)], p[None])
        np.testing.assert_allclose(pr, p)
        assert abs(float(ps.sum()) - 1) < 1e-5
        s, r = int(np.argmax(ps)), int(np.argmax(pr))
        flips_smooth += last_smooth is not None and s != last_smooth
        flips_raw += last_raw is not None and r != last_raw
        last_smooth, last_raw = s, r
    assert flips_raw >= 30
    assert flips_smooth <= 2


def test_smoothing_follows_a_real_change():
    tracker = Tracker(smoothing_alpha=0.4)
    happy = np.eye(7, dtype=np.float32)[3] * 0.9 + 0.1 / 7
    sad = np.eye(7, dtype=np.float32)[4] * 0.9 + 0.1 / 7
    for _ in range(10):
        tracker.update([(0, 0, 50, 50)], happy[None])
    labels = [int(np.argmax(tracker.update([(0, 0, 50, 50)], sad[None])[0][1])) for _ in range(5)]
    assert labels[-1] == 4  # switched within 5 frames
    assert labels[0] == 3  # but not on the first contrary frame


def test_iou_properties():
    from hypothesis import given
    from hypothesis import strategies as st

    boxes = st.tuples(
        st.integers(-500, 500), st.integers(-500, 500), st.integers(1, 400), st.integers(1, 400)
    )

    @given(boxes, boxes)
    def check(a, b):
        value = iou(a, b)
        assert 0.0 <= value <= 1.0
        assert value == iou(b, a)
        assert iou(a, a) == 1.0

    check()
