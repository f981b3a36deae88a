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
The optimizer of every run: AdamW whose decoupled weight decay skips BN and biases.

Keras' ``AdamW`` decays every variable, BatchNorm's ``gamma``/``beta`` and the
biases included; decaying those only fights the normalisation, so they are
excluded by name. The exclusion is part of the optimizer's config, so a
resumed run (``last.keras``) keeps it.
"""

from __future__ import annotations

from typing import Any, Dict, Sequence

import keras

NO_DECAY = ('gamma', 'beta', 'bias')


@keras.saving.register_keras_serializable(package='fer_ros')
class DecoupledAdamW(keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with ``no_decay`` variable names left undecayed."""

    def __init__(self, *args: Any, no_decay: Sequence[str] = NO_DECAY, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.no_decay = tuple(no_decay)
        if self.no_decay:
            self.exclude_from_weight_decay(var_names=list(self.no_decay))

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config['no_decay'] = list(self.no_decay)
        return config
