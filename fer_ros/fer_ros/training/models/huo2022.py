"""Huo et al. 2022 (Table 2; see DESIGN.md): Xception-style residual modules and
MobileNetV2 inverted residuals on the [Canny, grey, grey] input.

``alpha`` scales every layer's width (1.0 = the paper), ``t`` is the inverted
residuals' expansion factor (6 in the paper). The paper setting has about
9.3 M parameters and 2 GMAC per face; ``alpha=0.5, t=2`` is the slim setting
that trains on a CPU.
"""

from __future__ import annotations

import keras
from keras import layers

from .layers import conv_bn, inverted_residual, model_input, residual_module, scaled, sepconv_bn


def huo2022(
    input_size: int = 48,
    channels: int = 3,
    num_classes: int = 7,
    alpha: float = 1.0,
    t: float = 6.0,
    dropout: float = 0.0,
) -> keras.Model:
    """Build Huo et al.'s network with width multiplier ``alpha`` and expansion ``t``."""
    if alpha <= 0 or t < 1:
        raise ValueError(f"need alpha > 0 and t >= 1, got alpha={alpha}, t={t}")

    def c(n: int) -> int:
        return scaled(n, alpha)

    inputs = model_input(input_size, channels)
    x = conv_bn(inputs, c(32), name="conv1")
    x = conv_bn(x, c(64), name="conv2")
    x = residual_module(x, c(128), downsample=True, name="res1")
    for i in range(4):
        x = inverted_residual(x, c(256), t, name=f"ir1_{i + 1}")
    x = residual_module(x, c(256), downsample=True, name="res2")
    x = residual_module(x, c(364), downsample=False, name="res3")
    x = residual_module(x, c(364), downsample=True, name="res4")
    for i in range(2):
        x = inverted_residual(x, c(512), t, name=f"ir2_{i + 1}")
    x = sepconv_bn(x, c(728), name="sep_final")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    # The paper's "1x1 conv to 7" on the pooled 1x1 map is a dense layer.
    outputs = layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name="huo2022")
