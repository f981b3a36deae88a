"""``ros2 run fer_ros fer_node``: start the node, or say in one line why the install cannot.

The node module imports OpenCV; on a robot where pip replaced the distro's NumPy 1 with NumPy 2
that import fails with a traceback that does not name the fix. This entry point catches that
case (see :mod:`fer_ros.numpy_check`) and exits with status 2 after one fatal line.
"""

from __future__ import annotations

import sys
from typing import List, Optional


def main(args: Optional[List[str]] = None) -> int:
    try:
        import cv2  # noqa: F401  (first: the module a NumPy clash breaks, named before anything else)

        from .node import main as node_main
    except ImportError as exc:
        from ..numpy_check import numpy_abi_hint

        hint = numpy_abi_hint(exc)
        if hint is None:
            raise
        print(f"[FATAL] [fer_node]: {hint}", file=sys.stderr)
        return 2
    return node_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
