"""Small timing helpers: medians over repeated runs, ratios pair by pair."""

from __future__ import annotations

import statistics
from typing import Dict, Iterable, List, Sequence


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def pairwise_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> List[float]:
    """``numerators[i] / denominators[i]`` for runs measured side by side (same repeat)."""
    if len(numerators) != len(denominators):
        raise ValueError('pairwise ratios need the same number of runs on both sides')
    return [a / b for a, b in zip(numerators, denominators) if b > 0]


def summarize(values: Sequence[float], digits: int = 3) -> Dict[str, float]:
    """Median, min and max of a list of measurements, rounded."""
    return {
        'median': round(median(values), digits),
        'min': round(min(values), digits),
        'max': round(max(values), digits),
        'runs': len(values),
    }
