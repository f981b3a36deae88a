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
Size and speed of an architecture without training it: parameters, MACs, ms per face.

``python -m fer_ros.training.architecture_profile huo2022 alpha=1 t=6`` converts the
(untrained) network to ONNX and times ONNX Runtime on one thread, batch 1,
which is how the shipped models' cards measure ms per face.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import tempfile
from typing import Any, Dict, Sequence

from ..model_metadata import ModelInfo
from ..preprocess import channels_for


def profile(name: str, arch_args: Dict[str, Any], threads: int = 1) -> Dict[str, Any]:
    """Measure params, MACs and ONNX Runtime ms per face of ``name`` with ``arch_args``."""
    from .complexity import count_macs
    from .evaluate import measure_latency_ms
    from .export import convert_to_onnx, set_metadata, write_model
    from .models import build_model, get_architecture

    arch = get_architecture(name)
    info = ModelInfo(
        labels=tuple(f'c{i}' for i in range(7)), preprocessing=arch.preprocessing, input_size=48
    )
    model = build_model(name, 48, channels_for(arch.preprocessing), 7, arch_args)
    proto = convert_to_onnx(model, info)
    set_metadata(proto, info.to_metadata())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'm.onnx'
        write_model(proto, path)
        ms = measure_latency_ms(
            path, threads=threads, repeats=50 if model.count_params() > 2e6 else 300
        )
        size = path.stat().st_size
    return {
        'architecture': name,
        'arch_args': arch_args,
        'parameters': int(model.count_params()),
        'macs': count_macs(model),
        'onnx_bytes': size,
        'ms_per_face': round(ms, 3),
        'threads': threads,
    }


def main(argv: Sequence[str] = None) -> int:
    from .models import get_architecture, parse_arch_args

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('arch')
    parser.add_argument('args', nargs='*', metavar='KEY=VALUE')
    parser.add_argument('--threads', type=int, default=1)
    ns = parser.parse_args(argv)
    arch_args = parse_arch_args(get_architecture(ns.arch), ns.args)
    print(json.dumps(profile(ns.arch, arch_args, ns.threads)))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
