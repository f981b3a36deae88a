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
A small, fast baseline in the mini-Xception family (Arriaga et al. 2017).

Two plain convolutions, then residual modules of separable convolutions that
halve the resolution and double the width, then a global-average-pooled
softmax. ``width`` scales every layer; ``blocks`` sets how many modules.
"""

from __future__ import annotations

import keras

from .layers import classifier_head, conv_bn, model_input, residual_module, scaled


def mini_xception(
    input_size: int = 48,
    channels: int = 1,
    num_classes: int = 7,
    width: float = 1.0,
    blocks: int = 4,
    dropout: float = 0.2,
) -> keras.Model:
    """Build the baseline. ``width=1, blocks=4`` has about 60 k parameters."""
    if not 1 <= blocks <= 5:
        raise ValueError(f'blocks must be within 1..5, got {blocks}')
    inputs = model_input(input_size, channels)
    x = conv_bn(inputs, scaled(8, width), name='stem1')
    x = conv_bn(x, scaled(8, width), name='stem2')
    for i in range(blocks):
        x = residual_module(x, scaled(16 * 2**i, width), downsample=True, name=f'block{i + 1}')
    outputs = classifier_head(x, num_classes, dropout)
    return keras.Model(inputs, outputs, name='mini_xception')
