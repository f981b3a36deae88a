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
Tiny ONNX models built in the test, for the classifier's metadata and shape checks.

They stand in for a trained model where only the contract matters: one
float32 NHWC input, one (N x C) output, metadata written by ``ModelInfo.to_metadata``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

onnx = __import__('pytest').importorskip('onnx', reason='onnx is in the train extra')
from onnx import helper, numpy_helper, TensorProto  # noqa: E402


def linear_softmax_model(
    path: Path,
    size: int = 48,
    channels: int = 1,
    classes: int = 7,
    metadata: Optional[Dict[str, str]] = None,
    softmax: bool = True,
    batch: object = 'N',
    input_shape: Optional[Sequence[object]] = None,
    seed: int = 0,
) -> Path:
    """Flatten -> MatMul -> Add -> (Softmax): a deterministic linear classifier on raw pixels."""
    rng = np.random.default_rng(seed)
    features = size * size * channels
    weights = rng.normal(0, 0.05, (features, classes)).astype(np.float32)
    bias = rng.normal(0, 0.1, (classes,)).astype(np.float32)
    shape = list(input_shape) if input_shape is not None else [batch, size, size, channels]
    nodes = [
        helper.make_node('Flatten', ['input'], ['flat'], axis=1),
        helper.make_node('MatMul', ['flat', 'W'], ['logits0']),
        helper.make_node('Add', ['logits0', 'B'], ['logits' if softmax else 'probabilities']),
    ]
    if softmax:
        nodes.append(helper.make_node('Softmax', ['logits'], ['probabilities'], axis=-1))
    graph = helper.make_graph(
        nodes,
        'tiny',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [batch, classes])],
        initializer=[numpy_helper.from_array(weights, 'W'), numpy_helper.from_array(bias, 'B')],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
