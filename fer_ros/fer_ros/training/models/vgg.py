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
A compact VGG-style network.

Pairs of 3x3 conv + BN + ReLU, max-pool after each pair, global average pooling, dropout, softmax.

Plain stacked 3x3 convolutions are what the strongest single FER2013 models of
the literature use (e.g. Khaireddin & Chen 2021, VGG variants at ~73%); this is
a narrow version sized to train on a CPU and run in well under a millisecond.
``width`` scales all layers, ``stages`` sets the number of conv pairs.
"""

from __future__ import annotations

import keras
from keras import layers

from .layers import conv_bn, model_input, scaled


def vgg_small(
    input_size: int = 48,
    channels: int = 1,
    num_classes: int = 7,
    width: float = 1.0,
    stages: int = 4,
    dropout: float = 0.4,
) -> keras.Model:
    """Build it; ``width=1`` has widths 32, 64, 128, 256."""
    if not 1 <= stages <= 5:
        raise ValueError(f'stages must be within 1..5, got {stages}')
    inputs = model_input(input_size, channels)
    x = inputs
    for i in range(stages):
        filters = scaled(32 * 2**i, width)
        x = conv_bn(x, filters, name=f's{i + 1}a')
        x = conv_bn(x, filters, name=f's{i + 1}b')
        if i < stages - 1:
            x = layers.MaxPooling2D(2, name=f's{i + 1}_pool')(x)
    x = layers.GlobalAveragePooling2D(name='gap')(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name='dropout')(x)
    outputs = layers.Dense(
        num_classes, activation='softmax', dtype='float32', name='probabilities'
    )(x)
    return keras.Model(inputs, outputs, name='vgg_small')
