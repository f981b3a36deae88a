"""Expression accuracy and per-class recall on FER2013 crops, each model with its own
preprocessing.
"""

from __future__ import annotations

import time
from typing import Dict, Sequence

import numpy as np

CHUNK = 256  # faces per predict call; large enough to be fast, small enough to keep memory flat


def evaluate_classifier(
    subject, images: np.ndarray, targets: np.ndarray, labels: Sequence[str]
) -> Dict:
    """Accuracy, per-class recall and confusion matrix of ``subject`` on grey face crops.

    ``subject`` has ``name``, ``labels`` (its output order), ``preprocess`` and
    ``predict``. ``labels`` names the classes of ``targets`` (the dataset's
    order); predictions are matched to them by name, so a model may order its
    classes differently. A model that lacks one of the dataset's classes can
    never predict it, which counts as a miss.
    """
    missing = [name for name in subject.labels if name not in labels]
    if missing:
        raise ValueError(f'{subject.name} predicts classes the dataset does not have: {missing}')
    to_dataset = np.array([list(labels).index(name) for name in subject.labels])
    predicted = np.empty(len(targets), dtype=np.int64)
    start = time.perf_counter()
    for lo in range(0, len(targets), CHUNK):
        probs = subject.predict(subject.preprocess(images[lo : lo + CHUNK]))
        predicted[lo : lo + CHUNK] = to_dataset[np.argmax(probs, axis=1)]
    elapsed = time.perf_counter() - start
    n_classes = len(labels)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (targets, predicted), 1)
    support = confusion.sum(axis=1)
    recall = {
        name: (round(float(confusion[i, i] / support[i]), 4) if support[i] else None)
        for i, name in enumerate(labels)
    }
    return {
        'model': subject.name,
        'faces': int(len(targets)),
        'accuracy': round(float(np.trace(confusion) / len(targets)), 4),
        'balanced_accuracy': round(
            float(np.mean([r for r in recall.values() if r is not None])), 4
        ),
        'recall': recall,
        'confusion': confusion.tolist(),
        'seconds': round(elapsed, 2),
    }
