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
Settings changes for a running node without stalling it: slow loads happen off the executor.

A new ``model`` or ``detector`` means loading a network (seconds on a Pi, minutes for a
TensorRT engine on a Jetson). :class:`SettingsSwitcher` does that in its own thread while
frames keep flowing through the running pipeline, then swaps the new parts in between two
frames, under the pipeline lock (the swap itself takes microseconds). Changes that load
nothing (thresholds, smoothing...) apply at once. The newest request wins: a change made
while a load is in progress is folded into the next load. A load that fails leaves the
running pipeline as it was and is reported through ``on_failed``.

No ROS imports, so it is tested without rclpy (``fer_ros/test/test_node_reload.py``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from ..errors import FerRosError
from ..settings import PipelineSettings


class SettingsSwitcher:
    """Applies accepted settings to ``pipeline``; slow ones in a background thread."""

    def __init__(
        self,
        pipeline: Any,
        lock: threading.Lock,
        on_applied: Callable[[PipelineSettings], None],
        on_failed: Callable[[PipelineSettings, Exception], None],
    ) -> None:
        self._pipeline = pipeline
        self._lock = lock  # held by the worker while it processes a frame
        self._on_applied = on_applied
        self._on_failed = on_failed
        self._wanted: Optional[PipelineSettings] = None  # newest accepted settings not yet running
        self._cond = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    @property
    def loading(self) -> Optional[PipelineSettings]:
        """Return the settings being loaded, or None when the pipeline runs what was asked last."""
        with self._cond:
            return self._wanted

    def request(self, settings: PipelineSettings) -> bool:
        """
        Switch to ``settings``; returns True when it happens in the background (a load).

        Without a load in progress and with nothing to load, the change applies before
        returning (waiting at most for the frame in progress).
        """
        with self._cond:
            if self._wanted is None and not self._pipeline.needs_loading(settings):
                with self._lock:
                    self._pipeline.update(settings)  # numbers only: no loading, cannot stall
                self._on_applied(settings)
                return False
            self._wanted = settings
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._load_loop, name='fer_reload', daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return True

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until no load is pending; True when idle (for tests and shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._wanted is None, timeout=timeout)

    def stop(self) -> None:
        """Abandon pending loads (the one in progress finishes, and is not applied)."""
        with self._cond:
            self._stopped = True
            self._wanted = None
            self._cond.notify_all()

    def _load_loop(self) -> None:
        while True:
            with self._cond:
                target = self._wanted
                if target is None or self._stopped:
                    return
            try:
                prepared = self._pipeline.prepare(target)  # slow; frames keep flowing meanwhile
            except (FerRosError, OSError) as exc:
                self._finish(target, failure=exc)
                continue
            with self._cond:
                if self._wanted is not target:  # a newer request arrived: load that one instead
                    continue
                with self._lock:  # between two frames
                    self._pipeline.apply(prepared)
            self._finish(target)

    def _finish(self, target: PipelineSettings, failure: Optional[Exception] = None) -> None:
        with self._cond:
            if self._wanted is target:
                self._wanted = None
            self._cond.notify_all()
        if failure is not None:
            self._on_failed(target, failure)
        else:
            self._on_applied(target)
