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
ONNX Runtime sessions for every network fer_ros runs: the expression model and YuNet.

Both networks get the same execution providers (e.g. TensorRT, CUDA, CPU on a
Jetson) and the same thread settings, created the same way: providers the
installed onnxruntime lacks are skipped with a warning naming them, and a file
ONNX Runtime cannot load is refused with one line naming it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence, Tuple

import onnxruntime as ort

from .errors import ModelError

LOG = logging.getLogger(__name__)

CPU = 'CPUExecutionProvider'
TENSORRT = 'TensorrtExecutionProvider'
# TensorRT builds an engine per model on first use (minutes on a Jetson); cache it on disk.
TRT_CACHE_DIR = Path(
    os.environ.get('FER_ROS_TRT_CACHE', Path.home() / '.cache' / 'fer_ros' / 'tensorrt')
)


def choose_providers(requested: Sequence[str]) -> list:
    """
    Keep the requested providers the installed onnxruntime has, in order; CPU if none.

    Each requested provider that is missing gets a warning naming it and the
    provider used instead. Returns ONNX Runtime's ``providers`` argument
    (names, or (name, options) for TensorRT).
    """
    available = ort.get_available_providers()
    chosen, skipped = [], []
    for name in requested:
        if name not in available:
            skipped.append(name)
            continue
        if name == TENSORRT:
            options = {
                'trt_engine_cache_enable': True,
                'trt_engine_cache_path': str(TRT_CACHE_DIR),
            }
            chosen.append((name, options))
        else:
            chosen.append(name)
    if not chosen:
        chosen.append(CPU)
    first = provider_name(chosen[0])
    for name in skipped:
        LOG.warning(
            'execution provider %s is not available in this onnxruntime (it has %s); falling '
            'back to %s',
            name,
            ', '.join(available),
            first,
        )
    return chosen


def provider_name(entry: Any) -> str:
    """Return the name of one ``providers`` entry (a name, or a (name, options) pair)."""
    return entry[0] if isinstance(entry, tuple) else entry


def one_line(exc: BaseException) -> str:
    """Return an exception's text on one line (ONNX Runtime's messages can span several)."""
    return ' '.join(str(exc).split()) or type(exc).__name__


def check_model_file(path: Path, what: str) -> None:
    """Raise :class:`ModelError` naming ``path`` when it is missing, a directory or empty."""
    if path.is_dir():
        raise ModelError(f'{path}: is a directory, not an .onnx {what} file')
    if not path.is_file():
        raise ModelError(f'{what} file not found: {path}')
    if path.stat().st_size == 0:
        raise ModelError(f'{path}: file is empty (0 bytes), not an ONNX {what}')


def open_session(path: Path, providers: Sequence[str], intra_op_threads: int) -> Tuple[Any, str]:
    """
    (session, provider actually running) for ``path``.

    :class:`ModelError` naming the file on failure.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(intra_op_threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only; fer_ros logs what matters
    chosen = choose_providers(providers)
    if any(provider_name(p) == TENSORRT for p in chosen):
        TRT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # onnxruntime raises several private exception types
        raise ModelError(
            f'{path}: ONNX Runtime cannot load this model (truncated, corrupt or not ONNX?): '
            f'{one_line(exc)}'
        ) from None
    running = session.get_providers()[0]
    wanted = provider_name(chosen[0])
    if running != wanted:
        LOG.warning(
            'execution provider %s failed to start for %s; falling back to %s',
            wanted,
            path.name,
            running,
        )
    return session, running
