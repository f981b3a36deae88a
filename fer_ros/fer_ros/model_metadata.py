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
The metadata every fer_ros ONNX model carries, written by export and read by the classifier.

ONNX stores ``metadata_props`` as string key/value pairs. The keys below are the
contract between ``fer_ros.training.export`` (writer) and ``fer_ros.classifier``
(reader): the labels come from here, never from a second list in the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import Any, Dict, Mapping, Tuple

from .errors import ModelError
from .preprocess import channels_for, PREPROCESSING_MODES

KEY_LABELS = 'fer_ros.labels'  # JSON list of class names, in output order
KEY_PREPROCESSING = 'fer_ros.preprocessing'  # one of preprocess.PREPROCESSING_MODES
KEY_INPUT_SIZE = 'fer_ros.input_size'  # side of the square input, pixels
KEY_ARCHITECTURE = 'fer_ros.architecture'  # registry name, e.g. "huo2022"
KEY_ARCHITECTURE_ARGS = 'fer_ros.architecture_args'  # JSON object
KEY_DATASET = 'fer_ros.dataset'
KEY_ACCURACY = 'fer_ros.test_accuracy'  # PrivateTest accuracy in [0, 1], as text
KEY_CREATED = 'fer_ros.created'  # ISO-8601 date

REQUIRED_KEYS: Tuple[str, ...] = (KEY_LABELS, KEY_PREPROCESSING, KEY_INPUT_SIZE)

# FER2013's class order; a dataset's own order is what a model's metadata records.
FER2013_LABELS: Tuple[str, ...] = (
    'angry',
    'disgust',
    'fear',
    'happy',
    'sad',
    'surprise',
    'neutral',
)


@dataclass(frozen=True)
class ModelInfo:
    """What a model needs from the pipeline, parsed from its metadata."""

    labels: Tuple[str, ...]
    preprocessing: str
    input_size: int
    extra: Dict[str, str] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return channels_for(self.preprocessing)

    def to_metadata(self) -> Dict[str, str]:
        """Serialise to ONNX ``metadata_props`` strings (extra keys kept as given)."""
        props = dict(self.extra)
        props[KEY_LABELS] = json.dumps(list(self.labels))
        props[KEY_PREPROCESSING] = self.preprocessing
        props[KEY_INPUT_SIZE] = str(self.input_size)
        return props


def parse_metadata(props: Mapping[str, str], source: str) -> ModelInfo:
    """
    Validate ``metadata_props`` and return a :class:`ModelInfo`.

    ``source`` (usually the model's path) is named in every error message.
    """
    missing = [k for k in REQUIRED_KEYS if k not in props]
    if missing:
        raise ModelError(
            f'{source}: not a fer_ros model, metadata lacks {", ".join(missing)} '
            '(export models with `fer-ros export`)'
        )
    try:
        labels = json.loads(props[KEY_LABELS])
    except json.JSONDecodeError as exc:
        raise ModelError(f'{source}: metadata {KEY_LABELS} is not JSON: {exc}') from None
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(x, str) and x for x in labels)
    ):
        raise ModelError(
            f'{source}: metadata {KEY_LABELS} must be a non-empty list of names, got {labels!r}'
        )
    if len(set(labels)) != len(labels):
        raise ModelError(f'{source}: metadata {KEY_LABELS} has duplicate names: {labels!r}')
    mode = props[KEY_PREPROCESSING]
    if mode not in PREPROCESSING_MODES:
        raise ModelError(
            f'{source}: metadata {KEY_PREPROCESSING}={mode!r} is unknown; '
            f'allowed: {", ".join(PREPROCESSING_MODES)}'
        )
    try:
        size = int(props[KEY_INPUT_SIZE])
    except ValueError:
        raise ModelError(
            f'{source}: metadata {KEY_INPUT_SIZE}={props[KEY_INPUT_SIZE]!r} is not an integer'
        ) from None
    if not 8 <= size <= 512:
        raise ModelError(f'{source}: metadata {KEY_INPUT_SIZE}={size} is outside 8..512')
    extra = {k: v for k, v in props.items() if k not in REQUIRED_KEYS}
    return ModelInfo(labels=tuple(labels), preprocessing=mode, input_size=size, extra=extra)


def describe(info: ModelInfo) -> Dict[str, Any]:
    """Return a JSON-friendly summary for logs, diagnostics and reports."""
    summary: Dict[str, Any] = {
        'labels': list(info.labels),
        'preprocessing': info.preprocessing,
        'input_size': info.input_size,
    }
    for key, value in info.extra.items():
        summary[key.split('.', 1)[-1]] = value
    return summary
