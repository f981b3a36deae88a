"""Datasets for training and evaluation: FER2013 challenge CSV (plain or gzip).

This module imports only numpy and the standard library, so runtime tests and
benchmarks can read FER2013 without TensorFlow. Every malformed row stops
loading with a :class:`~fer_ros.errors.DatasetError` naming the file, the line
and what is wrong.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DatasetError
from ..model_metadata import FER2013_LABELS

FER2013_SIZE = 48
FER2013_SPLITS: Tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")


@dataclass
class FaceDataset:
    """Grey faces with integer labels indexing ``labels``."""

    images: np.ndarray  # uint8, N x S x S
    targets: np.ndarray  # int64, N
    labels: Tuple[str, ...]
    name: str = ""

    def __len__(self) -> int:
        return len(self.targets)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.targets, minlength=len(self.labels))

    def subset(self, index: Union[slice, np.ndarray, Sequence[int]]) -> "FaceDataset":
        return FaceDataset(self.images[index], self.targets[index], self.labels, self.name)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_fer2013(
    path: Union[str, Path],
    splits: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
) -> dict:
    """Read FER2013's ``emotion,pixels,Usage`` CSV (``.csv`` or ``.csv.gz``).

    Returns ``{split: FaceDataset}`` for the requested ``splits`` (all three by
    default), keeping file order. ``limit`` stops after that many rows per
    split (for quick runs). Raises :class:`DatasetError` for a missing file, a
    wrong header or any malformed row, naming the line.
    """
    path = Path(path)
    wanted = tuple(splits) if splits is not None else FER2013_SPLITS
    unknown = [s for s in wanted if s not in FER2013_SPLITS]
    if unknown:
        raise DatasetError(f"unknown FER2013 split(s) {unknown}; allowed: {', '.join(FER2013_SPLITS)}")
    if not path.is_file():
        raise DatasetError(f"FER2013 file not found: {path}")
    n_pixels = FER2013_SIZE * FER2013_SIZE
    images = {s: [] for s in wanted}
    targets = {s: [] for s in wanted}
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]] != ["emotion", "pixels", "Usage"]:
                raise DatasetError(f"{path}:1: expected header 'emotion,pixels,Usage', got {header!r}")
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) < 3:
                    raise DatasetError(f"{path}:{line}: expected 3 fields (emotion,pixels,Usage), got {len(row)}")
                usage = row[2].strip()
                if usage not in FER2013_SPLITS:
                    raise DatasetError(
                        f"{path}:{line}: unknown Usage {usage!r}; allowed: {', '.join(FER2013_SPLITS)}"
                    )
                if usage not in images or (limit is not None and len(targets[usage]) >= limit):
                    continue
                try:
                    label = int(row[0])
                except ValueError:
                    raise DatasetError(f"{path}:{line}: emotion {row[0]!r} is not an integer") from None
                if not 0 <= label < len(FER2013_LABELS):
                    raise DatasetError(f"{path}:{line}: emotion {label} is outside 0..{len(FER2013_LABELS) - 1}")
                try:
                    pixels = np.array(row[1].split(), dtype=np.int32)
                except ValueError:
                    raise DatasetError(f"{path}:{line}: pixels contain a non-integer value") from None
                if pixels.size != n_pixels:
                    raise DatasetError(
                        f"{path}:{line}: expected {n_pixels} pixels ({FER2013_SIZE}x{FER2013_SIZE}), got {pixels.size}"
                    )
                if pixels.min() < 0 or pixels.max() > 255:
                    raise DatasetError(f"{path}:{line}: pixel values must be within 0..255")
                images[usage].append(pixels.astype(np.uint8).reshape(FER2013_SIZE, FER2013_SIZE))
                targets[usage].append(label)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    result = {}
    for split in wanted:
        if not targets[split]:
            raise DatasetError(f"{path}: split {split!r} has no rows")
        result[split] = FaceDataset(
            images=np.stack(images[split]),
            targets=np.asarray(targets[split], dtype=np.int64),
            labels=FER2013_LABELS,
            name=f"fer2013/{split}",
        )
    return result
