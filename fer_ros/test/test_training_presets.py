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

"""``fer-ros train --recipe``: paper presets, command-line overrides, reproducing commands."""

from __future__ import annotations

import argparse
import shlex

import pytest

pytest.importorskip('keras', reason='needs the `train` extra')
pytestmark = pytest.mark.training

from fer_ros.commands import train as train_command  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.training.config import TrainConfig, training_command  # noqa: E402


def _settings(*words: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    return train_command.run_settings(
        parser.parse_args(['--data', 'd.csv', '--run-dir', 'r', *words])
    )


def test_the_default_recipe_is_trainconfigs_defaults():
    assert _settings() == TrainConfig(data='d.csv', run_dir='r')


def test_teachers_repeat_in_the_order_given():
    cfg = _settings('--teacher', 'a.onnx', '--teacher', 'b.onnx', '--distill-weight', '0.7')
    assert cfg.teachers == ['a.onnx', 'b.onnx'] and cfg.distill_weight == 0.7
    assert _settings().teachers == []  # no distillation unless asked


def test_yengikand_recipe_is_the_papers_training():
    cfg = _settings('--recipe', 'yengikand2023')
    assert (cfg.architecture, cfg.epochs, cfg.batch_size) == ('yengikand2023', 20, 32)
    assert (cfg.learning_rate, cfg.lr_schedule, cfg.weight_decay) == (1e-3, 'constant', 0.0)
    assert (cfg.class_weighting, cfg.label_smoothing, cfg.random_erasing) == ('none', 0.0, 0.0)
    assert cfg.recipe == 'yengikand2023'


def test_options_on_the_command_line_override_the_recipe():
    cfg = _settings('--recipe', 'yengikand2023', '--batch-size', '64', '--arch-arg', 'width=0.5')
    assert cfg.batch_size == 64 and cfg.arch_args == {'width': 0.5}
    assert cfg.learning_rate == 1e-3  # the rest stays the recipe's


def test_huo_recipe_merges_arch_args_and_folds_everything():
    cfg = _settings('--recipe', 'huo2022', '--arch-arg', 'alpha=0.25')
    assert cfg.arch_args == {'alpha': 0.25, 't': 6.0}
    assert (cfg.kfold, cfg.kfold_scope) == (10, 'all')
    other = _settings('--recipe', 'huo2022', '--arch', 'vgg_small', '--kfold', '0')
    assert other.arch_args == {} and other.kfold == 0  # alpha/t belong to huo2022


def test_the_reproducing_command_gives_back_the_same_settings():
    for words in (
        ('--recipe', 'huo2022', '--arch-arg', 'alpha=0.5', '--kfold-scope', 'training'),
        ('--recipe', 'yengikand2023', '--no-augment', '--seed', '3'),
        ('--lr', '0.004', '--precision', 'float32'),
        ('--train-on', 'Training+PublicTest', '--epochs', '12'),
        ('--teacher', 't1.onnx', '--teacher', 'runs/t2', '--distill-temperature', '2'),
        ('--teacher', 't.onnx', '--distill-mode', 'online', '--mixup', '0.2'),
    ):
        cfg = _settings(*words)
        command = shlex.split(training_command(cfg.__dict__))
        assert command[:2] == ['fer-ros', 'train']
        again = _settings(*command[2:])
        assert again == cfg, training_command(cfg.__dict__)


@pytest.mark.parametrize(
    ('words', 'message'),
    [
        (('--kfold', '2'), 'kfold must be 0 .off. or >= 3'),
        (('--train-on', 'Training+PublicTest', '--kfold', '5'), 'no validation split: no --kfold'),
        (('--recipe', 'huo2022', '--arch-arg', 'width=2'), 'KEY=VALUE with KEY in: alpha'),
        (('--teacher', 't.onnx', '--kfold', '5'), 'has seen the test folds'),
        (('--teacher', 't.onnx', '--distill-weight', '0'), r'distill weight must be in \(0, 1\]'),
        (('--distill-temperature', '-1'), 'distill temperature must be > 0'),
        (('--distill-mode', 'online'), 'online without --teacher: nothing to distil'),
    ],
)
def test_bad_settings_are_refused_with_what_is_allowed(words, message):
    with pytest.raises(SettingsError, match=message):
        _settings(*words)


def test_an_unknown_recipe_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        _settings('--recipe', 'resnet')
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
