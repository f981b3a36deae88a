"""What machine and software a result was measured on: recorded with every result file."""

from __future__ import annotations

import datetime
from importlib import metadata
import os
from pathlib import Path
import platform
import subprocess
from typing import Dict, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]

# Distributions whose versions decide the figures (missing ones are recorded as absent).
VERSIONED_PACKAGES = (
    'numpy',
    'opencv-python-headless',
    'opencv-python',
    'opencv-contrib-python',
    'onnxruntime',
    'tensorflow',
    'keras',
    'fer',
)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.lower().startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may run on (respects affinity/cgroup CPU sets where visible)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def package_versions() -> Dict[str, Optional[str]]:
    versions: Dict[str, Optional[str]] = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> Optional[str]:
    """Commit of the repository the benchmark ran from, with ``-dirty`` if files were modified."""
    try:
        commit = subprocess.run(
            ['git', '-C', str(REPO_ROOT), 'rev-parse', 'HEAD'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ['git', '-C', str(REPO_ROOT), 'status', '--porcelain', '--untracked-files=no'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ('-dirty' if dirty else '')


def describe_environment() -> dict:
    """Machine, OS, Python, library versions, date (UTC) and git commit."""
    import cv2

    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    return {
        'date_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'cpu_model': cpu_model(),
        'cpu_cores_usable': usable_cores(),
        'cpu_count_os': os.cpu_count(),
        'load_average_at_start': [round(x, 2) for x in load] if load else None,
        'opencv_threads': cv2.getNumThreads(),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'packages': package_versions(),
        'git_commit': git_commit(),
    }
