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

"""A small FER2013-format CSV of random faces, for training runs that need no real data."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np


def write_random_fer2013(path: Path, rows_per_split: Dict[str, int], seed: int = 0) -> Path:
    """Write ``emotion,pixels,Usage`` rows of random 48x48 faces, classes in turn; return path."""
    rng = np.random.default_rng(seed)
    lines = ['emotion,pixels,Usage']
    for split, count in rows_per_split.items():
        for row in range(count):
            pixels = ' '.join(map(str, rng.integers(0, 256, 48 * 48)))
            lines.append(f'{row % 7},{pixels},{split}')
    path.write_text('\n'.join(lines) + '\n')
    return path
