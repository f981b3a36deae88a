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
Yengikand et al. 2023.

A convolutional feature extractor, additive (Bahdanau) and dot-product (Luong) self-attention over
the spatial positions, and an MLP.

``yengikand2023`` follows the paper (docs/models.md says where it is silent and what we chose):
three blocks of conv 3x3 + BN + ReLU + 2x2 max-pool (48 -> 6), three separable convs + BN + ReLU
with a residual shortcut over them, then the 36 positions attend to each other with the paper's
learned additive score ``v^T tanh(W_a [h_i; h_j])`` and with dot products; the two contexts are
averaged over the positions, concatenated and classified by a ReLU MLP with dropout.

``yengikand2023_xception`` is the earlier reading kept as a named alternative: Xception
residual modules with ReLU6 and Keras' projection-free ``AdditiveAttention``.
"""

from __future__ import annotations

import keras
from keras import layers

from .attention import AdditiveSelfAttention
from .layers import conv_bn, model_input, residual_module, scaled, sepconv_bn

PAPER_DROPOUTS = (0.1, 0.2, 0.3)  # the values the paper tried


def yengikand2023(
    input_size: int = 48,
    channels: int = 1,
    num_classes: int = 7,
    width: float = 1.0,
    mlp: int = 256,
    attention_units: int = 64,
    dropout: float = 0.2,
) -> keras.Model:
    """Build the paper's network. Feature map 6x6 -> 36 positions attended."""
    if not 0 <= dropout < 1:
        raise ValueError(f'dropout must be in [0, 1) (the paper used {PAPER_DROPOUTS})')
    inputs = model_input(input_size, channels)
    x = inputs
    for i, filters in enumerate((32, 64, 128)):
        x = conv_bn(x, scaled(filters, width), name=f'conv{i + 1}', relu_max=None)
        x = layers.MaxPooling2D(2, name=f'pool{i + 1}')(x)  # 24, 12, 6
    shortcut = x
    for i in range(3):
        x = sepconv_bn(x, scaled(128, width), name=f'sep{i + 1}', relu_max=None)
    x = layers.Add(name='residual_add')([shortcut, x])
    sequence = _to_sequence(x)
    additive = AdditiveSelfAttention(attention_units, name='additive_attention')(sequence)
    dot = layers.Attention(name='dot_attention')([sequence, sequence])
    return _mlp_head(inputs, additive, dot, num_classes, mlp, dropout, dropout, 'yengikand2023')


def yengikand2023_xception(
    input_size: int = 48,
    channels: int = 1,
    num_classes: int = 7,
    width: float = 1.0,
    mlp: int = 256,
    dropout: float = 0.3,
) -> keras.Model:
    """Build the earlier alternative (Xception modules, ReLU6, Keras AdditiveAttention)."""
    inputs = model_input(input_size, channels)
    x = conv_bn(inputs, scaled(32, width), name='conv1')
    x = conv_bn(x, scaled(32, width), name='conv2')
    x = layers.MaxPooling2D(2, name='pool1')(x)  # 24x24
    x = conv_bn(x, scaled(64, width), name='conv3')
    x = residual_module(x, scaled(64, width), downsample=True, name='res1')  # 12x12
    x = residual_module(x, scaled(128, width), downsample=True, name='res2')  # 6x6
    x = residual_module(x, scaled(128, width), downsample=False, name='res3')
    sequence = _to_sequence(x)
    additive = layers.AdditiveAttention(name='additive_attention')([sequence, sequence])
    dot = layers.Attention(name='dot_attention')([sequence, sequence])
    head = (num_classes, mlp, dropout * 0.5, dropout)
    return _mlp_head(inputs, additive, dot, *head, 'yengikand2023_xception')


def _to_sequence(x):
    """(batch, h, w, c) -> (batch, h*w, c): one step per spatial position."""
    return layers.Reshape((x.shape[1] * x.shape[2], x.shape[-1]), name='to_sequence')(x)


def _pooled(additive, dot):
    """Both attention contexts averaged over the positions, side by side."""
    pooled_add = layers.GlobalAveragePooling1D(name='additive_pool')(additive)
    pooled_dot = layers.GlobalAveragePooling1D(name='dot_pool')(dot)
    return layers.Concatenate(name='attention_concat')([pooled_add, pooled_dot])


def _mlp_head(
    inputs,
    additive,
    dot,
    num_classes: int,
    mlp: int,
    first_dropout: float,
    dropout: float,
    name: str,
):
    """Pool both contexts, then dropout -> Dense(mlp, ReLU) -> dropout -> softmax."""
    x = _pooled(additive, dot)
    x = layers.Dropout(first_dropout, name='mlp_dropout1')(x)
    x = layers.Dense(mlp, activation='relu', name='mlp')(x)
    x = layers.Dropout(dropout, name='mlp_dropout2')(x)
    outputs = layers.Dense(
        num_classes, activation='softmax', dtype='float32', name='probabilities'
    )(x)
    return keras.Model(inputs, outputs, name=name)
