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
Recognise the NumPy 2 vs NumPy-1-built OpenCV/cv_bridge clash and say the one-line fix.

ROS 2 distros ship python3-opencv and cv_bridge built against NumPy 1. When pip has upgraded
NumPy to 2.x (e.g. as a dependency of onnxruntime), ``import cv2`` prints NumPy's long
explanation and raises ``ImportError: numpy.core.multiarray failed to import``. The node turns
that into one fatal line naming the versions and the command that repairs the install.
"""

from __future__ import annotations

from typing import Optional

# What the import of a module compiled for NumPy 1 raises (or prints) under NumPy 2.
NUMPY1_MODULE_MARKERS = (
    'numpy.core.multiarray failed to import',
    '_ARRAY_API not found',
    'compiled using NumPy 1.x',
    'numpy.core._multiarray_umath',
)
FIX = "python3 -m pip install --user 'numpy<2'"


def numpy_abi_hint(exc: BaseException) -> Optional[str]:
    """
    Return the one-line explanation and fix when ``exc`` is that clash.

    None for any other error.
    """
    texts = []
    current: Optional[BaseException] = exc
    while current is not None and len(texts) < 10:  # the chain of causes
        texts.append(str(current))
        current = current.__cause__ or current.__context__
    if not any(marker in text for text in texts for marker in NUMPY1_MODULE_MARKERS):
        return None
    try:
        import numpy
    except ImportError:
        return None
    if int(numpy.__version__.split('.')[0]) < 2:
        return None
    module = getattr(exc, 'name', None) or 'a compiled module (cv2 or cv_bridge)'
    return (
        f'NumPy {numpy.__version__} ({numpy.__file__}) is installed, but {module} was built for '
        f"NumPy 1, as the ROS distro's OpenCV and cv_bridge are. Restore NumPy 1: {FIX}"
    )
