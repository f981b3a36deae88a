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
Huo et al. 2022 (Table 2; see docs/models.md).

Xception-style residual modules and MobileNetV2 inverted residuals on the [Canny, grey, grey]
input.

``huo2022`` follows the paper: its separable convolution is pointwise then depthwise
(section 3, Fig. 6), every convolution but the inverted residuals' linear projection is
followed by BN + ReLU6, and the widths are the table's (364 stays 364 at ``alpha=1``).
``huo2022_xception`` is the earlier, Xception-flavoured reading kept as a named alternative:
Keras' depthwise-first ``SeparableConv2D``, no ReLU6 after the residual modules' second
convolution, widths rounded to multiples of 8.

``alpha`` scales every layer's width (1.0 = the paper), ``t`` is the inverted residuals'
expansion factor (6 in the paper). The paper setting has about 9.3 M parameters and 2 GMAC
per face; ``alpha=0.5, t=2`` is the slim setting that trains on a CPU.
"""

from __future__ import annotations

from functools import partial

import keras
from keras import layers

from .layers import (
    conv_bn,
    inverted_residual,
    model_input,
    pointwise_depthwise_bn,
    residual_module,
    scaled,
    sepconv_bn,
)

# Huo's widths are multiples of 4 (364 = 4 x 91); rounding to 4 keeps them exact at alpha=1.
PAPER_DIVISOR = 4


def huo2022(
    input_size: int = 48,
    channels: int = 3,
    num_classes: int = 7,
    alpha: float = 1.0,
    t: float = 6.0,
    dropout: float = 0.0,
) -> keras.Model:
    """Build Huo et al.'s network as the paper describes it (see the module docstring)."""
    return _build(input_size, channels, num_classes, alpha, t, dropout, paper=True)


def huo2022_xception(
    input_size: int = 48,
    channels: int = 3,
    num_classes: int = 7,
    alpha: float = 1.0,
    t: float = 6.0,
    dropout: float = 0.0,
) -> keras.Model:
    """Build the Xception-flavoured alternative (Keras separable convs, linear second conv)."""
    return _build(input_size, channels, num_classes, alpha, t, dropout, paper=False)


def _build(
    input_size: int,
    channels: int,
    num_classes: int,
    alpha: float,
    t: float,
    dropout: float,
    paper: bool,
) -> keras.Model:
    """Table 2's layers; ``paper`` selects the paper's convolution order and activations."""
    if alpha <= 0 or t < 1:
        raise ValueError(f'need alpha > 0 and t >= 1, got alpha={alpha}, t={t}')
    divisor = PAPER_DIVISOR if paper else 8

    def c(n: int) -> int:
        return scaled(n, alpha, divisor)

    module = partial(
        residual_module,
        separable=pointwise_depthwise_bn if paper else sepconv_bn,
        second_activation=paper,
    )
    inputs = model_input(input_size, channels)
    x = conv_bn(inputs, c(32), name='conv1')
    x = conv_bn(x, c(64), name='conv2')
    x = module(x, c(128), downsample=True, name='res1')
    for i in range(4):
        x = inverted_residual(x, c(256), t, name=f'ir1_{i + 1}')
    x = module(x, c(256), downsample=True, name='res2')
    x = module(x, c(364), downsample=False, name='res3')
    x = module(x, c(364), downsample=True, name='res4')
    for i in range(2):
        x = inverted_residual(x, c(512), t, name=f'ir2_{i + 1}')
    final = pointwise_depthwise_bn if paper else sepconv_bn
    x = final(x, c(728), name='sep_final')
    x = layers.GlobalAveragePooling2D(name='gap')(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name='dropout')(x)
    # The paper's "1x1 conv to 7" on the pooled 1x1 map is a dense layer.
    outputs = layers.Dense(
        num_classes, activation='softmax', dtype='float32', name='probabilities'
    )(x)
    return keras.Model(inputs, outputs, name='huo2022' if paper else 'huo2022_xception')
