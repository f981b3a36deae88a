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
Node health figures for /diagnostics: rates, latency and image-age percentiles, counters.

Plain Python (no ROS), so it is tested without rclpy. Rates are counted over a
sliding window; latency percentiles over the last ``LATENCY_WINDOW`` frames.
"""

from __future__ import annotations

from collections import deque
import threading
import time
from typing import Deque, List, Optional, Tuple

import numpy as np

RATE_WINDOW_S = 5.0
LATENCY_WINDOW = 200

# DiagnosticStatus levels (diagnostic_msgs/DiagnosticStatus constants, as bytes values).
OK, WARN, ERROR = 0, 1, 2


class RateMeter:
    """Events per second over the last ``window`` seconds."""

    def __init__(self, window: float = RATE_WINDOW_S) -> None:
        self.window = window
        self._times: Deque[float] = deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        self._trim(now)

    def rate(self, now: float) -> float:
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        # Over the span the window has seen, so a node that just started is not under-reported.
        span = min(self.window, now - self._times[0])
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()


class NodeStats:
    """Thread-safe counters of the node: frames received, processed, dropped, rejected, latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received = 0
        self.processed = 0
        self.dropped = 0  # replaced by a newer frame before it was processed (newest-only policy)
        self.rejected = 0  # corrupt data or unsupported encoding
        self.errors = 0  # unexpected failures while processing a frame
        self.faces_last_frame = 0
        self._input = RateMeter()
        self._output = RateMeter()
        self._latency_ms: Deque[float] = deque(maxlen=LATENCY_WINDOW)
        # now - header.stamp when the result is published: how old the picture is a behaviour acts
        # on
        self._image_age_ms: Deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_input: Optional[float] = None
        self._rejected_at_last_report = 0

    def frame_received(self, now: float, replaced_pending: bool) -> None:
        with self._lock:
            self.received += 1
            self.dropped += int(replaced_pending)
            self._input.tick(now)
            self._last_input = now

    def frame_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def frame_failed(self) -> None:
        with self._lock:
            self.errors += 1

    def frame_processed(
        self, received_at: float, done_at: float, faces: int, image_age_s: Optional[float] = None
    ) -> None:
        """Count a published frame; ``image_age_s`` is now - its header.stamp (None: no stamp)."""
        with self._lock:
            self.processed += 1
            self.faces_last_frame = faces
            self._output.tick(done_at)
            self._latency_ms.append((done_at - received_at) * 1e3)
            if image_age_s is not None:
                self._image_age_ms.append(image_age_s * 1e3)

    def latency_percentiles(self) -> Tuple[float, float]:
        """
        (p50, p95) of the recent receive-to-publish latencies in ms.

        (0, 0) before the first frame.
        """
        return self._percentiles(self._latency_ms)

    def image_age_percentiles(self) -> Tuple[float, float]:
        """(p50, p95) of the recent image ages at publish time (now - header.stamp) in ms."""
        return self._percentiles(self._image_age_ms)

    def _percentiles(self, window: Deque[float]) -> Tuple[float, float]:
        with self._lock:
            values = list(window)
        if not values:
            return 0.0, 0.0
        p50, p95 = np.percentile(np.asarray(values), [50, 95])
        return float(p50), float(p95)

    def report(
        self, now: Optional[float] = None, stale_after: float = 5.0, disabled: bool = False
    ) -> Tuple[int, str, List[Tuple[str, str]]]:
        """
        (level, summary, key/value pairs) for one DiagnosticStatus.

        OK and "disabled" while the node is switched off (``disabled``); otherwise WARN when no
        image arrived for ``stale_after`` seconds, or frames were rejected or failed since the
        previous report; OK otherwise.
        """
        now = time.monotonic() if now is None else now
        p50, p95 = self.latency_percentiles()
        age50, age95 = self.image_age_percentiles()
        with self._lock:
            input_hz, output_hz = self._input.rate(now), self._output.rate(now)
            new_rejected = self.rejected + self.errors - self._rejected_at_last_report
            self._rejected_at_last_report = self.rejected + self.errors
            values = [
                ('input_rate_hz', f'{input_hz:.2f}'),
                ('processed_rate_hz', f'{output_hz:.2f}'),
                ('latency_p50_ms', f'{p50:.1f}'),
                ('latency_p95_ms', f'{p95:.1f}'),
                ('image_age_p50_ms', f'{age50:.1f}'),
                ('image_age_p95_ms', f'{age95:.1f}'),
                ('frames_received', str(self.received)),
                ('frames_processed', str(self.processed)),
                ('frames_dropped', str(self.dropped)),
                ('frames_rejected', str(self.rejected)),
                ('processing_errors', str(self.errors)),
                ('faces_last_frame', str(self.faces_last_frame)),
            ]
            last_input = self._last_input
        if disabled:
            return OK, 'disabled (parameter enable is false): not subscribed to images', values
        if last_input is None or now - last_input > stale_after:
            return WARN, 'no images received', values
        if new_rejected:
            return WARN, f'{new_rejected} frame(s) rejected since the last report', values
        return OK, 'running', values
