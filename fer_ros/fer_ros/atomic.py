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
Write files so that a reader sees the old content or the new one, never half of it.

Checkpoints, exported models, model cards and run state are written through
here: the data goes to a temporary file in the target's folder (same file
system), is flushed to disk, and is then renamed over the target with
``os.replace``, which POSIX and Windows make atomic. A process killed at any
point (even with SIGKILL) therefore leaves either the previous file or the new
one; only a stray temporary file (``.<name>.<pid>-<random>.partial``) can
remain, and it is never a name fer_ros loads.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import re
import secrets
import shutil
from typing import Iterator, Union

PathLike = Union[str, 'os.PathLike[str]']
PARTIAL_MARK = '.partial'


def temporary_sibling(path: Path) -> Path:
    """
    Return a fresh name beside ``path``.

    Hidden, ending in ``.partial`` so no ``*.onnx`` glob picks it up.
    """
    return path.with_name(f'.{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_MARK}')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours, or the platform cannot tell: keep its files
        return True
    return True


def remove_stale(path: PathLike) -> list:
    """
    Delete temporary files and folders left beside ``path`` by writers that were killed.

    Only names of the form ``.<name>.<pid>-<random>....partial`` whose process no
    longer exists are removed, so a concurrent writer's files are left alone.
    Returns the removed paths.
    """
    path = Path(path)
    pattern = re.compile(rf'^\.{re.escape(path.name)}\.(\d+)-\w+.*{re.escape(PARTIAL_MARK)}$')
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match and not _alive(int(match.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def fsync_file(path: PathLike) -> None:
    """Flush a written file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: PathLike) -> None:
    """
    Flush a folder's entries (a rename is durable only once its folder is).

    No-op where unsupported.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(tmp: Path, path: Path) -> None:
    """Make the complete file ``tmp`` durable and rename it over ``path``."""
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_target(path: PathLike) -> Iterator[Path]:
    """
    Give ``p`` the file written in the block, only if the block succeeds.

    Use: ``with atomic_target(p) as tmp: write(tmp)``.

    ``p`` gets the file only if the block succeeds.

    On an exception the temporary file is removed and ``p`` is left as it was.
    The file gets the usual permissions (0666 minus the umask), not mkstemp's 0600,
    so a node running as another user can still read an exported model.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(path: PathLike, data: bytes) -> None:
    """Atomically replace ``path``'s content with ``data``."""
    with atomic_target(path) as tmp:
        with open(tmp, 'xb') as handle:
            handle.write(data)


def write_text(path: PathLike, text: str) -> None:
    """Atomically replace ``path``'s content with ``text`` (UTF-8)."""
    write_bytes(path, text.encode('utf-8'))
