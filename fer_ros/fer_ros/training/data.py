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
Datasets for training and evaluation.

FER2013 challenge CSV (plain or gzip), image-folder datasets, k-fold splits.

This module imports only numpy and the standard library, so runtime tests and
benchmarks can read FER2013 without TensorFlow. Every malformed row stops
loading with a :class:`~fer_ros.errors.DatasetError` naming the file, the line
and what is wrong.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import gzip
import hashlib
import io
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union
import zlib

import numpy as np

from ..errors import DatasetError
from ..model_metadata import FER2013_LABELS

FER2013_SIZE = 48
FER2013_SPLITS: Tuple[str, ...] = ('Training', 'PublicTest', 'PrivateTest')


@dataclass
class FaceDataset:
    """Grey faces with integer labels indexing ``labels``."""

    images: np.ndarray  # uint8, N x S x S
    targets: np.ndarray  # int64, N
    labels: Tuple[str, ...]
    name: str = ''
    skipped: Dict[str, int] = field(
        default_factory=dict
    )  # class folders without a label -> image count

    def __len__(self) -> int:
        return len(self.targets)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.targets, minlength=len(self.labels))

    def fingerprint(self) -> str:
        """
        Return a sha256 of the faces, their labels and the class names, in order.

        Two datasets with the same fingerprint hold the same faces in the same order, wherever
        their files lie: out-of-fold teachers (oof.py) check it before they label a run's faces.
        """
        digest = hashlib.sha256('\n'.join(self.labels).encode())
        digest.update(np.ascontiguousarray(self.targets, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.images).tobytes())
        return digest.hexdigest()

    def subset(self, index: Union[slice, np.ndarray, Sequence[int]]) -> FaceDataset:
        return FaceDataset(
            self.images[index], self.targets[index], self.labels, self.name, dict(self.skipped)
        )


def _open_text(path: Path) -> io.TextIOBase:
    """
    Text of a CSV, gzip-compressed or not (decided by the content, not the name).

    ``utf-8-sig`` drops the byte-order mark spreadsheet programs put first;
    ``newline=""`` lets the csv module handle Windows line endings.
    """
    with open(path, 'rb') as handle:
        compressed = handle.read(2) == b'\x1f\x8b'
    if compressed:
        return io.TextIOWrapper(gzip.open(path, 'rb'), encoding='utf-8-sig', newline='')
    return open(path, encoding='utf-8-sig', newline='')


def read_fer2013(
    path: Union[str, Path],
    splits: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
) -> dict:
    """
    Read FER2013's ``emotion,pixels,Usage`` CSV (``.csv`` or ``.csv.gz``).

    Returns ``{split: FaceDataset}`` for the requested ``splits`` (all three by
    default), keeping file order. ``limit`` stops after that many rows per
    split (for quick runs). Blank lines are ignored; a byte-order mark and
    Windows line endings are accepted. Raises :class:`DatasetError` for a
    missing file, a wrong header, any malformed row (naming the line: field
    count, emotion, pixel count or values, Usage), a file that ends in the
    middle (truncated gzip, naming the last line read) and a requested split
    without rows.
    """
    path = Path(path)
    wanted = tuple(splits) if splits is not None else FER2013_SPLITS
    unknown = [s for s in wanted if s not in FER2013_SPLITS]
    if unknown:
        raise DatasetError(
            f'unknown FER2013 split(s) {unknown}; allowed: {", ".join(FER2013_SPLITS)}'
        )
    if not path.is_file():
        raise DatasetError(f'FER2013 file not found: {path}')
    faces: Dict[str, list] = {s: [] for s in wanted}
    reader = None
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            for line, row in _records(path, reader):
                usage = row[2].strip()
                if usage not in FER2013_SPLITS:
                    raise DatasetError(
                        f'{path}:{line}: unknown Usage {usage!r}; '
                        f'allowed: {", ".join(FER2013_SPLITS)}'
                    )
                if usage in faces and (limit is None or len(faces[usage]) < limit):
                    faces[usage].append(_parse_face(row, f'{path}:{line}'))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
        where = f' after line {reader.line_num}' if reader is not None and reader.line_num else ''
        raise DatasetError(
            f'{path}: cannot read{where}: {exc} (truncated or corrupt file?)'
        ) from None
    result = {}
    for split in wanted:
        if not faces[split]:
            found = (
                ', '.join(f'{s} ({len(faces[s])})' for s in wanted if faces[s]) or 'none of them'
            )
            raise DatasetError(
                f'{path}: split {split!r} has no rows (Usage column); rows found for {found}'
            )
        result[split] = FaceDataset(
            images=np.stack([image for _, image in faces[split]]),
            targets=np.asarray([label for label, _ in faces[split]], dtype=np.int64),
            labels=FER2013_LABELS,
            name=f'fer2013/{split}',
        )
    return result


def _records(path: Path, reader: Any) -> Iterator[Tuple[str, List[str]]]:
    """Yield ``(line, row)`` per non-blank record after a checked header; ``line`` may be a-b."""
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:3]] != ['emotion', 'pixels', 'Usage']:
        raise DatasetError(f"{path}:1: expected header 'emotion,pixels,Usage', got {header!r}")
    end = reader.line_num
    for row in reader:
        # A quoted field can span lines: name where the record starts (and ends).
        start, end = end + 1, reader.line_num
        line = str(end) if start == end else f'{start}-{end}'
        if not row:
            continue
        if len(row) != len(header):
            raise DatasetError(
                f'{path}:{line}: expected {len(header)} fields like the header '
                f'({",".join(header)}), got {len(row)}'
            )
        yield line, row


def _parse_face(row: List[str], where: str) -> Tuple[int, np.ndarray]:
    """
    (label, 48x48 uint8 face) of one row.

    A ``DatasetError`` at ``where`` (file:line) if malformed.
    """
    try:
        label = int(row[0])
    except ValueError:
        raise DatasetError(f'{where}: emotion {row[0]!r} is not an integer') from None
    if not 0 <= label < len(FER2013_LABELS):
        raise DatasetError(f'{where}: emotion {label} is outside 0..{len(FER2013_LABELS) - 1}')
    try:
        pixels = np.array(row[1].split(), dtype=np.int32)
    except ValueError:
        raise DatasetError(f'{where}: pixels contain a non-integer value') from None
    if pixels.size == 0:
        raise DatasetError(f'{where}: pixels field is empty')
    n_pixels = FER2013_SIZE * FER2013_SIZE
    if pixels.size != n_pixels:
        raise DatasetError(
            f'{where}: expected {n_pixels} pixels ({FER2013_SIZE}x{FER2013_SIZE}), got '
            f'{pixels.size}'
        )
    if pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(f'{where}: pixel values must be within 0..255')
    return label, pixels.astype(np.uint8).reshape(FER2013_SIZE, FER2013_SIZE)


# ---------------------------------------------------------------------------
# Image-folder datasets: <root>/<split>/<class>/*.png|jpg

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.pgm')

# Spellings of class folders in common FER datasets (FER2013 image release,
# FER+, RAF-DB, CK+, JAFFE, AffectNet exports) -> our seven labels.
CLASS_ALIASES = {
    'angry': 'angry',
    'anger': 'angry',
    'an': 'angry',
    'disgust': 'disgust',
    'disgusted': 'disgust',
    'di': 'disgust',
    'fear': 'fear',
    'fearful': 'fear',
    'scared': 'fear',
    'afraid': 'fear',
    'fe': 'fear',
    'happy': 'happy',
    'happiness': 'happy',
    'joy': 'happy',
    'ha': 'happy',
    'sad': 'sad',
    'sadness': 'sad',
    'sa': 'sad',
    'surprise': 'surprise',
    'surprised': 'surprise',
    'su': 'surprise',
    'neutral': 'neutral',
    'calm': 'neutral',
    'ne': 'neutral',
}

# FER2013 image releases name their splits train/test; map them to the challenge names.
SPLIT_ALIASES = {
    'training': 'Training',
    'train': 'Training',
    'publictest': 'PublicTest',
    'val': 'PublicTest',
    'valid': 'PublicTest',
    'validation': 'PublicTest',
    'privatetest': 'PrivateTest',
    'test': 'PrivateTest',
}


def canonical_class(folder_name: str) -> Optional[str]:
    """
    Return our label for a class folder name, or None if we do not have it.

    Case and separators are ignored.
    """
    key = folder_name.strip().lower().replace('-', '').replace('_', '').replace(' ', '')
    return CLASS_ALIASES.get(key)


def read_image_folder(
    root: Union[str, Path],
    splits: Optional[Iterable[str]] = None,
    limit: Optional[int] = None,
    size: int = FER2013_SIZE,
) -> dict:
    """
    Read ``<root>/<split>/<class>/*.png|jpg`` into ``{split: FaceDataset}``.

    Split folders may be named like FER2013's (``Training``/``PublicTest``/
    ``PrivateTest``) or ``train``/``val``/``test``. A root whose sub-folders are
    class folders (CK+, JAFFE and most held-out sets) is one split: it serves when one split
    is asked for (``fer-ros eval``; ``--kfold``, which folds it; ``Training`` when ``splits``
    is None), never as both Training and PublicTest. Class folders are
    mapped to our seven labels through :data:`CLASS_ALIASES`; other classes (``contempt``
    ...) are skipped and counted in the dataset's ``skipped`` dict. Images are
    read as grey and resized to ``size`` x ``size``. Files with other suffixes
    and hidden files (``.DS_Store``, macOS ``._name.png`` resource forks) are
    ignored. An unreadable image (corrupt, empty, not an image) stops loading
    with a :class:`DatasetError` naming the file: a training set must not
    shrink silently. A split folder without images of known classes is an error too.
    ``limit`` keeps at most that many images per split, taken from the classes in turn
    so that a quick run still sees every class.
    """
    result = {}
    for split, (files, skipped, name) in image_folder_files(root, splits, limit).items():
        result[split] = FaceDataset(
            images=np.stack([_read_grey(path, size) for path, _ in files]),
            targets=np.asarray(
                [FER2013_LABELS.index(label) for _, label in files], dtype=np.int64
            ),
            labels=FER2013_LABELS,
            name=name,
            skipped=skipped,
        )
    return result


def image_folder_files(
    root: Union[str, Path], splits: Optional[Iterable[str]] = None, limit: Optional[int] = None
) -> Dict[str, Tuple[list, Dict[str, int], str]]:
    """
    Return ``{split: ([(path, label), ...], skipped class counts, dataset name)}``.

    The files of :func:`read_image_folder` without reading them: ``fer-ros eval --detect``
    gives each whole photograph to the run-time pipeline instead.
    """
    root = Path(root)
    folders = _split_dirs(root, splits)
    result = {}
    for split, folder in folders.items():
        by_label, skipped = _class_files(folder)
        chosen = _interleave(by_label, limit)
        if not chosen:
            raise DatasetError(
                f'{folder}: no images of known classes (skipped: {skipped or "none"})'
            )
        name = f'{root.name}/{split}' if folder != root else root.name
        result[split] = (chosen, skipped, name)
    return result


def _split_dirs(root: Path, splits: Optional[Iterable[str]]) -> Dict[str, Path]:
    """Return ``{split: folder}`` for the wanted splits, a flat class-folder root serving one."""
    found = _split_folders(root)
    wanted = (
        tuple(splits) if splits is not None else tuple(s for s in FER2013_SPLITS if s in found)
    )
    flat_root = not found and _has_class_folders(root)
    if flat_root and len(wanted) <= 1:
        return {wanted[0] if wanted else 'Training': root}
    missing = [s for s in wanted if s not in found]
    if missing:
        flat = (
            ' (its class folders are one split: enough for `fer-ros eval` or `--kfold`, not for '
            'a Training/PublicTest run)'
        )
        raise DatasetError(
            f'{root}: no folder for split(s) {missing}; expected sub-folders such as '
            'Training|train, PublicTest|val, PrivateTest|test' + (flat if flat_root else '')
        )
    return {split: found[split] for split in wanted}


def _has_class_folders(root: Path) -> bool:
    """Return True when some sub-folder of ``root`` is named like one of our classes."""
    return any(p.is_dir() and canonical_class(p.name) for p in root.iterdir())


def _split_folders(root: Path) -> Dict[str, Path]:
    """``{split: folder}`` for the sub-folders of ``root`` named like a split."""
    if not root.is_dir():
        raise DatasetError(f'image-folder dataset not found: {root}')
    found = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        split = SPLIT_ALIASES.get(child.name.lower())
        if split is not None:
            found[split] = child
    return found


def _class_files(split_dir: Path) -> Tuple[Dict[str, list], Dict[str, int]]:
    """
    Return the image files per known label (sorted).

    Also the image counts of the class folders we have no label for.
    """
    by_label: Dict[str, list] = {}
    skipped: Dict[str, int] = {}
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        label = canonical_class(class_dir.name)
        files = sorted(
            p
            for p in class_dir.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith('.') and p.is_file()
        )
        if label is None:
            skipped[class_dir.name] = len(files)
        else:
            by_label.setdefault(label, []).extend(files)
    return by_label, skipped


def _interleave(by_label: Dict[str, list], limit: Optional[int]) -> list:
    """
    ``(path, label)`` pairs taken from the classes in turn, so a ``limit`` keeps every class.

    Without a limit every file is kept. The order (class by class in turn) does not matter for
    training, which shuffles, or for evaluation.
    """
    queues = [[(path, label) for path in files] for label, files in sorted(by_label.items())]
    chosen = []
    for rank in range(max((len(q) for q in queues), default=0)):
        for queue in queues:
            if rank < len(queue):
                chosen.append(queue[rank])
                if limit is not None and len(chosen) >= limit:
                    return chosen
    return chosen


def _read_grey(path: Path, size: int) -> np.ndarray:
    """
    One image as ``size`` x ``size`` grey.

    A ``DatasetError`` naming the file if it cannot be read.
    """
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DatasetError(f'{path}: cannot read image (corrupt or not an image)')
    if image.shape != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image


def load_dataset(
    source: Union[str, Path], splits: Optional[Iterable[str]] = None, limit: Optional[int] = None
) -> dict:
    """FER2013 CSV(.gz) file or image-folder directory -> ``{split: FaceDataset}``."""
    source = Path(source)
    if source.is_dir():
        return read_image_folder(source, splits, limit=limit)
    return read_fer2013(source, splits, limit=limit)


def concatenate(datasets: Sequence[FaceDataset], name: str) -> FaceDataset:
    """One dataset holding every face of ``datasets`` in order; their labels must agree."""
    labels = datasets[0].labels
    for data in datasets[1:]:
        if data.labels != labels:
            raise DatasetError(
                f'cannot join {data.name} (labels {list(data.labels)}) to {datasets[0].name} '
                f'(labels {list(labels)})'
            )
    return FaceDataset(
        np.concatenate([d.images for d in datasets]),
        np.concatenate([d.targets for d in datasets]),
        labels,
        name,
    )
