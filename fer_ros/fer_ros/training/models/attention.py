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
Additive (Bahdanau) self-attention with the learned projection of Yengikand et al. 2023.

Keras' ``AdditiveAttention`` scores a query/key pair as ``v^T tanh(q_i + k_j)``: no weight
matrix, so on a sequence attending to itself it cannot learn which features to compare. The
paper's score is ``v^T tanh(W_a [h_i; h_j])``; splitting ``W_a`` into its query and key halves
gives ``v^T tanh(W_q h_i + W_k h_j + b)``, which is what this layer computes, followed by a
softmax over ``j`` and the weighted sum of the ``h_j``.
"""

from __future__ import annotations

from typing import Any, Dict

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package='fer_ros')
class AdditiveSelfAttention(layers.Layer):
    """
    ``(batch, steps, dim)`` -> ``(batch, steps, dim)``: each step's attention-weighted context.

    ``units`` is the size of the score's hidden layer (the rows of ``W_a``).
    """

    def __init__(self, units: int = 64, **kwargs: Any):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f'attention units must be >= 1, got {units}')
        self.units = units

    def build(self, input_shape: Any) -> None:
        dim = int(input_shape[-1])
        self.w_query = self.add_weight(name='w_query', shape=(dim, self.units))
        self.w_key = self.add_weight(name='w_key', shape=(dim, self.units))
        self.bias = self.add_weight(name='bias', shape=(self.units,), initializer='zeros')
        self.v = self.add_weight(name='v', shape=(self.units, 1))

    def call(self, sequence: Any) -> Any:
        query = ops.expand_dims(ops.matmul(sequence, self.w_query), 2)  # (b, i, 1, u)
        key = ops.expand_dims(ops.matmul(sequence, self.w_key), 1)  # (b, 1, j, u)
        hidden = ops.tanh(query + key + self.bias)  # (b, i, j, u)
        scores = ops.squeeze(ops.matmul(hidden, self.v), -1)  # (b, i, j)
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, sequence)  # (b, i, dim)

    def macs(self, steps: int, dim: int) -> int:
        """Multiply-accumulates per input: both projections, the scores and the context sum."""
        return 2 * steps * dim * self.units + steps * steps * self.units + steps * steps * dim

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), 'units': self.units}
