"""Point the CMake exports of the ROS 2 PyPI wheels at this venv's Python and NumPy headers.

The ``ros-*`` wheels (rclpy 9.1.2, Kilted) were built in a manylinux image, and the CMake files
they export for their Python message packages (``export_<pkg>__rosidl_generator_pyExport.cmake``)
name that image's include folders::

    /opt/python/cp311-cp311/include/python3.11
    /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include

CMake refuses an imported target whose include folder does not exist, so building any message
package against the wheels (``colcon build`` of fer_ros_msgs) fails. This script rewrites those
two paths, in the venv's own copies only, to the running interpreter's include folder and
NumPy's. It fails with a one-line message when the layout is not the one it knows: no baked path
found in a venv that has the exports, a header folder missing, or a foreign path left behind.

    .venv-ros/bin/python tools/ros_wheels_fix_paths.py .venv-ros
"""

from __future__ import annotations

from pathlib import Path
import re
import sys
import sysconfig

BAKED = re.compile(
    r'/opt/python/cp3\d+-cp3\d+'
    r'(/include/python3\.\d+|/lib/python3\.\d+/site-packages/numpy/_core/include)'
)
EXPORTS = 'share/*/cmake/*rosidl_generator_pyExport.cmake'


def header_folders() -> dict:
    """Where this interpreter's Python.h and NumPy's headers are (checked to exist)."""
    import numpy

    python_include = Path(sysconfig.get_paths()['include'])
    numpy_include = Path(numpy.get_include())
    if not (python_include / 'Python.h').is_file():
        raise SystemExit(
            f'error: {python_include}/Python.h is missing: install the Python headers '
            '(python3-dev, or a Python built with them)'
        )
    if not (numpy_include / 'numpy' / 'arrayobject.h').is_file():
        raise SystemExit(f'error: NumPy headers not found under {numpy_include}')
    return {'include': str(python_include), 'numpy': str(numpy_include)}


def fix(venv: Path) -> int:
    """Rewrite the baked paths in ``venv``'s exports; returns how many files changed."""
    folders = header_folders()
    files = sorted(venv.glob(EXPORTS))
    if not files:
        raise SystemExit(
            f'error: no {EXPORTS} under {venv}: are the ros-* wheels installed there?'
        )
    changed = 0
    for path in files:
        text = path.read_text()
        new = BAKED.sub(
            lambda m: folders['numpy'] if 'numpy' in m.group(1) else folders['include'], text
        )
        if '/opt/python/' in new:
            raise SystemExit(
                f'error: {path} names another /opt/python/ path than the two this script '
                "knows; the wheels' layout changed"
            )
        if new != text:
            path.write_text(new)
            changed += 1
    return changed


if __name__ == '__main__':
    venv = Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)
    print(
        f"{venv}: pointed {fix(venv)} CMake export file(s) at this venv's Python and NumPy headers"
    )
