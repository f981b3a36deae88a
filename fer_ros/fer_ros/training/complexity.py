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
Parameter and multiply-accumulate (MAC) counts of a Keras model, per face.

Counts the layers that do the arithmetic (convolutions, dense, attention
score/context products); batch norm, activations, pooling and additions are
left out, as is usual for MAC figures.
"""

from __future__ import annotations

from typing import Any


def _spatial(shape: Any) -> int:
    return int(shape[1]) * int(shape[2])


def count_macs(model: Any) -> int:
    """Return MACs for one input of the model's fixed spatial size."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if hasattr(layer, 'macs'):  # layers of ours that count themselves
            steps, dim = int(layer.input.shape[1]), int(layer.input.shape[2])
            total += layer.macs(steps, dim)
        elif isinstance(layer, layers.SeparableConv2D):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            cin = layer.input.shape[-1]
            out = _spatial(layer.output.shape)
            total += out * (
                k * cin * layer.depth_multiplier + cin * layer.depth_multiplier * layer.filters
            )
        elif isinstance(layer, layers.DepthwiseConv2D):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            total += (
                _spatial(layer.output.shape) * k * layer.input.shape[-1] * layer.depth_multiplier
            )
        elif isinstance(layer, layers.Conv2D):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            total += (
                _spatial(layer.output.shape)
                * k
                * layer.input.shape[-1]
                * layer.filters
                // layer.groups
            )
        elif isinstance(layer, layers.Dense):
            positions = 1
            for size in layer.input.shape[1:-1]:  # a Dense on a sequence runs once per step
                positions *= int(size)
            total += positions * int(layer.input.shape[-1]) * layer.units
        elif isinstance(layer, (layers.Attention, layers.AdditiveAttention)):
            q = layer.input[0].shape  # (batch, steps, dim)
            steps, dim = int(q[1]), int(q[2])
            total += 2 * steps * steps * dim  # scores + weighted sum of values
    return int(total)
