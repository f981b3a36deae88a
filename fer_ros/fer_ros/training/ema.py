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
An exponential moving average of the weights (Polyak averaging), for ``--ema DECAY``.

Late in a run PublicTest accuracy still moves by about a point from one epoch to the next
(``runs/vgg1_e80``: 66.9-67.9% over its last 15 epochs) while the training loss barely
changes: single weight snapshots are noisy. Keras' optimizers keep the average when built
with ``use_ema=True``; this module decides where the averaged weights are used:

- validation (and so the choice of the best epoch) scores the averaged weights, through
  Keras' :class:`keras.callbacks.SwapEMAWeights`;
- ``best.keras``, which evaluation, export and distillation read, holds them as the model's
  weights (:func:`averaged_weights` around the save, with the same swap);
- ``last.keras`` keeps the raw weights as the model's and the average in the optimizer, as
  Keras has them during training, so ``--resume`` needs nothing special;
- each epoch also scores the raw weights on the validation split
  (``val_accuracy_without_ema`` in ``state.json``), so one run measures what the average buys.

BatchNorm's running statistics are not averaged: they are already averages, gathered with
the raw weights; late in a cosine schedule the two weight sets differ little.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, Optional

import keras

RAW_ACCURACY = 'val_accuracy_without_ema'


def uses_ema(model: Any) -> bool:
    """Tell whether the model's optimizer keeps a moving average of the weights."""
    optimizer = getattr(model, 'optimizer', None)
    return bool(getattr(optimizer, 'use_ema', False))


@contextlib.contextmanager
def averaged_weights(model: Any) -> Iterator[None]:
    """
    Put the averaged weights in the model inside the block (no-op without EMA).

    The swap is Keras' own, the one :class:`keras.callbacks.SwapEMAWeights` does around
    validation, so the saved and the validated weights are paired the same way.
    """
    if not uses_ema(model):
        yield
        return
    swap = keras.callbacks.SwapEMAWeights()
    swap.set_model(model)
    swap.on_test_begin()
    try:
        yield
    finally:
        swap.on_test_end()


class RawWeightsValidation(keras.callbacks.Callback):
    """
    After each epoch, add the raw (not averaged) weights' validation accuracy to the logs.

    Must come before the checkpoint callback in the list, which records the logs. Costs one
    more pass over the validation split per epoch.
    """

    def __init__(self, validation: Any):
        super().__init__()
        self.validation = validation

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
        if logs is None or 'val_accuracy' not in logs:
            return
        scores = self.model.evaluate(self.validation, verbose=0, return_dict=True)
        logs[RAW_ACCURACY] = float(scores['accuracy'])


def ema_callbacks(validation: Optional[Any]) -> list:
    """Return the callbacks of an EMA run: averaged weights for validation, raw ones scored too."""
    callbacks: list = [keras.callbacks.SwapEMAWeights(swap_on_epoch=False)]
    if validation is not None:
        callbacks.append(RawWeightsValidation(validation))
    return callbacks
