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
The shipped models: metadata, size, and PrivateTest accuracy equal to their model cards.

Each shipped ``<name>.onnx`` has ``<name>.json`` (its card's figures) and
``<name>.md``; the accuracy is re-measured here on the full FER2013 PrivateTest
split with ONNX Runtime only (no TensorFlow needed).
"""

from __future__ import annotations

import json

from fer_ros.model_metadata import FER2013_LABELS, KEY_ACCURACY
from fer_ros.resources import MODELS_DIR
from fer_ros.training.evaluate import evaluate, load_predictor
import pytest

SHIPPED = sorted(MODELS_DIR.glob('*.onnx'))


def test_default_and_int8_are_shipped():
    names = {p.name for p in SHIPPED}
    assert 'fer_default.onnx' in names
    assert 'fer_default_int8.onnx' in names


@pytest.mark.parametrize('model', SHIPPED, ids=[p.name for p in SHIPPED])
def test_card_files_and_metadata(model):
    card = json.loads(model.with_suffix('.json').read_text())
    assert model.with_suffix('.md').is_file()
    predictor = load_predictor(str(model))
    assert predictor.info.labels == FER2013_LABELS
    assert card['labels'] == list(FER2013_LABELS)
    assert model.stat().st_size == card['bytes'] and card['bytes'] < 5_000_000
    assert float(predictor.info.extra[KEY_ACCURACY]) == pytest.approx(
        card['private_test_accuracy'], abs=1e-4
    )


@pytest.mark.slow
@pytest.mark.parametrize('model', SHIPPED, ids=[p.name for p in SHIPPED])
def test_private_test_accuracy_matches_card(model, fer2013_private_test):
    card = json.loads(model.with_suffix('.json').read_text())
    report = evaluate(load_predictor(str(model)), fer2013_private_test)
    assert report['n'] == 3589
    assert abs(report['accuracy'] - card['private_test_accuracy']) <= 0.005
    for name, recall in card['per_class_recall'].items():
        assert abs(report['per_class'][name]['recall'] - recall) <= 0.02, name
