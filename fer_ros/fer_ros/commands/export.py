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
``fer-ros export``: Keras checkpoint -> parity-checked ONNX with metadata.

Optionally also the int8 variant and the model cards.
"""

from __future__ import annotations

import argparse
import json
import logging

HELP = (
    'export a trained checkpoint to ONNX with metadata, check parity, optionally quantize to int8'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('checkpoint', help='training run dir (uses best.keras) or a .keras file')
    parser.add_argument(
        '--data',
        required=True,
        help='FER2013 CSV(.gz): PrivateTest for parity/accuracy, Training for int8 calibration',
    )
    parser.add_argument(
        '--out', required=True, help='ONNX file to write (e.g. fer_ros/fer_ros/models/x.onnx)'
    )
    parser.add_argument(
        '--int8', default=None, metavar='PATH', help='also write a static int8 variant here'
    )
    parser.add_argument(
        '--tolerance',
        type=float,
        default=1e-4,
        help='max abs ONNX-vs-Keras difference allowed (default %(default)s)',
    )
    parser.add_argument(
        '--calibration-size', type=int, default=1000, help='Training faces for int8 calibration'
    )
    parser.add_argument(
        '--calibration-method',
        choices=('minmax', 'entropy', 'percentile'),
        default='minmax',
        help='int8 activation range calibration (default %(default)s)',
    )
    parser.add_argument(
        '--card', action='store_true', help='write <out>.md and <out>.json model cards'
    )


def main(args: argparse.Namespace) -> int:
    from ..training.data import load_dataset
    from ..training.export import export

    logging.getLogger('tensorflow').setLevel(logging.ERROR)
    splits = ['PrivateTest'] + (['Training'] if args.int8 else [])
    data = load_dataset(args.data, splits)
    result = export(
        args.checkpoint,
        args.out,
        data['PrivateTest'],
        train=data.get('Training'),
        int8_path=args.int8,
        tolerance=args.tolerance,
        calibration_size=args.calibration_size,
        calibration_method=args.calibration_method,
        cards=args.card,
    )
    brief = {'onnx': result['onnx'], 'parity_max_abs_diff': result['parity_max_abs_diff']}
    for variant in ('fp32', 'int8'):
        if variant in result:
            r = result[variant]
            brief[variant] = {
                'accuracy': round(r['accuracy'], 4),
                'ms_per_face_1thread': round(r['ms_per_face_1thread'], 4),
                'bytes': r['bytes'],
            }
    print(json.dumps(brief, indent=2))
    for path in result['cards']:
        print(f'wrote {path}')
    return 0
