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

"""The node names the NumPy 2 vs NumPy-1-built OpenCV clash and its fix instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from fer_ros.numpy_check import FIX, numpy_abi_hint
import numpy as np
import pytest

NUMPY2 = int(np.__version__.split('.')[0]) >= 2


@pytest.mark.skipif(not NUMPY2, reason='the clash needs NumPy 2 installed')
def test_the_clash_is_recognised_through_the_cause_chain():
    try:
        try:
            raise ImportError('numpy.core.multiarray failed to import')
        except ImportError as inner:
            raise ImportError('cannot import cv2', name='cv2') from inner
    except ImportError as exc:
        hint = numpy_abi_hint(exc)
    assert hint is not None and f'NumPy {np.__version__}' in hint and 'cv2' in hint and FIX in hint


def test_other_import_errors_are_left_alone():
    assert numpy_abi_hint(ImportError("No module named 'rclpy'")) is None


@pytest.mark.skipif(not NUMPY2, reason='the clash needs NumPy 2 installed')
def test_fer_node_exits_2_with_one_fatal_line(tmp_path):
    """
    A cv2 that fails as a NumPy-1 build does under NumPy 2, first on the path.

    fer_node says the fix.
    """
    (tmp_path / 'cv2.py').write_text(
        'raise ImportError("numpy.core.multiarray failed to import")\n'
    )
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from fer_ros.ros.entry import main
        sys.exit(main())
    """)
    done = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith('[FATAL] [fer_node]: NumPy ') and FIX in lines[0]
    )
