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

"""``fer-ros eval``: accuracy, per-class precision/recall/F1 and confusion matrix of a model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, Tuple

HELP = (
    'evaluate an ONNX model or Keras checkpoint on a labelled split (JSON report + confusion PNG)'
)


# Settings eval sets itself: the model argument, --flip-tta and --threads.
PIPELINE_OWN = ('model', 'tta', 'intra_op_threads')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..settings_cli import add_setting_arguments

    parser.add_argument(
        'model',
        nargs='+',
        help='model.onnx, a .keras checkpoint, or a training run dir (uses best.keras); several: '
        'the ensemble that averages their probabilities',
    )
    parser.add_argument(
        '--data', required=True, help='FER2013 CSV(.gz) or <root>/<split>/<class>/ image folder'
    )
    parser.add_argument(
        '--split', default='PrivateTest', help='split to evaluate (default %(default)s)'
    )
    parser.add_argument(
        '--flip-tta', action='store_true', help="average with the mirrored face's prediction"
    )
    parser.add_argument(
        '--limit', type=int, default=None, help='evaluate only the first N faces of the split'
    )
    parser.add_argument(
        '--out-dir', default=None, help='write <model>_<split>.json and _confusion.png here'
    )
    parser.add_argument(
        '--threads', type=int, default=0, help='ONNX Runtime intra-op threads (0 = default)'
    )
    parser.add_argument(
        '--detect',
        action='store_true',
        help='give each whole image to the run-time pipeline (detector, aligned crop, one ONNX '
        'model) and score the largest face found, as the node would see it: for photographs '
        'rather than face crops (an image folder; a root of class folders is one split). Images '
        'without a face are counted and, in accuracy_all_images, wrong',
    )
    add_setting_arguments(parser, exclude=PIPELINE_OWN, title='pipeline settings (with --detect)')


def main(args: argparse.Namespace) -> int:
    from ..training.data import load_dataset
    from ..training.evaluate import summary_line, write_report

    if args.detect:
        report, name = _pipeline_report(args)
    else:
        data = load_dataset(args.data, [args.split], limit=args.limit)[args.split]
        report, name = _report(args, data)
        print(summary_line(report, '(flip TTA)' if args.flip_tta else None))
    per_class = {
        k: {m: round(v[m], 4) for m in ('precision', 'recall', 'f1')}
        for k, v in report['per_class'].items()
    }
    print(
        json.dumps(
            {
                'accuracy': round(report['accuracy'], 4),
                'macro_f1': round(report['macro_f1'], 4),
                'per_class': per_class,
            },
            indent=2,
        )
    )
    if args.out_dir:
        stem = f'{name}_{args.split}' + ('_tta' if args.flip_tta else '')
        for kind, path in write_report(report, Path(args.out_dir), stem).items():
            print(f'wrote {kind}: {path}')
    return 0


def _report(args: argparse.Namespace, data: Any) -> Tuple[Dict[str, Any], str]:
    """Return the report of one model or of the ensemble of several, and a name for its files."""
    from ..training.evaluate import (
        average_probabilities,
        classification_report,
        evaluate,
        load_predictor,
    )

    if len(args.model) == 1:
        predictor = load_predictor(args.model[0], threads=args.threads)
        return evaluate(predictor, data, flip_tta=args.flip_tta), Path(predictor.source).stem
    probs = average_probabilities(args.model, data, flip_tta=args.flip_tta, threads=args.threads)
    report = classification_report(data.targets, probs.argmax(axis=1), data.labels)
    name = ' + '.join(Path(model).name for model in args.model)
    report.update(
        {
            'model': name,
            'models': list(args.model),
            'dataset': data.name,
            'flip_tta': args.flip_tta,
        }
    )
    return report, f'ensemble{len(args.model)}'


def _pipeline_report(args: argparse.Namespace) -> Tuple[Dict[str, Any], str]:
    """Return the report of one ONNX model run through the pipeline on an image folder."""
    from ..errors import DatasetError, ModelError
    from ..pipeline import Pipeline
    from ..settings_cli import settings_from_args
    from ..training.checkpoints import model_file
    from ..training.data import FER2013_LABELS, image_folder_files
    from ..training.pipeline_eval import evaluate_through_pipeline, pipeline_summary_line

    model = model_file(args.model[0], 'model file') if len(args.model) == 1 else None
    if model is None or model.suffix != '.onnx':
        raise ModelError(
            '--detect runs one .onnx model as the node does; export a run first (fer-ros export)'
        )
    if not Path(args.data).is_dir():
        raise DatasetError(
            f'{args.data}: --detect needs an image folder of photographs, not face crops in a CSV'
        )
    files, _, dataset = image_folder_files(args.data, [args.split], args.limit)[args.split]
    settings = settings_from_args(args, exclude=PIPELINE_OWN).replace(
        model=str(model),
        intra_op_threads=args.threads,
        tta='flip' if args.flip_tta else 'none',
    )
    report = evaluate_through_pipeline(Pipeline(settings), files, FER2013_LABELS, dataset)
    print(pipeline_summary_line(report))
    return report, f'{Path(args.model[0]).stem}_pipeline'
