"""Yengikand et al. 2023: conv and separable-conv blocks with residual shortcuts,
then additive (Bahdanau) and dot-product (Luong) self-attention over the
spatial positions, concatenated, and an MLP with dropout.

``width`` scales the convolutional widths, ``mlp`` is the hidden MLP size.
"""

from __future__ import annotations

import keras
from keras import layers

from .layers import conv_bn, model_input, residual_module, scaled


def yengikand2023(
    input_size: int = 48,
    channels: int = 1,
    num_classes: int = 7,
    width: float = 1.0,
    mlp: int = 256,
    dropout: float = 0.3,
) -> keras.Model:
    """Build the attention network. Feature map 6x6 -> 36 positions attended."""
    inputs = model_input(input_size, channels)
    x = conv_bn(inputs, scaled(32, width), name="conv1")
    x = conv_bn(x, scaled(32, width), name="conv2")
    x = layers.MaxPooling2D(2, name="pool1")(x)  # 24x24
    x = conv_bn(x, scaled(64, width), name="conv3")
    x = residual_module(x, scaled(64, width), downsample=True, name="res1")  # 12x12
    x = residual_module(x, scaled(128, width), downsample=True, name="res2")  # 6x6
    x = residual_module(x, scaled(128, width), downsample=False, name="res3")
    steps = x.shape[1] * x.shape[2]
    seq = layers.Reshape((steps, x.shape[-1]), name="to_sequence")(x)
    additive = layers.AdditiveAttention(name="additive_attention")([seq, seq])
    dot = layers.Attention(name="dot_attention")([seq, seq])
    pooled_add = layers.GlobalAveragePooling1D(name="additive_pool")(additive)
    pooled_dot = layers.GlobalAveragePooling1D(name="dot_pool")(dot)
    x = layers.Concatenate(name="attention_concat")([pooled_add, pooled_dot])
    x = layers.Dropout(dropout * 0.5, name="mlp_dropout1")(x)
    x = layers.Dense(mlp, activation="relu", name="mlp")(x)
    x = layers.Dropout(dropout, name="mlp_dropout2")(x)
    outputs = layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name="yengikand2023")
