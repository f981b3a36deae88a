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

"""Mixup and CutMix: blended faces carry targets and sample weights blended alike."""

from __future__ import annotations

import argparse
import shlex

import numpy as np
import pytest

pytest.importorskip('keras', reason='needs the `train` extra')
pytestmark = pytest.mark.training

from fer_ros.commands import train as train_command  # noqa: E402, I100 (after the skip check)
from fer_ros.errors import SettingsError  # noqa: E402
from fer_ros.model_metadata import FER2013_LABELS  # noqa: E402
from fer_ros.training.augment import AugmentSettings  # noqa: E402
from fer_ros.training.config import TrainConfig, training_command  # noqa: E402
from fer_ros.training.data import FaceDataset  # noqa: E402
from fer_ros.training.mixing import mix_batch, MixSettings  # noqa: E402
from fer_ros.training.sequence import FaceBatches  # noqa: E402

N, SIZE, CLASSES = 16, 48, 7


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((N, SIZE, SIZE, 1), dtype=np.float32)
    classes = np.arange(N) % CLASSES
    y = np.eye(CLASSES, dtype=np.float32)[classes]
    weights = rng.uniform(0.5, 2.0, N).astype(np.float32)
    return x, y, weights, classes


def test_mixup_blends_faces_targets_and_weights_with_one_share():
    x, y, w, classes = _batch()
    before = (x.copy(), y.copy(), w.copy())
    mx, my, mw = mix_batch(x, y, w, np.random.default_rng(3), MixSettings(mixup=1.0))
    for original, kept in zip((x, y, w), before):  # inputs untouched
        np.testing.assert_array_equal(original, kept)
    np.testing.assert_allclose(my.sum(axis=1), 1.0, atol=1e-6)
    # Replay the draws: the same share and pairing explain faces, targets and weights.
    rng = np.random.default_rng(3)
    rng.random()
    lam = rng.beta(1.0, 1.0)
    partner = rng.permutation(N)
    assert 0 < lam < 1
    np.testing.assert_allclose(mx, lam * x + (1 - lam) * x[partner], rtol=1e-6)
    np.testing.assert_allclose(my, lam * y + (1 - lam) * y[partner], atol=1e-6)
    np.testing.assert_allclose(mw, lam * w + (1 - lam) * w[partner], rtol=1e-6)
    assert mx.dtype == x.dtype and my.dtype == y.dtype and mw.dtype == w.dtype


def test_cutmix_pastes_one_box_and_targets_follow_its_area():
    x, y, w, classes = _batch()
    mx, my, _ = mix_batch(x, y, w, np.random.default_rng(5), MixSettings(cutmix=1.0))
    changed = np.any(mx != x, axis=(0, 3))  # pixels changed in any face: the box
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    assert rows.size and cols.size
    box = np.zeros_like(changed)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box[top:bottom, left:right] = True
    np.testing.assert_array_equal(changed, box)  # one rectangle, the same in every face
    np.testing.assert_array_equal(mx[:, ~box], x[:, ~box])  # outside it, nothing moved
    kept = 1.0 - box.sum() / box.size
    own = my[np.arange(N), classes]
    paired_same_class = own > 0.999  # a face paired with its own class keeps all of it
    np.testing.assert_allclose(own[~paired_same_class], kept, atol=1e-6)
    np.testing.assert_allclose(my.sum(axis=1), 1.0, atol=1e-6)
    # Inside the box every face holds another face's pixels of the batch.
    for i in range(N):
        inside = mx[i][box]
        assert any(np.array_equal(inside, x[j][box]) for j in range(N))


def test_off_unlucky_or_single_face_batches_are_returned_as_they_are():
    x, y, w, _ = _batch()
    rng = np.random.default_rng(0)
    for settings in (MixSettings(), MixSettings(mixup=0.4, prob=0.0)):
        out = mix_batch(x, y, w, rng, settings)
        assert out[0] is x and out[1] is y and out[2] is w
    single = mix_batch(x[:1], y[:1], None, rng, MixSettings(mixup=0.4))
    assert single[0] is not None and single[2] is None
    np.testing.assert_array_equal(single[0], x[:1])
    # prob: about that share of batches is mixed.
    mixed = sum(
        mix_batch(x, y, w, rng, MixSettings(mixup=0.4, prob=0.3))[0] is not x for _ in range(400)
    )
    assert 80 < mixed < 160


def test_both_methods_share_the_batches_between_them():
    x, y, w, _ = _batch()
    rng = np.random.default_rng(1)
    kinds = {'mixup': 0, 'cutmix': 0}
    for _ in range(200):
        mx = mix_batch(x, y, w, rng, MixSettings(mixup=1.0, cutmix=1.0))[0]
        untouched = np.all(mx == x, axis=(0, 3))  # cutmix leaves the rest of the face alone
        kinds['cutmix' if untouched.any() else 'mixup'] += 1
    assert 60 < kinds['mixup'] < 140 and 60 < kinds['cutmix'] < 140


def _faces():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, SIZE, SIZE), dtype=np.uint8)
    return FaceDataset(images, np.arange(40) % CLASSES, FER2013_LABELS, 'random faces')


def _batches(mix, seed=0):
    weights = np.linspace(0.5, 2.0, CLASSES)
    return FaceBatches(
        _faces(), 'grey', 8, AugmentSettings(), True, seed, sample_weights=weights, mix=mix
    )


def test_batches_mix_after_augmenting_and_repeat_for_the_same_seed_epoch_and_index():
    plain, mixed, again = (
        _batches(None),
        _batches(MixSettings(mixup=0.4)),
        _batches(MixSettings(mixup=0.4)),
    )
    for batches in (plain, mixed, again):
        batches.set_epoch(2)
    x, y, w = mixed[1]
    np.testing.assert_array_equal(x, again[1][0])  # a resumed run sees the same batch
    px, py, pw = plain[1]
    assert not np.array_equal(x, px) and not np.array_equal(y, py)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-6)
    assert w.min() >= pw.min() - 1e-6 and w.max() <= pw.max() + 1e-6  # weights blended
    # The faces mixed are this batch's augmented faces: mixup is in their span.
    rng = np.random.default_rng([0, 2, 1, 1])
    rng.random()
    lam = rng.beta(0.4, 0.4)
    partner = rng.permutation(len(px))
    np.testing.assert_allclose(x, lam * px + (1 - lam) * px[partner], rtol=1e-5, atol=1e-6)


def test_mixing_settings_are_checked_parsed_and_named_in_the_reproducing_command():
    for bad in ({'mixup': -0.1}, {'cutmix': 11.0}, {'mix_prob': 1.5}):
        with pytest.raises(SettingsError, match='mixup alpha|cutmix alpha|mix probability'):
            TrainConfig(data='d', run_dir='r', **bad).validate()
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    words = ['--data', 'd.csv', '--run-dir', 'r', '--cutmix', '1', '--mix-prob', '0.5']
    cfg = train_command.run_settings(parser.parse_args(words))
    assert (cfg.mixup, cfg.cutmix, cfg.mix_prob) == (0.0, 1.0, 0.5)
    command = training_command(vars(cfg))
    assert '--mixup 0.0 --cutmix 1.0 --mix-prob 0.5' in command
    again = train_command.run_settings(parser.parse_args(shlex.split(command)[2:]))
    assert again == cfg
    assert '--mixup' not in training_command(vars(TrainConfig(data='d', run_dir='r')))
