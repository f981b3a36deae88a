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
Score a model through the run-time pipeline: detector, aligned crop, classifier.

``fer-ros eval`` normally resizes each image to the model's input, which is right
for FER2013-style face crops. Held-out sets of photographs (CK+, JAFFE, frames of
a robot's camera) show a whole head or a whole scene; there the figure a user
cares about is what the node would say, so each image goes through
:class:`~fer_ros.pipeline.Pipeline` as a still photograph and the largest face
found is scored. An image where no face is found is counted, per class, and
counts as wrong in ``accuracy_all_images``; the confusion matrix and per-class
figures cover the images with a face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from .evaluate import classification_report, label_columns
from ..errors import DatasetError, SourceError


def evaluate_through_pipeline(
    pipeline: Any, files: Sequence[Tuple[Path, str]], labels: Sequence[str], name: str
) -> Dict[str, Any]:
    """
    Return the report of ``pipeline`` on ``(image path, true label)`` pairs.

    ``labels`` orders the report's classes; the model's own order is matched by name.
    """
    columns = label_columns(pipeline.labels, labels, pipeline.classifier.path.name)
    targets: List[int] = []
    predicted: List[int] = []
    no_face = dict.fromkeys(labels, 0)
    several = 0
    for path, label in files:
        faces = pipeline.process(_read_colour(path), still=True).faces
        if not faces:
            no_face[label] += 1
            continue
        several += len(faces) > 1
        largest = max(faces, key=lambda face: face.box[2] * face.box[3])
        targets.append(labels.index(label))
        predicted.append(int(np.argmax(largest.probabilities[columns])))
    report = classification_report(np.asarray(targets, np.int64), np.asarray(predicted), labels)
    correct = report['accuracy'] * report['n']
    report.update(
        {
            'model': str(pipeline.classifier.path),
            'dataset': name,
            'through_pipeline': True,
            'settings': _settings_summary(pipeline),
            'images': len(files),
            'images_without_face': sum(no_face.values()),
            'images_without_face_per_class': no_face,
            'images_with_several_faces': several,
            'accuracy_all_images': float(correct / max(len(files), 1)),
        }
    )
    return report


def pipeline_summary_line(report: Dict[str, Any]) -> str:
    """One line: accuracy over faces found, over all images, and how many had no face."""
    return (
        f'{report["images"]} images, a face found in {report["n"]} '
        f'({report["images_without_face"]} without); accuracy {report["accuracy"]:.4f} on the '
        f'faces found, {report["accuracy_all_images"]:.4f} over all images (no face = wrong)'
    )


def _read_colour(path: Path) -> np.ndarray:
    """Return the image as BGR (``fer-ros run``'s reader), or a :class:`DatasetError` naming it."""
    from ..sources import read_image

    try:
        return read_image(path)
    except SourceError as exc:
        raise DatasetError(str(exc)) from exc


def _settings_summary(pipeline: Any) -> Dict[str, Any]:
    """Return the settings that decide which faces are found and how they are cropped."""
    s = pipeline.settings
    names = ('detector', 'detection_width', 'min_face_size', 'score_threshold')
    names += ('face_alignment', 'face_margin', 'tta')
    return {name: getattr(s, name) for name in names}
