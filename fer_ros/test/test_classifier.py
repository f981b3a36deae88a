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

"""Classifier: refuses models without or against their metadata; batched == one by one."""

from __future__ import annotations

import json

from fer_ros.classifier import choose_providers, Classifier
from fer_ros.errors import ModelError
from fer_ros.model_metadata import FER2013_LABELS, KEY_LABELS, ModelInfo
import numpy as np
import pytest
from tiny_models import linear_softmax_model

GREY_INFO = ModelInfo(FER2013_LABELS, 'grey', 48)


def test_good_model_loads_and_reports_metadata(tmp_path):
    path = linear_softmax_model(tmp_path / 'm.onnx', metadata=GREY_INFO.to_metadata())
    clf = Classifier(path)
    assert clf.labels == FER2013_LABELS
    assert clf.input_shape == (48, 48, 1)
    assert clf.provider == 'CPUExecutionProvider'


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ModelError, match='nope.onnx'):
        Classifier(tmp_path / 'nope.onnx')


def test_not_an_onnx_file_is_named(tmp_path):
    path = tmp_path / 'junk.onnx'
    path.write_bytes(b'this is not a model')
    with pytest.raises(ModelError, match='junk.onnx'):
        Classifier(path)


def test_model_without_metadata_is_refused(tmp_path):
    path = linear_softmax_model(tmp_path / 'bare.onnx', metadata=None)
    with pytest.raises(ModelError, match=r'bare\.onnx.*not a fer_ros model'):
        Classifier(path)


def test_output_size_disagreeing_with_labels_is_refused(tmp_path):
    meta = GREY_INFO.to_metadata()
    meta[KEY_LABELS] = json.dumps(['happy', 'sad', 'neutral'])  # model has 7 outputs
    path = linear_softmax_model(tmp_path / 'mismatch.onnx', metadata=meta)
    with pytest.raises(ModelError, match=r'mismatch\.onnx.*3 labels'):
        Classifier(path)


def test_dynamic_output_size_disagreeing_with_labels_is_refused(tmp_path):
    # Output declared with a symbolic class dim: refused either from ONNX Runtime's inferred
    # shape or, where it cannot infer it, by the probe run at load time.
    meta = ModelInfo(('a', 'b', 'c', 'd', 'e'), 'grey', 48).to_metadata()
    path = tmp_path / 'dyn.onnx'
    linear_softmax_model(path, classes=7, metadata=meta)
    import onnx

    model = onnx.load(str(path))
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = 'C'
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match=r"dyn\.onnx.*(7 values per face|\['N', 7\]).*5 labels"):
        Classifier(path)


def test_input_shape_disagreeing_with_metadata_is_refused(tmp_path):
    # metadata says canny_grey_grey (3 channels) at 48px but the model takes 1 channel
    meta = ModelInfo(FER2013_LABELS, 'canny_grey_grey', 48).to_metadata()
    path = linear_softmax_model(tmp_path / 'channels.onnx', channels=1, metadata=meta)
    with pytest.raises(ModelError, match=r'channels\.onnx.*input shape'):
        Classifier(path)
    meta = ModelInfo(FER2013_LABELS, 'grey', 64).to_metadata()
    path = linear_softmax_model(tmp_path / 'size.onnx', size=48, metadata=meta)
    with pytest.raises(ModelError, match=r'size\.onnx.*input shape'):
        Classifier(path)


def test_model_without_softmax_is_refused(tmp_path):
    path = linear_softmax_model(
        tmp_path / 'logits.onnx', softmax=False, metadata=GREY_INFO.to_metadata()
    )
    with pytest.raises(ModelError, match=r'logits\.onnx.*not a probability'):
        Classifier(path)


def test_batched_and_one_by_one_agree(tmp_path):
    path = linear_softmax_model(tmp_path / 'm.onnx', metadata=GREY_INFO.to_metadata())
    clf = Classifier(path)
    rng = np.random.default_rng(3)
    batch = rng.random((9, 48, 48, 1), dtype=np.float32)
    together = clf.predict(batch)
    single = np.concatenate([clf.predict(face[np.newaxis]) for face in batch])
    assert together.shape == (9, 7)
    np.testing.assert_allclose(together, single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)
    assert len(set(together.argmax(axis=1))) > 1  # a real function of the input, not a constant


def test_fixed_batch_one_model_runs_face_by_face(tmp_path):
    path = linear_softmax_model(tmp_path / 'b1.onnx', batch=1, metadata=GREY_INFO.to_metadata())
    dynamic = linear_softmax_model(tmp_path / 'dyn.onnx', metadata=GREY_INFO.to_metadata())
    batch = np.random.default_rng(4).random((4, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(
        Classifier(path).predict(batch), Classifier(dynamic).predict(batch), rtol=1e-5
    )


def test_wrong_batch_shape_is_rejected(tmp_path):
    clf = Classifier(linear_softmax_model(tmp_path / 'm.onnx', metadata=GREY_INFO.to_metadata()))
    with pytest.raises(ValueError, match='expected a batch'):
        clf.predict(np.zeros((2, 48, 48, 3), dtype=np.float32))


def test_provider_fallback_skips_unavailable_providers(caplog):
    with caplog.at_level('INFO', logger='fer_ros.classifier'):
        chosen = choose_providers(
            ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider']
        )
    names = [p[0] if isinstance(p, tuple) else p for p in chosen]
    assert names[-1] == 'CPUExecutionProvider'
    import onnxruntime as ort

    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        assert 'CUDAExecutionProvider' not in names
        assert 'CUDAExecutionProvider is not available' in caplog.text
    assert (
        choose_providers(
            ['CoreMLExecutionProvider']
            if 'CoreMLExecutionProvider' not in ort.get_available_providers()
            else []
        )[-1]
        == 'CPUExecutionProvider'
    )
