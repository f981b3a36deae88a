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
Every broken model stops start-up with ONE line naming the file and the problem.

The same :class:`ModelError` reaches the user through two doors: ``fer-ros run``
prints it (exit code 2, no traceback) and the ROS node logs it as its fatal
start-up line; the node builds its pipeline with ``Pipeline(settings)``, which is
what is checked here (the node itself needs rclpy, see test_node.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
from fer_ros import cli
from fer_ros.classifier import choose_providers, Classifier
from fer_ros.errors import ModelError
from fer_ros.model_metadata import (
    FER2013_LABELS,
    KEY_INPUT_SIZE,
    KEY_LABELS,
    KEY_PREPROCESSING,
    ModelInfo,
)
from fer_ros.pipeline import Pipeline
from fer_ros.settings import PipelineSettings
import numpy as np
from onnx import helper, numpy_helper, TensorProto
import pytest
from tiny_models import linear_softmax_model

GOOD = ModelInfo(FER2013_LABELS, 'grey', 48).to_metadata()


def _with(**changes: str) -> dict:
    meta = dict(GOOD)
    meta.update(changes)
    return meta


def _fails_at_run_time(path: Path) -> Path:
    """
    Return a model with a valid graph and metadata, but a Reshape no real batch fits.

    Fails only when run.
    """
    nodes = [
        helper.make_node('Reshape', ['input', 'shape'], ['flat']),
        helper.make_node('MatMul', ['flat', 'W'], ['logits']),
        helper.make_node('Softmax', ['logits'], ['probabilities'], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        'broken',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 48, 48, 1])],
        [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, ['N', 7])],
        initializer=[
            numpy_helper.from_array(np.array([-1, 1000], dtype=np.int64), 'shape'),
            numpy_helper.from_array(np.zeros((1000, 7), np.float32), 'W'),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    for key, value in GOOD.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path.write_bytes(model.SerializeToString())
    return path


def _truncated(path: Path) -> Path:
    whole = linear_softmax_model(path, metadata=GOOD).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # valid protobuf start, cut off
    return path


# name -> (how to make it in a folder, what the line must say besides the file name)
BROKEN = {
    'missing.onnx': (lambda p: p, 'model file not found'),
    'folder.onnx': (lambda p: (p.mkdir(), p)[1], 'is a directory'),
    'empty.onnx': (lambda p: (p.write_bytes(b''), p)[1], 'file is empty'),
    'truncated.onnx': (_truncated, 'cannot load this model'),
    'text.onnx': (
        lambda p: (p.write_text('name,value\nnot,onnx\n'), p)[1],
        'cannot load this model',
    ),
    'no_metadata.onnx': (lambda p: linear_softmax_model(p, metadata=None), 'not a fer_ros model'),
    'labels_not_json.onnx': (
        lambda p: linear_softmax_model(p, metadata=_with(**{KEY_LABELS: '[angry, happy'})),
        'fer_ros.labels is not JSON',
    ),
    'labels_vs_output.onnx': (
        lambda p: linear_softmax_model(
            p, metadata=_with(**{KEY_LABELS: json.dumps(['happy', 'sad'])})
        ),
        '2 labels',
    ),
    'unknown_mode.onnx': (
        lambda p: linear_softmax_model(p, metadata=_with(**{KEY_PREPROCESSING: 'rgb'})),
        "fer_ros.preprocessing='rgb' is unknown; allowed: grey, canny_grey_grey",
    ),
    'size_vs_graph.onnx': (
        lambda p: linear_softmax_model(p, metadata=_with(**{KEY_INPUT_SIZE: '64'})),
        'disagrees with the metadata',
    ),
    'size_not_int.onnx': (
        lambda p: linear_softmax_model(p, metadata=_with(**{KEY_INPUT_SIZE: '48px'})),
        "fer_ros.input_size='48px' is not an integer",
    ),
    'rank3_input.onnx': (
        lambda p: linear_softmax_model(p, metadata=GOOD, input_shape=['N', 48, 48]),
        'input shape',
    ),
    'fails_when_run.onnx': (_fails_at_run_time, 'fails on a test input'),
}


@pytest.fixture(params=sorted(BROKEN))
def broken_model(request, tmp_path):
    make, expected = BROKEN[request.param]
    path = make(tmp_path / request.param)
    return path, expected


def test_node_start_up_path_raises_one_line_naming_file_and_problem(broken_model):
    path, expected = broken_model
    with pytest.raises(ModelError) as error:
        Pipeline(PipelineSettings(model=str(path)))
    message = str(error.value)
    assert '\n' not in message
    assert path.name in message and expected in message


def test_cli_prints_the_same_single_line_and_exits_2(broken_model, tmp_path, monkeypatch, capsys):
    path, expected = broken_model
    image = tmp_path / 'frame.png'
    cv2.imwrite(str(image), np.full((120, 160, 3), 90, np.uint8))
    monkeypatch.chdir(tmp_path)
    assert cli.main(['run', '--model', str(path), '--source', str(image)]) == 2
    err = capsys.readouterr().err
    with pytest.raises(ModelError) as error:
        Pipeline(PipelineSettings(model=str(path)))
    assert err == f'fer-ros run: error: {error.value}\n'  # exactly one line, no traceback


def test_unavailable_provider_falls_back_with_a_warning_naming_both(tmp_path, caplog):
    import onnxruntime as ort

    missing = next(
        p
        for p in ('TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CoreMLExecutionProvider')
        if p not in ort.get_available_providers()
    )
    path = linear_softmax_model(tmp_path / 'm.onnx', metadata=GOOD)
    with caplog.at_level(logging.WARNING, logger='fer_ros.classifier'):
        clf = Classifier(path, providers=[missing, 'CPUExecutionProvider'])
    assert clf.provider == 'CPUExecutionProvider'
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert missing in warnings[0] and 'falling back to CPUExecutionProvider' in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger='fer_ros.classifier'):
        assert choose_providers([missing]) == ['CPUExecutionProvider']  # nothing left: CPU
    assert (
        f'{missing} is not available' in caplog.text
        and 'falling back to CPUExecutionProvider' in caplog.text
    )
