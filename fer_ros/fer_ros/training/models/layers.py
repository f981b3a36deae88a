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
Building blocks shared by the architectures.

Conv + BN + ReLU(6), the two orders of a separable convolution, residual modules, inverted
residuals and channel rounding.
"""

from __future__ import annotations

from typing import Callable, Optional

import keras
from keras import layers

RELU6 = 6.0  # the clipped ReLU of Huo et al. and MobileNetV2; None: plain ReLU


def scaled(channels: int, alpha: float, divisor: int = 8) -> int:
    """
    Return the channels after a width multiplier, rounded to a multiple of ``divisor``.

    Never fewer than ``divisor``.
    """
    return max(divisor, int(round(channels * alpha / divisor)) * divisor)


def _bn_relu(x, activation: bool, relu_max: Optional[float], name: str):
    x = layers.BatchNormalization(name=f'{name}_bn')(x)
    if activation:
        x = layers.ReLU(relu_max, name=f'{name}_relu')(x)
    return x


def conv_bn(
    x,
    filters: int,
    kernel: int = 3,
    strides: int = 1,
    activation: bool = True,
    name: str = '',
    relu_max: Optional[float] = RELU6,
):
    """Conv2D (no bias) -> BatchNorm -> optional ReLU6 (plain ReLU with ``relu_max=None``)."""
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding='same', use_bias=False, name=f'{name}_conv'
    )(x)
    return _bn_relu(x, activation, relu_max, name)


def sepconv_bn(
    x, filters: int, activation: bool = True, name: str = '', relu_max: Optional[float] = RELU6
):
    """Keras/Xception separable conv: 3x3 depthwise, then 1x1 pointwise; BN; optional ReLU6."""
    x = layers.SeparableConv2D(filters, 3, padding='same', use_bias=False, name=f'{name}_sep')(x)
    return _bn_relu(x, activation, relu_max, name)


def pointwise_depthwise_bn(x, filters: int, activation: bool = True, name: str = ''):
    """
    Huo et al.'s separable conv (their section 3, Fig. 6).

    1x1 pointwise to ``filters`` first, then the 3x3 depthwise conv; BN; optional ReLU6.

    The reverse of Keras' ``SeparableConv2D``: the depthwise filters run on the widened map,
    which costs more and lets each spatial filter see one output channel.
    """
    x = layers.Conv2D(filters, 1, use_bias=False, name=f'{name}_pw')(x)
    x = layers.DepthwiseConv2D(3, padding='same', use_bias=False, name=f'{name}_dw')(x)
    return _bn_relu(x, activation, RELU6, name)


SeparableBlock = Callable[..., keras.KerasTensor]


def residual_module(
    x,
    filters: int,
    downsample: bool,
    name: str,
    separable: SeparableBlock = sepconv_bn,
    second_activation: bool = False,
):
    """
    Xception-style residual module (Huo et al.'s "residual module 1/2").

    Two separable 3x3 convs; with ``downsample`` a 3x3 max-pool of stride 2 and a
    1x1 stride-2 conv shortcut (module 1), otherwise stride 1 and no pooling (module 2).
    ``separable`` picks the conv order (Keras' depthwise-first, or Huo's pointwise-first);
    ``second_activation`` puts ReLU6 after the second conv too (Huo: every conv is followed by
    BN + ReLU6), where Xception leaves it linear before the addition.
    """
    strides = 2 if downsample else 1
    shortcut = layers.Conv2D(
        filters, 1, strides=strides, padding='same', use_bias=False, name=f'{name}_short'
    )(x)
    shortcut = layers.BatchNormalization(name=f'{name}_short_bn')(shortcut)
    y = separable(x, filters, name=f'{name}_a')
    y = separable(y, filters, activation=second_activation, name=f'{name}_b')
    if downsample:
        y = layers.MaxPooling2D(3, strides=2, padding='same', name=f'{name}_pool')(y)
    return layers.Add(name=f'{name}_add')([y, shortcut])


def inverted_residual(x, filters: int, expansion: float, name: str):
    """MobileNetV2 inverted residual (stride 1): 1x1 expand, 3x3 depthwise, linear 1x1."""
    in_channels = x.shape[-1]
    y = x
    hidden = int(round(in_channels * expansion))
    if expansion != 1:
        y = conv_bn(y, hidden, kernel=1, name=f'{name}_expand')
    y = layers.DepthwiseConv2D(3, padding='same', use_bias=False, name=f'{name}_dw')(y)
    y = layers.BatchNormalization(name=f'{name}_dw_bn')(y)
    y = layers.ReLU(6.0, name=f'{name}_dw_relu')(y)
    y = conv_bn(y, filters, kernel=1, activation=False, name=f'{name}_project')
    if in_channels == filters:
        y = layers.Add(name=f'{name}_add')([x, y])
    return y


def classifier_head(x, num_classes: int, dropout: float, name: str = 'head'):
    """Global average pooling, dropout, dense softmax named ``probabilities``."""
    x = layers.GlobalAveragePooling2D(name=f'{name}_gap')(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name=f'{name}_dropout')(x)
    return layers.Dense(num_classes, activation='softmax', dtype='float32', name='probabilities')(
        x
    )


def model_input(input_size: int, channels: int) -> keras.KerasTensor:
    return keras.Input((input_size, input_size, channels), name='input')
