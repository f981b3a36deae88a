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
Stable face ids across frames and temporal smoothing of class probabilities.

Each detection is matched to an existing track by box overlap (IoU) with the
track's predicted box (last box moved by its recent velocity, which keeps two
crossing faces apart); matching is greedy, best overlap first, which is optimal
enough for the handful of faces a robot sees. A track not matched for more than
``max_missed_frames`` frames is retired, so a face that comes back later gets a
new id. Probabilities of a track are an exponential moving average, so a label
does not flicker from one frame to the next.

The tracker's state is bounded whatever the input: ``max_tracks`` (the
pipeline's ``max_faces``) caps the number of tracks, because faces leaving
while others arrive would otherwise keep up to ``max_faces`` x
(``max_missed_frames`` + 1) tracks alive, and the pipeline searches around
every one of them between full detections. Ids come from a counter and are
never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .preprocess import Box

VELOCITY_GAIN = 0.5  # weight of the newest displacement in the velocity estimate


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    """One face followed over time."""

    track_id: int
    box: Tuple[float, float, float, float]
    probabilities: Optional[np.ndarray] = None  # smoothed; None until the first frame
    velocity: Tuple[float, float] = (0.0, 0.0)  # box centre displacement per frame
    missed: int = 0  # consecutive frames without a matching detection
    hits: int = 1  # frames in which it was detected (a new face is confirmed after confirm_frames)

    def predicted_box(self) -> Tuple[float, float, float, float]:
        """Where the box should be in the next frame (constant velocity, one frame per miss)."""
        steps = self.missed + 1
        x, y, w, h = self.box
        return (x + self.velocity[0] * steps, y + self.velocity[1] * steps, w, h)


class Tracker:
    """
    IoU tracker with optional probability smoothing.

    ``update(boxes, probabilities)`` returns, for each detection in order, its
    track id and its (smoothed) probabilities. With ``smoothing_alpha=None`` the
    probabilities are passed through unchanged.
    """

    def __init__(
        self,
        iou_threshold: float = 0.3,
        max_missed_frames: int = 5,
        smoothing_alpha: Optional[float] = 0.4,
        max_tracks: Optional[int] = None,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed_frames = max_missed_frames
        self.smoothing_alpha = smoothing_alpha
        # At most this many tracks (None: no cap). When new faces would exceed it, the tracks
        # unseen the longest are retired early; tracks seen in this frame are always kept.
        self.max_tracks = max_tracks
        self.tracks: List[Track] = []
        self._ids: Iterator[int] = itertools.count(1)

    def reset(self) -> None:
        """Forget every track (ids keep increasing, so old ids are never reused)."""
        self.tracks = []

    def next_id(self) -> int:
        """Return a fresh id (also used by the pipeline when tracking is off)."""
        return next(self._ids)

    def update(
        self, boxes: Sequence[Box], probabilities: np.ndarray
    ) -> List[Tuple[int, np.ndarray]]:
        """
        Associate this frame's detections with tracks.

        Returns (id, probabilities) per detection.
        """
        return [(t.track_id, t.probabilities) for t in self.update_tracks(boxes, probabilities)]

    def update_tracks(self, boxes: Sequence[Box], probabilities: np.ndarray) -> List[Track]:
        """
        Associate this frame's detections with tracks.

        Returns the track of each detection, in order.

        A returned track's ``hits`` says in how many frames its face has been
        seen, so callers can hold back faces not yet confirmed.
        """
        track_for = self._match(boxes)
        results: List[Track] = []
        new_tracks: List[Track] = []
        for di, box in enumerate(boxes):
            probs = np.asarray(probabilities[di], dtype=np.float32)
            box_f = tuple(float(v) for v in box)
            if di in track_for:
                track = self.tracks[track_for[di]]
                self._follow(track, box_f, probs)
            else:
                track = Track(self.next_id(), box_f, probs.copy())
                new_tracks.append(track)
            results.append(track)
        self._retire(set(track_for.values()), new_tracks)
        return results

    def _match(self, boxes: Sequence[Box]) -> Dict[int, int]:
        """
        Return ``{detection index: track index}``.

        Greedy by overlap with each track's predicted box.
        """
        pairs = []
        for ti, pbox in enumerate(t.predicted_box() for t in self.tracks):
            for di, box in enumerate(boxes):
                overlap = iou(pbox, box)
                if overlap >= self.iou_threshold:
                    pairs.append((overlap, ti, di))
        pairs.sort(reverse=True)
        track_for: Dict[int, int] = {}
        used_tracks = set()
        for _, ti, di in pairs:
            if ti not in used_tracks and di not in track_for:
                used_tracks.add(ti)
                track_for[di] = ti
        return track_for

    def _follow(self, track: Track, box: Tuple[float, ...], probs: np.ndarray) -> None:
        """Move a matched track to its new box (velocity per frame); smooth its probabilities."""
        steps = track.missed + 1
        dx = ((box[0] + box[2] / 2) - (track.box[0] + track.box[2] / 2)) / steps
        dy = ((box[1] + box[3] / 2) - (track.box[1] + track.box[3] / 2)) / steps
        track.velocity = (
            (1 - VELOCITY_GAIN) * track.velocity[0] + VELOCITY_GAIN * dx,
            (1 - VELOCITY_GAIN) * track.velocity[1] + VELOCITY_GAIN * dy,
        )
        track.box = box
        track.missed = 0
        track.hits += 1
        if self.smoothing_alpha is not None and track.probabilities is not None:
            a = np.float32(self.smoothing_alpha)
            track.probabilities = a * probs + (1 - a) * track.probabilities
        else:
            track.probabilities = probs.copy()

    def _retire(self, matched: set, new_tracks: List[Track]) -> None:
        """Age unmatched tracks, drop those missed too long, keep at most ``max_tracks``."""
        survivors = []
        for ti, track in enumerate(self.tracks):
            if ti not in matched:
                track.missed += 1
            if track.missed <= self.max_missed_frames:
                survivors.append(track)
        excess = len(survivors) + len(new_tracks) - self.max_tracks if self.max_tracks else 0
        if excess > 0:
            unseen = sorted(
                (t for t in survivors if t.missed), key=lambda t: t.missed, reverse=True
            )
            retire = {id(t) for t in unseen[:excess]}
            survivors = [t for t in survivors if id(t) not in retire]
        self.tracks = survivors + new_tracks

    def active_boxes(self) -> List[Tuple[float, float, float, float]]:
        """Predicted boxes of live tracks (where to look for faces between full detections)."""
        return [t.predicted_box() for t in self.tracks]
