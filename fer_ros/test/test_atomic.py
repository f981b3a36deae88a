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

"""Atomic writes: a writer killed at any point leaves the old file or the new one, never a mix."""

from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys

from fer_ros import atomic
import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_replaces_content_with_normal_permissions(tmp_path):
    target = tmp_path / 'm.onnx'
    target.write_bytes(b'old')
    atomic.write_bytes(target, b'new model')
    assert target.read_bytes() == b'new model'
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ['m.onnx']


def test_failing_writer_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / 'm.onnx'
    target.write_bytes(b'previous')
    with pytest.raises(RuntimeError):
        with atomic.atomic_target(target) as tmp:
            tmp.write_bytes(b'half of a new')
            raise RuntimeError('serialisation failed')
    assert target.read_bytes() == b'previous'
    assert [p.name for p in tmp_path.iterdir()] == ['m.onnx']


KILLED_WRITER = """
import os, signal, sys
from fer_ros import atomic
with atomic.atomic_target(sys.argv[1]) as tmp:
    with open(tmp, "wb") as handle:
        handle.write(b"x" * 100000)
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)  # dies in the middle of writing
"""


def test_sigkilled_writer_leaves_the_previous_file_and_its_temporary_is_cleaned_later(tmp_path):
    target = tmp_path / 'm.onnx'
    target.write_bytes(b'previous')
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(PACKAGE_ROOT), os.environ.get('PYTHONPATH')])
        ),
    )
    writer = subprocess.run([sys.executable, '-c', KILLED_WRITER, str(target)], env=env)
    assert writer.returncode == -signal.SIGKILL
    assert target.read_bytes() == b'previous'
    (leftover,) = [p for p in tmp_path.iterdir() if p.name != 'm.onnx']
    assert leftover.name.startswith('.m.onnx.') and leftover.name.endswith('.partial')
    assert [p.name for p in tmp_path.glob('*.onnx')] == ['m.onnx']  # no model glob picks it up
    assert atomic.remove_stale(target) == [leftover]
    assert [p.name for p in tmp_path.iterdir()] == ['m.onnx']


def test_remove_stale_spares_live_writers_and_other_targets(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale_file = tmp_path / f'.m.onnx.{dead.pid}-ab12.partial'
    stale_dir = tmp_path / f'.m.onnx.{dead.pid}-scratch.partial'
    live = tmp_path / f'.m.onnx.{os.getpid()}-cd34.partial'
    other = tmp_path / f'.n.onnx.{dead.pid}-ef56.partial'
    for path in (stale_file, live, other):
        path.write_bytes(b'')
    stale_dir.mkdir()
    (stale_dir / 'model.onnx').write_bytes(b'staged')
    assert sorted(atomic.remove_stale(tmp_path / 'm.onnx')) == sorted([stale_file, stale_dir])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
