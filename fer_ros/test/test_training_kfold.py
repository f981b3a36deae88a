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

"""``fer-ros train --kfold`` (Huo's protocol) and ``--train-on``, end to end on a few rows."""

from __future__ import annotations

import json
import logging

import pytest

pytest.importorskip('tensorflow')
pytestmark = [pytest.mark.training, pytest.mark.slow]

from fer_ros import cli  # noqa: E402, I100 (after the skip check)

ROWS = 40  # per split: 120 faces in 3 folds


def test_kfold_over_all_splits_tests_every_face_once_and_resumes(fer2013_csv, tmp_path, capsys):
    run = tmp_path / 'kfold'
    words = ['train', '--data', str(fer2013_csv), '--run-dir', str(run)]
    recipe = ['--arch', 'mini_xception', '--arch-arg', 'width=0.25', '--epochs', '1']
    recipe += ['--batch-size', '16', '--kfold', '3', '--kfold-scope', 'all', '--limit', str(ROWS)]
    assert cli.main([*words, *recipe]) == 0
    summary = json.loads((run / 'kfold.json').read_text())
    assert summary['kfold'] == 3 and summary['kfold_scope'] == 'all'
    assert sum(fold['test_faces'] for fold in summary['folds']) == 3 * ROWS
    assert [fold['fold'] for fold in summary['folds']] == [0, 1, 2]
    for fold in summary['folds']:
        assert 0 <= fold['test_accuracy'] <= 1 and fold['best_epoch'] == 1
        assert json.loads((run / f'fold_{fold["fold"]}' / 'test.json').read_text()) == fold
        settings = json.loads((run / f'fold_{fold["fold"]}' / 'run.json').read_text())
        assert settings['kfold_scope'] == 'all' and settings['fold'] == fold['fold']
    capsys.readouterr()
    assert cli.main([*words, '--resume']) == 0  # every fold done: nothing retrained or retested
    assert json.loads(capsys.readouterr().out)['folds'] == summary['folds']


def test_training_on_training_and_publictest_keeps_the_last_epoch(fer2013_csv, tmp_path, caplog):
    """No epoch is chosen on PublicTest: the log, state and the exported card all say so."""
    run = tmp_path / 'final'
    words = ['train', '--data', str(fer2013_csv), '--run-dir', str(run), '--limit', str(ROWS)]
    words += ['--arch', 'mini_xception', '--arch-arg', 'width=0.25', '--batch-size', '16']
    with caplog.at_level(logging.INFO, logger='fer_ros.training.checkpoints'):
        assert cli.main([*words, '--epochs', '2', '--train-on', 'Training+PublicTest']) == 0
    epoch_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith('epoch ')]
    assert len(epoch_lines) == 2, epoch_lines
    for line in epoch_lines:  # no NaN accuracy or "best" claim where nothing was validated
        assert 'no validation split, the last epoch is kept' in line and 'nan' not in line, line
    state = json.loads((run / 'state.json').read_text())
    assert state['epochs_done'] == 2 and state['best_epoch'] == 2  # no selection: the last one
    assert all('val_accuracy' not in epoch for epoch in state['history'])
    assert (run / 'best.keras').read_bytes() == (run / 'last.keras').read_bytes()
    settings = json.loads((run / 'run.json').read_text())
    assert settings['train_on'] == 'Training+PublicTest'
    _check_cards_of_a_run_trained_on_publictest(run, fer2013_csv, tmp_path / 'export')


def _check_cards_of_a_run_trained_on_publictest(run, fer2013_csv, out):
    """Its card states what it trained on and claims no PublicTest selection (was -100.00%)."""
    from fer_ros.training.data import read_fer2013
    from fer_ros.training.export import export

    faces = read_fer2013(fer2013_csv, splits=['PrivateTest'], limit=ROWS)['PrivateTest']
    export(str(run), str(out / 'm.onnx'), faces, cards=True)
    card = json.loads((out / 'm.json').read_text())
    assert card['trained_on'] == 'Training+PublicTest'
    assert card['public_test_accuracy_best_epoch'] is None
    assert '--train-on Training+PublicTest' in card['training_command']
    text = (out / 'm.md').read_text()
    assert '| PublicTest accuracy | - (trained on it; the last of 2 epochs is kept) |' in text
    assert 'protocol: train on Training+PublicTest' in text
    assert 'epoch selection' not in text and 'incl. validation' not in text
