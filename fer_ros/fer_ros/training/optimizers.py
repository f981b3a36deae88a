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
The optimizers a run can use: AdamW, or SGD with Nesterov momentum.

Both decay the weights decoupled from the gradient and skip BatchNorm and biases: Keras decays
every variable, BatchNorm's ``gamma``/``beta`` and the biases included, and decaying those only
fights the normalisation, so they are excluded by name. The exclusion is part of the optimizer's
config, so a resumed run (``last.keras``) keeps it. Keras applies the decay as
``w -= w * decay * rate`` each step for both (SGDW for SGD): with momentum 0.9 a decoupled decay
of 5e-3 shrinks the weights about as much as the classic coupled L2 of 5e-4 does.
"""

from __future__ import annotations

from typing import Any, Dict, Sequence

import keras

NO_DECAY = ('gamma', 'beta', 'bias')
# Nesterov momentum of --optimizer sgd: the value of the VGG-style FER2013 results it follows
# (Khaireddin & Chen 2021) and of most SGD recipes for convolutional networks.
SGD_MOMENTUM = 0.9


class _SkipsNormAndBias:
    """Mixin for a Keras optimizer: leave ``no_decay`` variable names undecayed, and save them."""

    def _skip_decay(self, no_decay: Sequence[str]) -> None:
        self.no_decay = tuple(no_decay)
        if self.no_decay:
            self.exclude_from_weight_decay(var_names=list(self.no_decay))

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config['no_decay'] = list(self.no_decay)
        return config


@keras.saving.register_keras_serializable(package='fer_ros')
class DecoupledAdamW(_SkipsNormAndBias, keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with ``no_decay`` variable names left undecayed."""

    def __init__(self, *args: Any, no_decay: Sequence[str] = NO_DECAY, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._skip_decay(no_decay)


@keras.saving.register_keras_serializable(package='fer_ros')
class DecoupledSGD(_SkipsNormAndBias, keras.optimizers.SGD):
    """``keras.optimizers.SGD`` (Nesterov by default) with ``no_decay`` names left undecayed."""

    def __init__(
        self,
        *args: Any,
        no_decay: Sequence[str] = NO_DECAY,
        momentum: float = SGD_MOMENTUM,
        nesterov: bool = True,
        **kwargs: Any,
    ):
        super().__init__(*args, momentum=momentum, nesterov=nesterov, **kwargs)
        self._skip_decay(no_decay)


OPTIMIZER_CLASSES = {'adamw': DecoupledAdamW, 'sgd': DecoupledSGD}


def build_optimizer(
    name: str, learning_rate: Any, weight_decay: float, ema: float = 0.0
) -> keras.optimizers.Optimizer:
    """
    Return optimizer ``name`` (``adamw`` or ``sgd``) with the run's rate and decay.

    ``ema`` > 0 keeps a moving average of the weights with that decay per step (training/ema.py).
    """
    kwargs = {
        'learning_rate': learning_rate,
        'weight_decay': weight_decay,
        'use_ema': ema > 0,
        'ema_momentum': ema if ema > 0 else 0.99,
    }
    if name not in OPTIMIZER_CLASSES:
        raise ValueError(f'optimizer {name!r}; allowed: {", ".join(OPTIMIZER_CLASSES)}')
    return OPTIMIZER_CLASSES[name](**kwargs)
