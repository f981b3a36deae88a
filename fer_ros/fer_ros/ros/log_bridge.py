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
Route fer_ros's Python ``logging`` records to the node's logger.

Provider fallbacks and model notes then reach ``/rosout``.

Library modules log through ``logging.getLogger("fer_ros....")``; without a handler Python
prints bare WARNING lines to stderr, which never reach ``/rosout``. While a node runs,
:func:`forward_to` attaches a handler to the ``fer_ros`` logger that hands each record to the
node's ROS logger at the matching severity (and stops propagation, so nothing is printed twice).
No ROS imports: the target is anything with ``debug``/``info``/``warning``/``error``/``fatal``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, List

LIBRARY_LOGGER = 'fer_ros'


class RosLogHandler(logging.Handler):
    """A ``logging.Handler`` that writes each record to a ROS-style logger."""

    def __init__(self, ros_logger: Any) -> None:
        super().__init__(level=logging.INFO)
        self._ros_logger = ros_logger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.CRITICAL:
                self._ros_logger.fatal(message)
            elif record.levelno >= logging.ERROR:
                self._ros_logger.error(message)
            elif record.levelno >= logging.WARNING:
                self._ros_logger.warning(message)
            elif record.levelno >= logging.INFO:
                self._ros_logger.info(message)
            else:
                self._ros_logger.debug(message)
        except Exception:  # logging must never break the caller
            self.handleError(record)


def forward_to(ros_logger: Any) -> Callable[[], None]:
    """
    Send the ``fer_ros`` loggers' records to ``ros_logger``.

    Returns the function that undoes it. The handler also goes on every existing
    ``fer_ros.*`` logger that does not propagate: importing ROS 2's ``launch`` in the same
    process makes every logger created afterwards non-propagating (its ``LaunchLogger``).
    """
    library = logging.getLogger(LIBRARY_LOGGER)
    handler = RosLogHandler(ros_logger)
    handler.setFormatter(logging.Formatter('%(message)s'))
    old_level, old_propagate = library.level, library.propagate
    isolated = _isolated_library_loggers()
    for logger in [library, *isolated]:
        logger.addHandler(handler)
    if library.level == logging.NOTSET or library.level > logging.INFO:
        library.setLevel(logging.INFO)
    library.propagate = False

    def undo() -> None:
        for logger in [library, *isolated]:
            logger.removeHandler(handler)
        library.setLevel(old_level)
        library.propagate = old_propagate

    return undo


def _isolated_library_loggers() -> List[logging.Logger]:
    """Return the existing ``fer_ros.*`` loggers whose records would not reach ``fer_ros``."""
    prefix = LIBRARY_LOGGER + '.'
    return [
        logger
        for name, logger in list(logging.Logger.manager.loggerDict.items())
        if name.startswith(prefix) and isinstance(logger, logging.Logger) and not logger.propagate
    ]
