"""Classifier speed: ms per face at batch 1 and batch 8, with 1 and 2 threads.

Only the model call is timed (the preprocessed batch is prepared once). The
classifiers take turns within each repeat (round robin), so a burst of load
from other processes hits all of them alike; figures are medians over repeats.
"""

from __future__ import annotations

import time
from typing import Callable, Dict, List, Sequence

import numpy as np

from .timing import summarize

BATCH_SIZES = (1, 8)
THREAD_COUNTS = (1, 2)


def _time_calls(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, faces_per_run: int
) -> float:
    """ms per face over ``faces_per_run`` faces, fed ``len(batch)`` at a time."""
    calls = max(1, faces_per_run // len(batch))
    start = time.perf_counter()
    for _ in range(calls):
        predict(batch)
    return (time.perf_counter() - start) * 1e3 / (calls * len(batch))


def measure_classifier_speed(
    factories: Dict[str, Callable[[int], object]],
    faces: np.ndarray,
    repeats: int,
    faces_per_run: int,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    thread_counts: Sequence[int] = THREAD_COUNTS,
) -> List[Dict]:
    """Time every classifier ``factories[name](threads)`` on real faces.

    Returns one row per (classifier, threads, batch) with the median ms per face
    and the per-face saving of batching.
    """
    rows: List[Dict] = []
    for threads in thread_counts:
        subjects = {name: make(threads) for name, make in factories.items()}
        batches = {
            (name, b): subject.preprocess(faces[:b])
            for name, subject in subjects.items()
            for b in batch_sizes
        }
        for (name, _), batch in batches.items():  # warm-up: first calls allocate and tune
            for _ in range(3):
                subjects[name].predict(batch)
        runs: Dict[tuple, List[float]] = {key: [] for key in batches}
        for _ in range(repeats):
            for (name, b), batch in batches.items():
                runs[(name, b)].append(_time_calls(subjects[name].predict, batch, faces_per_run))
        for name in subjects:
            for b in batch_sizes:
                rows.append(
                    {
                        'model': name,
                        'threads': threads,
                        'batch': b,
                        'ms_per_face': summarize(runs[(name, b)], 4),
                    }
                )
        del subjects
    return rows
