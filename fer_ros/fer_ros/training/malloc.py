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
Keep glibc from handing freed tensor memory back to the kernel after every training step.

TensorFlow's ``from_generator`` dataset op (behind every ``keras.utils.PyDataset``) calls
``mallopt(M_TRIM_THRESHOLD, 128 KiB)``. Setting that option switches off glibc's dynamic mmap
threshold, so every buffer over 128 KiB (each batch, each activation) is mmap-ed and munmap-ed
again on every step, and the fresh pages fault in one by one. Measured on the 2-core training
machine (vgg_small width 0.5, 30 batches of 128 faces through ``FaceBatches``): 6.69 million
page faults and 24.5 s of kernel time beside 37.6 s of user time, 93.5 images per second; with
the thresholds below, 4,239 faults, 0.7 s and 191.2 images per second
(``python benchmarks/feeder_throughput.py --arch-arg width=0.5``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Optional

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's ceiling for this option on 64-bit
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

_libc: Optional[ctypes.CDLL] = None
_looked_up = False


def _glibc() -> Optional[ctypes.CDLL]:
    """glibc, or None where ``mallopt`` does not exist (macOS, musl, Windows)."""
    global _libc, _looked_up
    if not _looked_up:
        _looked_up = True
        name = ctypes.util.find_library('c')
        try:
            libc = ctypes.CDLL(name) if name else None
            _libc = libc if libc is not None and hasattr(libc, 'mallopt') else None
        except OSError:
            _libc = None
    return _libc


def keep_freed_memory() -> bool:
    """
    Raise glibc's mmap and trim thresholds so step buffers are reused; True when applied.

    Cheap (two ``mallopt`` calls); call it again whenever TensorFlow may have reset the options,
    e.g. at the start of each batch of a ``PyDataset``.
    """
    libc = _glibc()
    if libc is None:
        return False
    ok_mmap = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    ok_trim = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    return bool(ok_mmap and ok_trim)
