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
Ctrl-C and ``kill`` end a run at a frame boundary, so every output is complete and playable.

Python's default Ctrl-C raises :class:`KeyboardInterrupt` wherever the program
happens to be, e.g. between writing a frame's JSON line and its video frame,
and the default SIGTERM (``systemctl stop``, ``docker stop``, ``ros2 launch``
shutdown) kills the process without finalising anything: an MP4 whose index
was never written does not play at all. Inside :class:`StopSignals`, the first
SIGINT or SIGTERM only sets :attr:`StopSignals.received`; the frame loop checks
it after each frame and stops, and the caller closes its outputs as on a normal
end. A second signal raises :class:`KeyboardInterrupt` at once, for a run that
does not react (the outputs are still closed by the caller's ``finally``).
"""

from __future__ import annotations

import signal
import threading
from typing import Dict, Optional, Tuple

STOP_SIGNALS: Tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """
    Context manager turning SIGINT/SIGTERM into a stop request for a frame loop.

    Signal handlers can only be installed from the main thread; elsewhere this
    does nothing and the signals keep their current behaviour.
    """

    def __init__(self) -> None:
        self.received: Optional[int] = None  # number of the first signal received
        self._previous: Dict[int, object] = {}

    @property
    def requested(self) -> bool:
        """Tell whether a stop signal has arrived."""
        return self.received is not None

    @property
    def name(self) -> str:
        """Name of the signal received (``SIGINT``), or an empty string."""
        return signal.Signals(self.received).name if self.received is not None else ''

    @property
    def exit_code(self) -> int:
        """
        Return the shell's convention for a process ended by the signal.

        128 + its number (130 for Ctrl-C).
        """
        return 128 + self.received if self.received is not None else 0

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is not None:
            raise KeyboardInterrupt  # second signal: stop now
        self.received = signum

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
