"""Make the repository root and the fer_ros package importable for the benchmark tests."""

from __future__ import annotations

from pathlib import Path
import sys

REPO_ROOT = Path(__file__).resolve().parents[2]
for path in (REPO_ROOT, REPO_ROOT / 'fer_ros'):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
