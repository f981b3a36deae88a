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
Architectures: registry, arguments, the papers' layers, learned additive attention, ONNX.

The papers: Huo et al. 2022 and Yengikand et al. 2023.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip('tensorflow')
pytestmark = pytest.mark.training

from fer_ros.errors import SettingsError  # noqa: E402, I100 (after the skip check)
from fer_ros.training.complexity import count_macs  # noqa: E402
from fer_ros.training.models import (  # noqa: E402
    ARCHITECTURE_NAMES,
    build_model,
    get_architecture,
    parse_arch_args,
)


@pytest.mark.parametrize('name', ARCHITECTURE_NAMES)
def test_every_architecture_builds_with_softmax_output(name):
    arch = get_architecture(name)
    channels = 3 if arch.preprocessing == 'canny_grey_grey' else 1
    args = {'alpha': 0.25, 't': 2.0} if name.startswith('huo2022') else {}
    model = build_model(name, 48, channels, 7, args)
    assert model.input_shape == (None, 48, 48, channels)
    assert model.output_shape == (None, 7)
    assert model.layers[-1].name == 'probabilities'


def test_huo2022_paper_setting_matches_paper_size():
    model = build_model('huo2022', 48, 3, 7, {'alpha': 1.0, 't': 6.0})
    assert 9.0e6 < model.count_params() < 9.6e6  # the paper's Table 2 network: about 9.3 M
    assert 1.8e9 < count_macs(model) < 2.3e9  # about 2 GMAC per face
    slim = build_model('huo2022', 48, 3, 7, {'alpha': 0.5, 't': 2.0})
    assert slim.count_params() < model.count_params() / 5


def test_arch_args_are_typed_and_checked():
    huo = get_architecture('huo2022')
    assert parse_arch_args(huo, ['alpha=0.5', 't=2']) == {'alpha': 0.5, 't': 2.0}
    with pytest.raises(SettingsError, match='KEY=VALUE with KEY in: .*alpha'):
        parse_arch_args(huo, ['width=2'])
    with pytest.raises(SettingsError, match='must be a float'):
        parse_arch_args(huo, ['alpha=big'])
    with pytest.raises(SettingsError, match="unknown architecture 'resnet'; allowed: huo2022"):
        get_architecture('resnet')
    with pytest.raises(SettingsError, match='cannot build'):
        build_model('huo2022', 48, 3, 7, {'alpha': -1.0})


def _layer_types(model, prefix):
    return [type(layer).__name__ for layer in model.layers if layer.name.startswith(prefix)]


def test_huo2022_follows_the_papers_convolution_order_activations_and_widths():
    paper = build_model('huo2022', 48, 3, 7, {'alpha': 1.0, 't': 6.0})
    # Separable conv = pointwise 1x1 first, then the 3x3 depthwise (section 3, Fig. 6) ...
    assert _layer_types(paper, 'res1_a_')[:2] == ['Conv2D', 'DepthwiseConv2D']
    # ... and ReLU6 after both convs of a residual module, the second included.
    assert paper.get_layer('res1_b_relu').max_value == 6.0
    assert paper.get_layer('res3_a_pw').filters == 364  # Table 2's width, not rounded to 368
    xception = build_model('huo2022_xception', 48, 3, 7, {'alpha': 1.0, 't': 6.0})
    assert 'SeparableConv2D' in _layer_types(xception, 'res1_a_')
    assert 'res1_b_relu' not in [layer.name for layer in xception.layers]
    assert xception.get_layer('res3_a_sep').filters == 368


def test_yengikand2023_has_the_papers_extractor_and_learned_additive_attention():
    model = build_model('yengikand2023', 48, 1, 7, {})
    assert [model.get_layer(f'pool{i}').output.shape[1] for i in (1, 2, 3)] == [24, 12, 6]
    assert [model.get_layer(f'conv{i}_relu').max_value for i in (1, 2, 3)] == [None] * 3
    assert _layer_types(model, 'sep') == ['SeparableConv2D', 'BatchNormalization', 'ReLU'] * 3
    attention = model.get_layer('additive_attention')
    assert {w.path.rsplit('/', 1)[1] for w in attention.weights} == {
        'w_query',
        'w_key',
        'bias',
        'v',
    }
    assert model.get_layer('mlp_dropout2').rate == 0.2  # one of the paper's 0.1, 0.2, 0.3


def test_additive_attention_computes_the_papers_score():
    from fer_ros.training.models.attention import AdditiveSelfAttention

    rng = np.random.default_rng(0)
    h = rng.normal(size=(2, 5, 4)).astype(np.float32)
    layer = AdditiveSelfAttention(3)
    out = np.asarray(layer(h))
    wq, wk, b, v = (np.asarray(w) for w in (layer.w_query, layer.w_key, layer.bias, layer.v))
    w_a = np.concatenate([wq, wk])  # the paper's W_a applied to [h_i; h_j]
    expected = np.zeros_like(h)
    for n in range(2):
        scores = np.array(
            [
                [(np.tanh(np.concatenate([h[n, i], h[n, j]]) @ w_a + b) @ v)[0] for j in range(5)]
                for i in range(5)
            ]
        )
        weights = np.exp(scores - scores.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        expected[n] = weights @ h[n]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert layer.macs(5, 4) == 2 * 5 * 4 * 3 + 5 * 5 * 3 + 5 * 5 * 4


def test_yengikand2023_survives_save_load_and_onnx_conversion(tmp_path):
    from fer_ros.model_metadata import FER2013_LABELS, ModelInfo
    from fer_ros.training.evaluate import load_checkpoint
    from fer_ros.training.export import convert_to_onnx, parity

    model = build_model('yengikand2023', 48, 1, 7, {'width': 0.5})
    faces = np.random.default_rng(1).random((4, 48, 48, 1), dtype=np.float32)
    model.save(tmp_path / 'm.keras')
    loaded = load_checkpoint(tmp_path / 'm.keras')
    np.testing.assert_allclose(loaded.predict(faces, verbose=0), model.predict(faces, verbose=0))
    proto = convert_to_onnx(loaded, ModelInfo(FER2013_LABELS, 'grey', 48))
    assert parity(loaded, proto, faces) < 1e-5


def test_a_fresh_process_loads_a_yengikand2023_checkpoint(tmp_path):
    """Export, eval and --resume run in a new process that has never built the network."""
    import subprocess
    import sys

    build_model('yengikand2023', 48, 1, 7, {'width': 0.25}).save(tmp_path / 'm.keras')
    script = (
        'import sys; from fer_ros.training.evaluate import load_checkpoint; '
        'print(load_checkpoint(sys.argv[1]).get_layer("additive_attention").units)'
    )
    done = subprocess.run(
        [sys.executable, '-c', script, str(tmp_path / 'm.keras')],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == '64'


@pytest.mark.parametrize(
    'name, args, preprocessing',
    [
        ('huo2022', {'alpha': 0.25, 't': 2.0}, 'canny_grey_grey'),
        ('yengikand2023', {'width': 0.25}, 'grey'),
    ],
)
def test_a_bfloat16_trained_checkpoint_exports_as_float32(tmp_path, name, args, preprocessing):
    """``--precision mixed_bfloat16`` runs export to a float32 ONNX graph that matches Keras."""
    from fer_ros.model_metadata import FER2013_LABELS, ModelInfo
    from fer_ros.training.evaluate import float32_model, load_checkpoint
    from fer_ros.training.export import convert_to_onnx, parity
    from fer_ros.training.train import dtype_policy
    import onnx

    info = ModelInfo(FER2013_LABELS, preprocessing, 48)
    with dtype_policy('mixed_bfloat16'):
        build_model(name, 48, info.channels, 7, args).save(tmp_path / 'm.keras')
    mixed = load_checkpoint(tmp_path / 'm.keras')
    assert 'bfloat16' in {layer.compute_dtype for layer in mixed.layers}
    model = float32_model(mixed)
    assert {layer.compute_dtype for layer in model.layers} == {'float32'}
    proto = convert_to_onnx(model, info)
    bf16 = onnx.TensorProto.BFLOAT16
    assert all(t.type.tensor_type.elem_type != bf16 for t in proto.graph.value_info)
    assert all(t.data_type != bf16 for t in proto.graph.initializer)
    x = np.random.default_rng(0).random((16, 48, 48, info.channels), dtype=np.float32)
    assert parity(model, proto, x) <= 1e-4
    # Same weights: the float32 copy differs from the bfloat16 model by rounding only.
    assert np.abs(model.predict(x, verbose=0) - mixed.predict(x, verbose=0)).max() < 0.05


def test_a_bfloat16_trained_checkpoint_is_evaluated_in_float32(tmp_path):
    """``fer-ros eval runs/X`` and ``--teacher runs/X`` score the float32 model that ships."""
    import json

    from fer_ros.model_metadata import FER2013_LABELS
    from fer_ros.training.evaluate import float32_model, load_checkpoint, load_predictor
    from fer_ros.training.train import dtype_policy

    with dtype_policy('mixed_bfloat16'):
        build_model('vgg_small', 48, 1, 7, {'width': 0.25}).save(tmp_path / 'm.keras')
    (tmp_path / 'run.json').write_text(json.dumps({'preprocessing': 'grey'}))
    (tmp_path / 'labels.json').write_text(json.dumps({'labels': list(FER2013_LABELS)}))
    x = np.random.default_rng(0).random((8, 48, 48, 1), dtype=np.float32)
    mixed = load_checkpoint(tmp_path / 'm.keras')
    expected = float32_model(mixed).predict(x, verbose=0)
    got = load_predictor(str(tmp_path / 'm.keras')).predict(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.abs(got - mixed.predict(x, verbose=0)).max() > 1e-6, 'bf16 rounding not seen'
