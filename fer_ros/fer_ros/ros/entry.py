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
``ros2 run fer_ros fer_node``: start the node, or say in one line why the install cannot.

The node module imports OpenCV; on a robot where pip replaced the distro's NumPy 1 with NumPy 2
that import fails with a traceback that does not name the fix. This entry point catches that
case (see :mod:`fer_ros.numpy_check`) and exits with status 2 after one fatal line.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import List, Optional

from ..numpy_check import numpy_abi_hint


def _import_cv2_quietly() -> None:
    """
    ``import cv2`` with its stderr held back.

    NumPy prints a page about the clash, then the import raises; that page is dropped when the
    clash is recognised, and shown otherwise.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        error: Optional[ImportError] = None
        try:
            import cv2  # noqa: F401
        except ImportError as exc:
            error = exc
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        held.seek(0)
        text = held.read().decode(errors='replace')
    if text and (error is None or numpy_abi_hint(error) is None):
        sys.stderr.write(text)
    if error is not None:
        raise error


def main(args: Optional[List[str]] = None) -> int:
    try:
        _import_cv2_quietly()  # first: the module a NumPy clash breaks, named before anything else
        from .node import main as node_main
    except ImportError as exc:
        hint = numpy_abi_hint(exc)
        if hint is None:
            raise
        print(f'[FATAL] [fer_node]: {hint}', file=sys.stderr)
        return 2
    return node_main(args)


if __name__ == '__main__':
    raise SystemExit(main())
