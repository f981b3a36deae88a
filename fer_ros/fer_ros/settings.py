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
Every pipeline setting, declared once: the single source for CLI flags and ROS parameters.

:data:`PIPELINE_SETTINGS` lists each setting with its type, default, description
and allowed range or choices. ``fer-ros run``/``bench`` turn it into command-line
flags and the ROS node turns it into declared parameters with descriptors, so
the three never disagree. :class:`PipelineSettings` holds one validated set of
values; :func:`validate_setting` checks one value and raises
:class:`~fer_ros.errors.SettingsError` naming the setting and what is allowed.

Types used in the table: ``bool``, ``int``, ``float``, ``str`` and ``list``
(a list of strings; stored as a tuple so settings stay hashable and immutable).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import SettingsError
from .resources import DEFAULT_MODEL

# ONNX Runtime execution providers fer_ros knows how to ask for, fastest first.
# Providers not compiled into the installed onnxruntime are skipped at start-up
# (with a log line), so a list written for a Jetson also runs on a laptop.
KNOWN_PROVIDERS: Tuple[str, ...] = (
    'TensorrtExecutionProvider',
    'CUDAExecutionProvider',
    'OpenVINOExecutionProvider',
    'CoreMLExecutionProvider',
    'DmlExecutionProvider',
    'CPUExecutionProvider',
)

DETECTORS: Tuple[str, ...] = ('yunet', 'haar')
TTA_MODES: Tuple[str, ...] = ('none', 'flip')
# Chosen by measurement: benchmarks/run.py --section detection (see docs in README.md).
SCORE_THRESHOLD_DEFAULT = 0.6
FACE_ALIGNMENT_DEFAULT = True


@dataclass(frozen=True)
class SettingSpec:
    """Declaration of one setting: name, type, default, help text and allowed values."""

    name: str
    type: type  # noqa: A003 (named as argparse names it) bool, int, float, str or list
    default: Any
    description: str
    min: Optional[float] = None  # noqa: A003 (the range's ends, as ROS names them)
    max: Optional[float] = None  # noqa: A003
    choices: Optional[Tuple[str, ...]] = None  # for str, or for each item of a list
    reload: bool = False  # changing it reloads the model or detector (see Pipeline.update)

    def allowed(self) -> str:
        """Human-readable statement of what values are allowed."""
        if self.choices is not None:
            prefix = 'a list of ' if self.type is list else 'one of '
            return prefix + ', '.join(self.choices)
        if self.min is not None or self.max is not None:
            lo = '-inf' if self.min is None else _fmt(self.min)
            hi = 'inf' if self.max is None else _fmt(self.max)
            return f'{self.type.__name__} in [{lo}, {hi}]'
        if self.type is list:
            return 'a list of strings'
        return f'a {self.type.__name__}'


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


PIPELINE_SETTINGS: Tuple[SettingSpec, ...] = (
    # -- classifier ---------------------------------------------------------------------------
    SettingSpec(
        'model',
        str,
        DEFAULT_MODEL,
        'Expression model: name of a shipped model (e.g. fer_default.onnx) or a path to an .onnx '
        'file '
        'exported by fer-ros export.',
        reload=True,
    ),
    SettingSpec(
        'providers',
        list,
        ('CPUExecutionProvider',),
        'ONNX Runtime execution providers in order of preference; unavailable ones are skipped '
        'with '
        'a warning naming them and the provider used instead (e.g. TensorrtExecutionProvider,'
        'CUDAExecutionProvider,CPUExecutionProvider on a Jetson).',
        choices=KNOWN_PROVIDERS,
        reload=True,
    ),
    SettingSpec(
        'intra_op_threads',
        int,
        1,
        "ONNX Runtime intra-op threads for the expression model (0 = ONNX Runtime's default, one "
        'per core).',
        min=0,
        max=64,
        reload=True,
    ),
    SettingSpec(
        'tta',
        str,
        'none',
        "Test-time augmentation of the expression model: flip also classifies each face's mirror "
        'image '
        '(in the same batch) and averages the two, for a little accuracy at about twice the '
        'classification cost; none classifies each face once.',
        choices=TTA_MODES,
    ),
    # -- detection ----------------------------------------------------------------------------
    SettingSpec(
        'detector',
        str,
        'yunet',
        'Face detector: yunet (the YuNet DNN shipped with fer_ros, run by ONNX Runtime with the '
        'same '
        'providers and threads as the expression model; gives eye landmarks for face_alignment) '
        'or '
        "haar (OpenCV's frontal-face Haar cascade, from pip's OpenCV or the opencv-data package).",
        choices=DETECTORS,
        reload=True,
    ),
    SettingSpec(
        'detector_model',
        str,
        '',
        'YuNet .onnx file with a dynamic input size (e.g. a retrained yunet_s_dynamic.onnx); '
        'empty = '
        'the one shipped with fer_ros. Ignored by the haar detector.',
        reload=True,
    ),
    SettingSpec(
        'detection_width',
        int,
        320,
        'Frames wider than this are downscaled to this width for face detection (boxes are '
        'returned in '
        'full-frame pixels); 0 detects at full resolution.',
        min=0,
        max=8192,
    ),
    SettingSpec(
        'min_face_size',
        int,
        40,
        "Smallest face to detect, in full-frame pixels (side of the detector's box).",
        min=8,
        max=4096,
    ),
    SettingSpec(
        'max_faces',
        int,
        10,
        'Largest number of faces kept per frame (highest scores first), and of faces tracked at '
        'once '
        '(the track unseen longest is retired first).',
        min=1,
        max=256,
    ),
    SettingSpec(
        'face_margin',
        float,
        0.0,
        'Extra border around the squared detector box before cropping, as a fraction of its side '
        '(0.1 adds 10%); the default 0 (the squared detector box) matches the framing of the '
        'FER2013 '
        'training faces (measured: best end-to-end accuracy and box overlap with FER2013 crops, '
        'see '
        'benchmarks/face_framing.py).',
        min=-0.5,
        max=1.0,
    ),
    SettingSpec(
        'score_threshold',
        float,
        SCORE_THRESHOLD_DEFAULT,
        'Faces whose detector score is below this are dropped (YuNet: its own confidence; Haar: '
        'a face '
        'found by n overlapping windows scores n/(n+3), so use 0.55, which keeps n >= 4).',
        min=0.0,
        max=1.0,
    ),
    SettingSpec(
        'face_alignment',
        bool,
        FACE_ALIGNMENT_DEFAULT,
        'Rotate each face upright using its eye landmarks before classifying it (yunet only; haar '
        'gives no landmarks, so its crops are never rotated).',
    ),
    SettingSpec(
        'full_detection_interval',
        int,
        5,
        'Run a full-frame detection every N frames; in between, faces are re-detected only in a '
        'region '
        'around each tracked face (needs tracking), with a full pass in the same frame when a '
        'tracked '
        'face is not found there. '
        '1 = full detection on every frame.',
        min=1,
        max=1000,
    ),
    # -- tracking and smoothing ---------------------------------------------------------------
    SettingSpec(
        'tracking',
        bool,
        True,
        'Give faces stable ids across frames by box overlap (IoU); off = new ids every frame.',
    ),
    SettingSpec(
        'iou_threshold',
        float,
        0.3,
        'Smallest box overlap (IoU) for a detection to continue a track.',
        min=0.01,
        max=1.0,
    ),
    SettingSpec(
        'confirm_frames',
        int,
        2,
        'A new face is published once it was detected in this many frames (1 = at once); filters '
        'one-frame false detections in video. Still images are always reported at once.',
        min=1,
        max=30,
    ),
    SettingSpec(
        'max_missed_frames',
        int,
        5,
        'Frames a track survives without a matching detection before its id is retired.',
        min=0,
        max=1000,
    ),
    SettingSpec(
        'smoothing',
        bool,
        True,
        "Smooth each face's class probabilities over time (exponential moving average) so the "
        'label does not flicker; needs tracking.',
    ),
    SettingSpec(
        'smoothing_alpha',
        float,
        0.4,
        'Weight of the newest frame in the moving average (1 = no smoothing).',
        min=0.01,
        max=1.0,
    ),
)

SPECS: Dict[str, SettingSpec] = {spec.name: spec for spec in PIPELINE_SETTINGS}


def validate_setting(name: str, value: Any) -> Any:
    """
    Check ``value`` for setting ``name`` and return it in canonical form.

    ints are accepted for float settings; lists and tuples become tuples. Raises
    :class:`SettingsError` naming the setting and the allowed values.
    """
    spec = SPECS.get(name)
    if spec is None:
        raise SettingsError(f'unknown setting {name!r}; known settings: {", ".join(SPECS)}')

    def fail(reason: str) -> SettingsError:
        return SettingsError(f'setting {name}={value!r} {reason}; allowed: {spec.allowed()}')

    if spec.type is bool:
        if not isinstance(value, bool):
            raise fail('is not a bool')
        return value
    if spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail('is not an int')
        result: Any = int(value)
    elif spec.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail('is not a number')
        result = float(value)
        if result != result:  # NaN
            raise fail('is not a number')
    elif spec.type is str:
        if not isinstance(value, str):
            raise fail('is not a string')
        result = value
        if spec.choices is not None and value not in spec.choices:
            raise fail('is not allowed')
    elif spec.type is list:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise fail('is not a list')
        if not value:
            raise fail('is empty')
        if not all(isinstance(v, str) for v in value):
            raise fail('has items that are not strings')
        if spec.choices is not None:
            bad = [v for v in value if v not in spec.choices]
            if bad:
                raise fail(f'has unknown item(s) {", ".join(bad)}')
        return tuple(value)
    else:  # pragma: no cover - table error
        raise TypeError(f'setting {name} has unsupported type {spec.type}')
    if spec.min is not None and result < spec.min:
        raise fail('is too small')
    if spec.max is not None and result > spec.max:
        raise fail('is too large')
    return result


class _SettingsBehaviour:
    """What every :class:`PipelineSettings` can do; the fields come from the settings table."""

    def __post_init__(self) -> None:
        for spec in PIPELINE_SETTINGS:
            object.__setattr__(
                self, spec.name, validate_setting(spec.name, getattr(self, spec.name))
            )

    def replace(self, **changes: Any) -> PipelineSettings:
        """Return a copy with ``changes`` applied, validated (raises :class:`SettingsError`)."""
        for name, value in changes.items():
            validate_setting(name, value)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PipelineSettings:
        """Build from a dict (e.g. ROS parameters or a YAML file); unknown names are rejected."""
        return cls().replace(**dict(values))

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict of every setting (tuples as lists), for logs and JSON."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    def changed_settings(self, other: PipelineSettings) -> Tuple[str, ...]:
        """Names of the settings whose values differ from ``other``, in table order."""
        return tuple(
            s.name for s in PIPELINE_SETTINGS if getattr(self, s.name) != getattr(other, s.name)
        )

    def changed_reload_settings(self, other: PipelineSettings) -> Tuple[str, ...]:
        """Names of settings that differ from ``other`` and need a model or detector reload."""
        return tuple(name for name in self.changed_settings(other) if SPECS[name].reload)


# One frozen dataclass field per row of the settings table, with the row's default: the table is
# the only place a setting is declared (name, type, default, range, description).
_FIELD_TYPES = {bool: bool, int: int, float: float, str: str, list: Tuple[str, ...]}
PipelineSettings = dataclasses.make_dataclass(
    'PipelineSettings',
    [
        (spec.name, _FIELD_TYPES[spec.type], dataclasses.field(default=spec.default))
        for spec in PIPELINE_SETTINGS
    ],
    bases=(_SettingsBehaviour,),
    frozen=True,
    namespace={
        '__doc__': 'One validated set of pipeline settings; see :data:`PIPELINE_SETTINGS` for '
        'their meaning. Fields: ' + ', '.join(spec.name for spec in PIPELINE_SETTINGS) + '.',
        '__module__': __name__,
    },
)
