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
Model cards: ``<model>.md`` for people and ``<model>.json`` for tests and tools.

The JSON holds the figures the card states (accuracy, per-class recall, ms per
face, size, parameters, MACs, training command and time), so the tests that
re-evaluate shipped models read the numbers instead of repeating them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import platform
from typing import Any, Dict, List, Optional, Tuple

from .config import training_command
from .evaluate import keras_run_info, load_checkpoint
from .. import atomic

PUBLIC_TEST = 'PublicTest'


# What every run trained on before runs recorded it (state.json 'hardware').
TRAINED_ON_BEFORE = '2 CPU cores'


def portable_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """
    Return the run's configuration with machine paths replaced by the README's relative ones.

    A card is read on other machines: it names the dataset by its file name and
    the run directory as ``runs/<name>``, as the README's training commands do,
    instead of the absolute paths of the machine that trained it. One fold's model is named
    by its k-fold run, whose ``--fold`` then trains that fold again.
    """
    run_dir = Path(config['run_dir'])
    if config.get('fold') is not None:  # fold_<i>/ of a k-fold run: --fold names the fold
        run_dir = run_dir.parent
    return dict(
        config,
        data=Path(config['data']).name,
        run_dir=f'runs/{run_dir.name}',
        teachers=[_portable_model(t) for t in config.get('teachers', [])],
        init_from=_portable_model(config['init_from']) if config.get('init_from') else None,
    )


def _portable_model(source: str) -> str:
    """
    Name a run directory (teacher, initial weights) as ``runs/<name>``, an ONNX file by its name.

    A ``.keras`` checkpoint lives in its run directory (its settings are beside it), so it
    becomes ``runs/<run>/<file>``.
    """
    path = Path(source)
    if path.suffix == '.onnx':
        return path.name
    if path.suffix == '.keras':
        return f'runs/{path.parent.name}/{path.name}'
    return f'runs/{path.name}'


# A fine-tuned run's start: its directory, run.json (with that directory) and state.json.
StartRun = Tuple[Path, Dict[str, Any], Dict[str, Any]]


def _start_run(config: Dict[str, Any]) -> Optional[StartRun]:
    """Return the run a fine-tuned run started from (``--init-from``), read once, if here."""
    source = config.get('init_from')
    if not source:
        return None
    path = Path(source)
    run_dir = path if path.suffix != '.keras' else path.parent
    if not ((run_dir / 'run.json').is_file() and (run_dir / 'state.json').is_file()):
        return None
    start_config = dict(json.loads((run_dir / 'run.json').read_text()), run_dir=str(run_dir))
    return run_dir, start_config, json.loads((run_dir / 'state.json').read_text())


def _lineage(config: Dict[str, Any], state: Dict[str, Any], start: Optional[StartRun]) -> str:
    """
    Return the commands of the run and, first, of the run it was fine-tuned from (recursively).

    The earlier run is named by its directory here, as ``--init-from`` names it, so the
    sequence runs as written; without that run on this machine only this run's commands remain.
    """
    own = _commands(config, state)
    if start is None:
        return own
    _, start_config, start_state = start
    earlier = _lineage(start_config, start_state, _start_run(start_config))
    return f'{earlier}\n# then, fine-tuned from its best epoch:\n{own}'


def _fine_tuned_from(start: Optional[StartRun]) -> Optional[Dict[str, Any]]:
    """Return what the card says of the run this one started from: name, epochs, time, machine."""
    if start is None:
        return None
    run_dir, _, state = start
    return {
        'run': _portable_model(str(run_dir)),
        'epochs_trained': state['epochs_done'],
        'training_seconds': round(state.get('train_seconds', 0.0)),
        'training_hardware': state.get('hardware', TRAINED_ON_BEFORE),
    }


def _commands(config: Dict[str, Any], state: Dict[str, Any]) -> str:
    """Return the command sequence of the run, with any ``--resume --epochs`` length change."""
    config = portable_config(config)
    changes = state.get('epoch_changes', [])
    if not changes:
        return training_command(config)
    first = dict(config, epochs=changes[0]['from'])
    lines = [training_command(first)]
    for change in changes:
        lines.append(f'# stopped after epoch {change["after_epoch"]}, then:')
        resume = f'--run-dir {config["run_dir"]} --resume --epochs {change["to"]}'
        lines.append(f'fer-ros train --data {config["data"]} {resume}')
    return '\n'.join(lines)


def card_data(result: Dict[str, Any], variant: str) -> Dict[str, Any]:
    """Return the machine-readable card of the ``fp32`` or ``int8`` model of an export result."""
    from .complexity import count_macs

    ckpt = Path(result['checkpoint'])
    info, config = keras_run_info(ckpt)
    state = json.loads((ckpt.parent / 'state.json').read_text())
    start = _start_run(config)
    model = load_checkpoint(ckpt)
    r = result[variant]
    report = r['report']
    trained_on = config.get('train_on', 'Training')
    return {
        'model': Path(r.get('onnx', result['onnx'])).name,
        'variant': variant,
        'architecture': config['architecture'],
        'architecture_args': config['arch_args'],
        'preprocessing': info.preprocessing,
        'input_size': info.input_size,
        'labels': list(info.labels),
        'parameters': int(model.count_params()),
        'macs': count_macs(model),
        'bytes': r['bytes'],
        'dataset': 'FER2013',
        'private_test_accuracy': round(report['accuracy'], 4),
        'private_test_macro_f1': round(report['macro_f1'], 4),
        'private_test_accuracy_flip_tta': round(r['accuracy_flip_tta'], 4)
        if 'accuracy_flip_tta' in r
        else None,
        'per_class_recall': {k: round(v['recall'], 4) for k, v in report['per_class'].items()},
        'per_class_precision': {
            k: round(v['precision'], 4) for k, v in report['per_class'].items()
        },
        'confusion': report['confusion'],
        'ms_per_face_1thread': round(r['ms_per_face_1thread'], 4),
        'parity_max_abs_diff': result['parity_max_abs_diff'],
        'training_command': _lineage(config, state, start),
        'fine_tuned_from': _fine_tuned_from(start),
        'trained_on': trained_on,
        'epochs_trained': state['epochs_done'],
        'best_epoch': state['best_epoch'],
        'public_test_accuracy_best_epoch': None
        if PUBLIC_TEST in trained_on
        else round(state['best_val_accuracy'], 4),
        'training_seconds': round(state.get('train_seconds', 0.0)),
        'training_precision': config.get('precision', 'float32'),
        'train_images_per_second': _median_throughput(state),
        'training_hardware': state.get('hardware', TRAINED_ON_BEFORE),
        'measured_on': f'{platform.machine()}, {os.cpu_count()} shared CPUs, onnxruntime CPU '
        f'provider',
    }


def _median_throughput(state: Dict[str, Any]):
    """Median training images per second over the epochs that recorded it (None for older runs)."""
    rates = sorted(
        row['train_images_per_second']
        for row in state['history']
        if 'train_images_per_second' in row
    )
    return rates[len(rates) // 2] if rates else None


def card_markdown(card: Dict[str, Any]) -> str:
    """Return the card for people: the JSON's figures as a table, the command and the protocol."""
    args = (
        ', '.join(f'{k}={v}' for k, v in sorted(card['architecture_args'].items())) or 'defaults'
    )
    recall_rows = '\n'.join(
        f'| {name} | {card["per_class_precision"][name]:.3f} | {rec:.3f} |'
        for name, rec in card['per_class_recall'].items()
    )
    hours = card['training_seconds'] / 3600.0
    acc, ms = card['private_test_accuracy'], card['ms_per_face_1thread']
    validated = not _trained_on_public_test(card)
    eval_cmd = (
        f'fer-ros eval fer_ros/fer_ros/models/{card["model"]} --data <fer2013.csv.gz> '
        f'--split PrivateTest'
    )
    return f"""# {card['model']}

Expression classifier for fer_ros ({card['variant']}), trained on FER2013.

| | |
|---|---|
| architecture | `{card['architecture']}` ({args}) |
| input | {card['input_size']}x{card['input_size']}, preprocessing `{card['preprocessing']}` |
| labels (output order) | {', '.join(card['labels'])} |
| parameters | {card['parameters']:,} |
| MACs per face | {card['macs'] / 1e6:.1f} M |
| file size | {card['bytes'] / 1e6:.2f} MB |
| FER2013 PrivateTest accuracy | **{acc * 100:.2f}%** (macro F1 \
{card['private_test_macro_f1']:.3f}) |
| with flip TTA (`tta: flip`) | {_percent(card.get('private_test_accuracy_flip_tta'))} |
{_selection_row(card)}
| ms per face (batch 1, 1 thread) | {ms:.3f} ms ({card['measured_on']}) |
| training time | {hours:.2f} h on {card.get('training_hardware', TRAINED_ON_BEFORE)} \
({card.get('training_precision', 'float32')}, \
{card.get('train_images_per_second') or '-'} img/s{' incl. validation' if validated else ''}) |
{_start_row(card)}
Per-class PrivateTest figures:

| class | precision | recall |
|---|---|---|
{recall_rows}

Training command (protocol: {_protocol(card)}):

```
{card['training_command']}
```

Reproduce the accuracy figures: `{eval_cmd}`.
The same figures are in `{Path(card['model']).stem}.json` (read by the tests).
"""


def _start_row(card: Dict[str, Any]) -> str:
    """Return the card's row for the run a fine-tuned model started from (empty if none)."""
    start = card.get('fine_tuned_from')
    if not start:
        return ''
    hours = start['training_seconds'] / 3600.0
    epochs = start['epochs_trained']
    return (
        f'| fine-tuned from | `{start["run"]}`: {epochs} epochs, {hours:.2f} h on '
        f'{start["training_hardware"]} (training command below) |\n'
    )


def _trained_on_public_test(card: Dict[str, Any]) -> bool:
    """Return True when the run trained on PublicTest (so no epoch was selected on it)."""
    return PUBLIC_TEST in card.get('trained_on', 'Training')


def _selection_row(card: Dict[str, Any]) -> str:
    """Return the card's PublicTest row: the epoch it chose, or that the run trained on it."""
    epochs = card['epochs_trained']
    if _trained_on_public_test(card):
        return f'| PublicTest accuracy | - (trained on it; the last of {epochs} epochs is kept) |'
    public = card['public_test_accuracy_best_epoch'] * 100
    best = card['best_epoch']
    return f'| PublicTest accuracy (epoch selection) | {public:.2f}% at epoch {best} of {epochs} |'


def _protocol(card: Dict[str, Any]) -> str:
    """Return how the run chose its model and kept PrivateTest unseen, for the card's prose."""
    if _trained_on_public_test(card):
        return (
            f'train on {card["trained_on"]} for a length chosen on PublicTest by an earlier run, '
            'keep the last epoch, PrivateTest reported once'
        )
    return 'train on Training, best epoch by PublicTest, PrivateTest reported once'


def _percent(value) -> str:
    return '-' if value is None else f'{value * 100:.2f}%'


def card_texts(result: Dict[str, Any]) -> Dict[Path, str]:
    """``{path: text}`` of the ``.json`` and ``.md`` card beside each exported model."""
    texts: Dict[Path, str] = {}
    for variant in ('fp32', 'int8'):
        if variant not in result:
            continue
        onnx_path = Path(result[variant].get('onnx', result['onnx']))
        card = card_data(result, variant)
        texts[onnx_path.with_suffix('.json')] = json.dumps(card, indent=2) + '\n'
        texts[onnx_path.with_suffix('.md')] = card_markdown(card)
    return texts


def write_cards(result: Dict[str, Any]) -> List[Path]:
    """
    Write ``.md`` + ``.json`` beside each exported model (each file atomically).

    Returns the paths.
    """
    texts = card_texts(result)
    for path, text in texts.items():
        atomic.write_text(path, text)
    return list(texts)
