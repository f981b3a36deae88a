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
A training run killed at any instant resumes from its last finished epoch.

``fer-ros train`` runs as a real subprocess on a few hundred FER2013 rows; once
epoch 1 is checkpointed and epoch 2 has started it gets SIGKILL, and a second
``fer-ros train --resume`` must continue with epoch 2 from exactly the weights
and optimizer state the first process checkpointed (compared through the
fingerprint both processes log: optimizer step + sha256 of every weight and
optimizer variable), leaving intact checkpoints and each epoch once in the history.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from pathlib import Path
import pty
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile

from fer_ros.training.train import recover_checkpoints
import pytest

# The training subprocesses need TensorFlow; this process does not import it.
needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec('tensorflow') is None, reason='needs the train extra (TensorFlow)'
)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
ROWS, BATCH = 64, 4
STEPS_PER_EPOCH = ROWS // BATCH  # 16 steps: the kill lands at an observed step inside epoch 2
CHECKPOINTED = re.compile(
    r'epoch (\d+): val_accuracy .*checkpoint: optimizer step (\d+), state ([0-9a-f]{16})'
)
RESUMED = re.compile(
    r'resumed from .* after epoch (\d+): optimizer step (\d+), state ([0-9a-f]{16})'
)


class _Training:
    """``fer-ros train`` in a subprocess on a pseudo-terminal, so Keras prints every step."""

    def __init__(self, fer2013_csv: Path, run_dir: Path, *extra: str) -> None:
        command = [
            sys.executable,
            '-m',
            'fer_ros.cli',
            'train',
            '--data',
            str(fer2013_csv),
            '--run-dir',
            str(run_dir),
            *extra,
        ]
        env = dict(
            os.environ, PYTHONUNBUFFERED='1', TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES=''
        )
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [str(PACKAGE_ROOT), env.get('PYTHONPATH')])
        )
        self._master, slave = pty.openpty()
        self.process = subprocess.Popen(
            ['nice', '-n', '10', *command],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=run_dir.parent,
        )
        os.close(slave)
        self._chunks: list = []
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO once the child has gone
                break
            if not data:
                break
            self._chunks.append(data)

    @property
    def output(self) -> str:
        return b''.join(self._chunks).decode('utf-8', 'replace')

    def wait_for(self, predicate, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.process.poll() is not None:
                pytest.fail(f'training exited ({self.process.returncode}):\n{self.output[-3000:]}')
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f'timed out:\n{self.output[-3000:]}')
            time.sleep(0.01)

    def finish(self, timeout: float = 300.0) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        os.close(self._master)
        return code


def _step_of_epoch(output: str, epoch: int, epochs: int) -> int:
    """Return the last step Keras' progress bar shows for ``epoch`` (0 before its first step)."""
    _, marker, after = output.rpartition(f'Epoch {epoch}/{epochs}')
    steps = re.findall(rf'(\d+)/{STEPS_PER_EPOCH}\b', after) if marker else []
    return int(steps[-1]) if steps else 0


def _epochs_done(run_dir: Path) -> int:
    try:
        return json.loads((run_dir / 'state.json').read_text())['epochs_done']
    except (OSError, ValueError, KeyError):
        return 0


def _assert_intact_keras(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None, f'{path.name} has a corrupt member'
        assert 'model.weights.h5' in archive.namelist()


@pytest.mark.training
@pytest.mark.slow
@needs_tensorflow
def test_sigkill_mid_epoch_then_resume_continues_from_the_checkpoint(fer2013_csv, tmp_path):
    run_dir = tmp_path / 'run'
    model = ['--arch', 'mini_xception', '--arch-arg', 'width=0.25', '--arch-arg', 'blocks=1']
    settings = [
        *model,
        '--limit',
        str(ROWS),
        '--batch-size',
        str(BATCH),
        '--epochs',
        '2',
        '--no-augment',
    ]

    first = _Training(fer2013_csv, run_dir, *settings)
    # Epoch 1 committed, and the progress bar shows a quarter of epoch 2 done (the in-memory state
    # has
    # moved on from the checkpoint).
    first.wait_for(lambda: _epochs_done(run_dir) == 1 and _step_of_epoch(first.output, 2, 2) >= 4)
    first.process.send_signal(signal.SIGKILL)
    killed_at = _step_of_epoch(first.output, 2, 2)
    assert first.finish() == -signal.SIGKILL
    assert _epochs_done(run_dir) == 1 and killed_at < STEPS_PER_EPOCH, (
        'epoch 2 ended before the kill'
    )
    checkpointed = CHECKPOINTED.findall(first.output)
    assert [c[0] for c in checkpointed] == ['1']
    _, saved_step, saved_state = checkpointed[0]
    assert int(saved_step) == STEPS_PER_EPOCH
    # What the kill left on disk is usable as it is.
    _assert_intact_keras(run_dir / 'last.keras')
    _assert_intact_keras(run_dir / 'best.keras')

    second = _Training(fer2013_csv, run_dir, '--resume')
    assert second.finish() == 0, second.output[-3000:]
    out = second.output
    resumed = RESUMED.findall(out)
    # Continues after epoch 1 with exactly the optimizer step, weights and optimizer variables
    # saved.
    assert resumed == [('1', saved_step, saved_state)], out[-3000:]
    assert 'Epoch 2/2' in out and 'Epoch 1/2' not in out
    assert [c[:2] for c in CHECKPOINTED.findall(out)] == [('2', str(2 * STEPS_PER_EPOCH))]

    state = json.loads((run_dir / 'state.json').read_text())
    assert state['epochs_done'] == 2
    assert [row['epoch'] for row in state['history']] == [1, 2]
    with open(run_dir / 'log.csv') as handle:
        assert [row['epoch'] for row in csv.DictReader(handle)] == ['1', '2']
    _assert_intact_keras(run_dir / 'last.keras')
    _assert_intact_keras(run_dir / 'best.keras')
    leftovers = [p.name for p in run_dir.iterdir() if 'pending' in p.name or '.partial' in p.name]
    assert leftovers == []
    epochs = [row['epoch'] for row in state['history']]
    print(
        f'SIGKILL at step {killed_at}/{STEPS_PER_EPOCH} of epoch 2; resumed at optimizer step '
        f'{saved_step}, state {saved_state}; history epochs {epochs}'
    )


# Kills at every instant of the end-of-epoch sequence, replayed on files (no TensorFlow): the
# sequence is pending checkpoints -> state.json (commit) -> renames -> log.csv.


def _committed_run(tmp_path: Path, epochs_done: int) -> Path:
    run = tmp_path / 'run'
    run.mkdir()
    history = [{'epoch': e, 'val_accuracy': 0.1 * e} for e in range(1, epochs_done + 1)]
    state = {
        'epochs_done': epochs_done,
        'best_val_accuracy': 0.1 * epochs_done,
        'best_epoch': epochs_done,
        'history': history,
        'train_seconds': 1.0,
    }
    (run / 'state.json').write_text(json.dumps(state))
    (run / 'last.keras').write_bytes(b'epoch %d' % epochs_done)
    (run / 'best.keras').write_bytes(b'epoch %d' % epochs_done)
    return run


def _log_epochs(run: Path) -> list:
    with open(run / 'log.csv') as handle:
        return [int(row['epoch']) for row in csv.DictReader(handle)]


def test_kill_while_saving_epoch_checkpoint_rolls_back(tmp_path):
    # Killed before state.json committed epoch 2: its pending files (maybe half-written) are
    # dropped.
    run = _committed_run(tmp_path, 1)
    (run / 'last.epoch-0002.pending.keras').write_bytes(b'half of ep')
    (run / 'best.epoch-0002.pending.keras').write_bytes(b'epoch 2')
    (run / '.state.123-abcd.partial.json').write_text('{')
    state = recover_checkpoints(run)
    assert state['epochs_done'] == 1
    assert (run / 'last.keras').read_bytes() == b'epoch 1' and (
        run / 'best.keras'
    ).read_bytes() == b'epoch 1'
    assert sorted(p.name for p in run.iterdir()) == [
        'best.keras',
        'last.keras',
        'log.csv',
        'state.json',
    ]
    assert _log_epochs(run) == [1]


def test_kill_between_commit_and_renames_rolls_forward(tmp_path):
    # state.json already says epoch 2; last.keras was renamed, best.keras not yet; log.csv not
    # rewritten.
    run = _committed_run(tmp_path, 1)
    state = json.loads((run / 'state.json').read_text())
    state['epochs_done'], state['best_epoch'] = 2, 2
    state['history'].append({'epoch': 2, 'val_accuracy': 0.3})
    (run / 'state.json').write_text(json.dumps(state))
    (run / 'last.keras').write_bytes(b'epoch 2')
    (run / 'best.epoch-0002.pending.keras').write_bytes(b'epoch 2')
    (run / 'log.csv').write_text('epoch,val_accuracy\n1,0.1\n')
    assert recover_checkpoints(run)['epochs_done'] == 2
    assert (run / 'best.keras').read_bytes() == b'epoch 2'
    assert not list(run.glob('*.pending.keras'))
    assert _log_epochs(run) == [1, 2]


def test_run_killed_in_its_first_epoch_has_nothing_to_resume(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'last.epoch-0001.pending.keras').write_bytes(b'half')
    assert recover_checkpoints(run) is None
    assert list(run.iterdir()) == []


def _damaged_run(tmp_path: Path, fer2013_csv: Path) -> Path:
    from dataclasses import asdict

    from fer_ros.training.train import TrainConfig

    run = _committed_run(tmp_path, 1)
    cfg = TrainConfig(data=str(fer2013_csv), run_dir=str(run), limit=16, preprocessing='grey')
    (run / 'run.json').write_text(json.dumps(asdict(cfg)))
    (run / 'labels.json').write_text(json.dumps({'labels': ['a'] * 7}))
    return run


@pytest.mark.training
@needs_tensorflow
@pytest.mark.parametrize(
    ('damage', 'message'),
    [
        ('state.json', r'state\.json is unreadable or not JSON'),
        ('run.json', r'run\.json is unreadable or not JSON'),
        ('last.keras', r'last\.keras: cannot load this Keras checkpoint .*must start again'),
    ],
)
def test_resume_from_damaged_files_fails_in_one_line(
    tmp_path, fer2013_csv, capsys, damage, message
):
    from fer_ros import cli

    run = _damaged_run(tmp_path, fer2013_csv)
    path = run / damage
    path.write_bytes(
        path.read_bytes()[:9] if damage.endswith('.json') else b'PK\x03\x04 not a zip'
    )
    assert cli.main(['train', '--data', str(fer2013_csv), '--run-dir', str(run), '--resume']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and re.search(message, err), err
