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
Evaluate a Keras checkpoint or an ONNX model on a labelled split.

Reports accuracy, per-class precision/recall/F1 and the confusion matrix
(JSON + PNG); optional horizontal-flip test-time augmentation averages the
probabilities of each face and its mirror image. Also measures ms per face.
ONNX models are run by ONNX Runtime alone (no TensorFlow needed).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging
from pathlib import Path
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .checkpoints import model_file
from .data import FaceDataset
from ..classifier import Classifier
from ..errors import ModelError
from ..model_metadata import ModelInfo
from ..preprocess import faces_to_input

log = logging.getLogger(__name__)


@dataclass
class Predictor:
    """A loaded model: ``predict(inputs) -> probabilities`` plus what it expects."""

    predict: Callable[[np.ndarray], np.ndarray]
    info: ModelInfo
    source: str
    kind: str  # "onnx" or "keras"


def onnx_classifier(path: Path, threads: int = 0) -> Classifier:
    """Return the runtime classifier on the CPU: evaluation measures what the node runs."""
    return Classifier(path, ['CPUExecutionProvider'], threads)


def load_predictor(path: str, threads: int = 0) -> Predictor:
    """Load ``model.onnx`` (metadata in the file) or ``model.keras`` (from its run dir)."""
    p = model_file(path, 'model file')
    if p.suffix == '.onnx':
        classifier = onnx_classifier(p, threads)
        return Predictor(classifier.predict, classifier.info, str(p), 'onnx')
    if p.suffix == '.keras':
        return Predictor(*_keras_predictor(p), str(p), 'keras')
    raise ModelError(f'{p}: expected a .onnx or .keras model')


def keras_run_info(checkpoint: Path) -> Tuple[ModelInfo, Dict[str, Any]]:
    """
    Return the ModelInfo and training settings of a checkpoint.

    Read from ``run.json`` and ``labels.json`` beside it.
    """
    run_dir = checkpoint.parent
    try:
        config = json.loads((run_dir / 'run.json').read_text())
        labels = json.loads((run_dir / 'labels.json').read_text())['labels']
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f'{checkpoint}: needs run.json and labels.json of its training run beside it ({exc})'
        ) from None
    return ModelInfo(
        labels=tuple(labels), preprocessing=config['preprocessing'], input_size=48
    ), config


def load_checkpoint(path: Path) -> Any:
    """``keras.models.load_model`` with a one-line :class:`ModelError` naming a damaged file."""
    import keras

    # Custom classes register themselves with Keras when their module is imported; a fresh
    # process (export, eval, --resume) has imported neither, so import them all here.
    from . import optimizers  # noqa: F401  DecoupledAdamW
    from .models import attention  # noqa: F401  AdditiveSelfAttention (yengikand2023)

    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras raises many types for a damaged archive
        reason = ' '.join(str(exc).split())[:300]
        message = f'{path}: cannot load this Keras checkpoint ({type(exc).__name__}: {reason})'
        raise ModelError(message) from None


def float32_model(model: Any) -> Any:
    """
    Return ``model`` computing in float32, with the same weights.

    A checkpoint trained with ``--precision mixed_bfloat16`` keeps float32 weights
    but each layer casts its inputs to bfloat16; converted as it is, the ONNX graph
    would carry bfloat16 convolutions, which ONNX Runtime's CPU provider refuses
    and which the run-time models must not have; evaluated as it is, it would
    score the bf16 rounding instead of the float32 model that ships. Such a model
    is cloned with the float32 policy and given its weights; a float32 model is
    returned unchanged.
    """
    import keras

    if all(layer.compute_dtype == 'float32' for layer in model.layers):
        return model

    def as_float32(layer: Any) -> Any:
        return layer.__class__.from_config({**layer.get_config(), 'dtype': 'float32'})

    clone = keras.models.clone_model(model, clone_function=as_float32)
    clone.set_weights(model.get_weights())
    return clone


def _keras_predictor(path: Path) -> Tuple[Callable[[np.ndarray], np.ndarray], ModelInfo]:
    info, _ = keras_run_info(path)
    model = float32_model(load_checkpoint(path))

    def predict(x: np.ndarray) -> np.ndarray:
        if len(x) <= 256:  # one step without predict()'s per-call setup (online teachers)
            return np.asarray(model.predict_on_batch(x))
        return np.asarray(model.predict(x, batch_size=256, verbose=0))

    return predict, info


def predict_dataset(
    predictor: Predictor, data: FaceDataset, flip_tta: bool = False, batch: int = 256
) -> np.ndarray:
    """
    Return class probabilities (N x classes) for every face.

    With ``flip_tta``, averaged with the mirrored face.
    """
    if data.images.shape[1] != predictor.info.input_size:
        raise ModelError(
            f'{predictor.source} expects {predictor.info.input_size}px faces, '
            f'dataset has {data.images.shape[1]}px'
        )
    chunks = []
    for start in range(0, len(data), batch):
        stop = start + batch
        faces = data.images[start:stop]
        probs = predictor.predict(faces_to_input(faces, predictor.info.preprocessing))
        if flip_tta:
            mirrored = np.ascontiguousarray(faces[:, :, ::-1])
            probs = 0.5 * (
                probs + predictor.predict(faces_to_input(mirrored, predictor.info.preprocessing))
            )
        chunks.append(probs)
    return np.concatenate(chunks)


def label_columns(model_labels: Sequence[str], labels: Sequence[str], source: str) -> List[int]:
    """Return the model's output column of each of ``labels``; the two label sets must be equal."""
    if sorted(model_labels) != sorted(labels):
        raise ModelError(
            f'{source} has labels {list(model_labels)}; the data has {list(labels)}: a model '
            'must know exactly the classes it is used for'
        )
    return [list(model_labels).index(name) for name in labels]


def average_probabilities(
    sources: Sequence[str],
    data: FaceDataset,
    flip_tta: bool = False,
    threads: int = 0,
    on_model: Optional[Callable[[str, np.ndarray], None]] = None,
) -> np.ndarray:
    """
    Return the mean class probabilities of several models (an ensemble), in ``data.labels`` order.

    Each model uses its own preprocessing; columns are matched by label name. ``on_model(source,
    probabilities)`` is called after each model (for progress and per-model figures).
    """
    total = np.zeros((len(data), len(data.labels)), dtype=np.float64)
    for source in sources:
        probs = model_probabilities(source, data, flip_tta=flip_tta, threads=threads)
        total += probs
        if on_model is not None:
            on_model(source, probs)
    return (total / len(sources)).astype(np.float32)


def model_probabilities(
    source: str, data: FaceDataset, flip_tta: bool = False, threads: int = 0
) -> np.ndarray:
    """Return one model's class probabilities for ``data``, columns in ``data.labels`` order."""
    predictor = load_predictor(source, threads=threads)
    columns = label_columns(predictor.info.labels, data.labels, predictor.source)
    return predict_dataset(predictor, data, flip_tta=flip_tta)[:, columns]


def classification_report(
    targets: np.ndarray, predicted: np.ndarray, labels: Sequence[str]
) -> Dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix (rows = truth)."""
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (targets, predicted), 1)
    per_class = {}
    for i, name in enumerate(labels):
        tp = confusion[i, i]
        support = confusion[i].sum()
        predicted_i = confusion[:, i].sum()
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            'precision': float(precision),
            'recall': float(recall),
            'f1': float(f1),
            'support': int(support),
        }
    return {
        'n': int(len(targets)),
        'accuracy': float(np.trace(confusion) / max(len(targets), 1)),
        'macro_f1': float(np.mean([c['f1'] for c in per_class.values()])),
        'per_class': per_class,
        'labels': list(labels),
        'confusion': confusion.tolist(),
    }


def evaluate(predictor: Predictor, data: FaceDataset, flip_tta: bool = False) -> Dict[str, Any]:
    """Classify ``data`` and build the report; the model's labels must match the dataset's."""
    if tuple(predictor.info.labels) != tuple(data.labels):
        raise ModelError(
            f'{predictor.source}: model labels {list(predictor.info.labels)} differ from the '
            f"dataset's "
            f'{list(data.labels)}'
        )
    probs = predict_dataset(predictor, data, flip_tta=flip_tta)
    report = classification_report(data.targets, probs.argmax(axis=1), data.labels)
    report.update({'model': predictor.source, 'dataset': data.name, 'flip_tta': flip_tta})
    return report


def save_confusion_png(report: Dict[str, Any], path: Path) -> None:
    """Row-normalised confusion matrix with counts, as a PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    confusion = np.asarray(report['confusion'], dtype=np.float64)
    normalised = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    labels = report['labels']
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(normalised, cmap='Blues', vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha='right')
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    for i in range(len(labels)):
        for j in range(len(labels)):
            colour = 'white' if normalised[i, j] > 0.5 else 'black'
            ax.text(
                j,
                i,
                f'{normalised[i, j]:.2f}\n{int(confusion[i, j])}',
                ha='center',
                va='center',
                fontsize=7,
                color=colour,
            )
    ax.set_title(
        f'{Path(report["model"]).name} on {report["dataset"]}: accuracy {report["accuracy"]:.4f}'
    )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def measure_latency_ms(
    onnx_path: Path, threads: int = 1, batch: int = 1, repeats: int = 300
) -> float:
    """
    Return the median wall time of one ONNX Runtime call, in ms per face.

    ``batch`` faces per call, ``threads`` threads.
    """
    classifier = onnx_classifier(onnx_path, threads)
    x = np.random.default_rng(0).random((batch,) + classifier.input_shape, dtype=np.float32)
    for _ in range(20):
        classifier.predict(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0 / batch)


def write_report(
    report: Dict[str, Any], out_dir: Path, stem: str, png: bool = True
) -> Dict[str, Path]:
    """Write ``<stem>.json`` (and ``<stem>_confusion.png``) into ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {'json': out_dir / f'{stem}.json'}
    paths['json'].write_text(json.dumps(report, indent=2) + '\n')
    if png:
        paths['png'] = out_dir / f'{stem}_confusion.png'
        save_confusion_png(report, paths['png'])
    return paths


def summary_line(report: Dict[str, Any], extra: Optional[str] = None) -> str:
    recalls = ' '.join(f'{k}={v["recall"]:.2f}' for k, v in report['per_class'].items())
    return f'accuracy {report["accuracy"]:.4f} (n={report["n"]}) recall: {recalls}' + (
        f' {extra}' if extra else ''
    )
