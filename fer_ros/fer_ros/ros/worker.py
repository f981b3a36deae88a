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
The node's frame worker: one thread, a one-slot mailbox, a rate limit and a guard per frame.

No ROS.

The subscription callback hands every image to :meth:`FrameWorker.submit`; the
worker thread always takes the newest one, so a slow machine drops frames
(counted) instead of building a backlog, and ``max_rate_hz`` bounds the work.
Each frame is processed inside a guard: an
:class:`~fer_ros.errors.ImageConversionError` counts as a rejected frame, any
other exception as a processing error; both are reported through the log
functions given (the node passes throttled ROS loggers) and the thread goes on
with the next frame. Nothing one frame does can end the thread; only
:meth:`FrameWorker.stop` does. Kept free of rclpy so it is tested without ROS 2
(``fer_ros/test/test_node_worker.py``).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional, Tuple

from .stats import NodeStats
from ..errors import ImageConversionError


class FrameWorker:
    """Runs ``process(msg, received_at)`` on the newest submitted message, in its own thread."""

    def __init__(
        self,
        process: Callable[[Any, float], None],
        stats: NodeStats,
        warn: Callable[[str], None],
        error: Callable[[str], None],
        max_rate_hz: float = 0.0,
        shutting_down: Callable[[], bool] = lambda: False,
        name: str = 'fer_worker',
    ) -> None:
        self.max_rate_hz = (
            max_rate_hz  # read before each frame: a parameter change applies at once
        )
        self._process = process
        self._stats = stats
        self._warn = warn
        self._error = error
        self._shutting_down = shutting_down
        self._mailbox: Optional[Tuple[Any, float]] = None
        self._wakeup = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def submit(self, msg: Any) -> None:
        """Hand over a message (from the subscription callback); replaces one not yet taken."""
        now = time.monotonic()
        with self._wakeup:
            self._stats.frame_received(now, replaced_pending=self._mailbox is not None)
            self._mailbox = (msg, now)
            self._wakeup.notify()

    def discard_pending(self) -> None:
        """Drop a message not yet taken (e.g. when the node is disabled)."""
        with self._wakeup:
            self._mailbox = None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (waits up to ``timeout`` s for the frame in progress)."""
        self._stop.set()
        with self._wakeup:
            self._wakeup.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def run_one(self, msg: Any, received_at: float) -> None:
        """Process one message; whatever it raises is counted and logged, never propagated."""
        try:
            self._process(msg, received_at)
        except ImageConversionError as exc:
            self._stats.frame_rejected()
            self._report(self._warn, f'frame skipped: {exc}')
        except Exception as exc:  # the node must never die on one frame
            if self._stopping():
                return  # shutting down (Ctrl-C): publishers are gone, nothing to report
            self._stats.frame_failed()
            self._report(self._error, f'frame processing failed: {_describe(exc)}')

    def _stopping(self) -> bool:
        try:
            return self._stop.is_set() or bool(self._shutting_down())
        except Exception:  # e.g. the ROS context already torn down
            return True

    @staticmethod
    def _report(log: Callable[[str], None], message: str) -> None:
        try:
            log(message)
        except Exception:  # a failing logger must not end the thread either
            pass

    def _take_newest(self) -> Optional[Tuple[Any, float]]:
        with self._wakeup:
            while self._mailbox is None and not self._stop.is_set():
                self._wakeup.wait(0.5)
            item, self._mailbox = self._mailbox, None
            return item

    def _loop(self) -> None:
        next_start = 0.0
        while not self._stop.is_set():
            wait = next_start - time.monotonic()
            if wait > 0 and self._stop.wait(wait):  # frames arriving meanwhile replace each other
                break
            item = self._take_newest()
            if item is None:
                continue
            rate = self.max_rate_hz
            next_start = time.monotonic() + 1.0 / rate if rate > 0 else 0.0
            self.run_one(*item)


def _describe(exc: BaseException) -> str:
    """
    ``cv2.error: OpenCV(...) ...`` / ``RuntimeError: ...``.

    The exception's type (with its module unless builtin) and message, on one line.
    """
    kind = type(exc).__qualname__
    if type(exc).__module__ != 'builtins':
        kind = f'{type(exc).__module__}.{kind}'
    message = ' '.join(str(exc).split())
    return f'{kind}: {message}' if message else kind
