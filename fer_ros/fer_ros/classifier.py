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
Expression classifier: one ONNX Runtime session, model metadata, batched inference.

The session is created once. The model's metadata (see ``model_metadata``)
gives the labels, the preprocessing and the input size; a model without it, or
whose input or output shape disagrees with it, is refused at start-up with a
:class:`~fer_ros.errors.ModelError` naming the file. Execution providers are
tried in the order given (e.g. TensorRT, CUDA, CPU); ones the installed
onnxruntime lacks are skipped, and the log says which one actually runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ModelError
from .model_metadata import ModelInfo, parse_metadata
from .onnx_session import check_model_file, choose_providers, CPU, one_line, open_session

LOG = logging.getLogger(__name__)

__all__ = ['Classifier', 'choose_providers']


class Classifier:
    """
    A fer_ros ONNX expression model, validated against its metadata.

    ``predict`` takes the preprocessed batch (N x S x S x C float32, from
    ``preprocess.faces_to_input``) and returns probabilities (N x len(labels)).
    """

    def __init__(
        self,
        model_path: Union[str, Path],
        providers: Sequence[str] = (CPU,),
        intra_op_threads: int = 1,
    ) -> None:
        path = Path(model_path)
        self.path = path
        check_model_file(path, 'model')
        self._session, self.provider = open_session(path, providers, intra_op_threads)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.info: ModelInfo = parse_metadata(meta, str(path))
        self._check_signature()
        self._fixed_batch = self._inputs_batch_dim()
        self._check_outputs()
        LOG.info(
            'expression model %s (%d classes, %s, %dx%d) running on %s with %d intra-op thread(s)',
            path.name,
            len(self.info.labels),
            self.info.preprocessing,
            self.info.input_size,
            self.info.input_size,
            self.provider,
            intra_op_threads,
        )

    @property
    def labels(self) -> Tuple[str, ...]:
        return self.info.labels

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """(size, size, channels) of one face."""
        return (self.info.input_size, self.info.input_size, self.info.channels)

    def _check_signature(self) -> None:
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(
                f'{self.path}: expected one input and one output, got {len(inputs)} input(s) and '
                f'{len(outputs)} output(s)'
            )
        self._input_name = inputs[0].name
        self._output_name = outputs[0].name
        if inputs[0].type != 'tensor(float)':
            raise ModelError(f'{self.path}: input must be float32, got {inputs[0].type}')
        shape = inputs[0].shape
        expected = self.input_shape
        if len(shape) != 4 or any(
            isinstance(dim, int) and dim != want for dim, want in zip(shape[1:], expected)
        ):
            raise ModelError(
                f'{self.path}: input shape {shape} disagrees with the metadata '
                f'(expected [batch, {expected[0]}, {expected[1]}, {expected[2]}] for '
                f'{self.info.preprocessing} at {self.info.input_size}px)'
            )
        out_shape = outputs[0].shape
        if len(out_shape) != 2 or (
            isinstance(out_shape[1], int) and out_shape[1] != len(self.labels)
        ):
            raise ModelError(
                f'{self.path}: output shape {out_shape} disagrees with the {len(self.labels)} '
                f'labels '
                f'in its metadata ({", ".join(self.labels)})'
            )

    def _inputs_batch_dim(self) -> Optional[int]:
        dim = self._session.get_inputs()[0].shape[0]
        return dim if isinstance(dim, int) else None

    def _check_outputs(self) -> None:
        """
        Run one neutral input and check that the output is probabilities.

        This also warms the session up.
        """
        probe = np.full((1,) + self.input_shape, 0.5, dtype=np.float32)
        try:
            out = np.asarray(self._run(probe))
        except Exception as exc:  # onnxruntime's private exception types
            raise ModelError(
                f'{self.path}: the model fails on a test input: {one_line(exc)}'
            ) from None
        if out.shape != (1, len(self.labels)):
            raise ModelError(
                f'{self.path}: output has {out.shape[-1]} values per face but the metadata lists '
                f'{len(self.labels)} labels ({", ".join(self.labels)})'
            )
        if (
            not np.all(np.isfinite(out))
            or np.any(out < -1e-4)
            or abs(float(out.sum()) - 1.0) > 1e-3
        ):
            raise ModelError(
                f'{self.path}: output is not a probability distribution (sum '
                f'{float(out.sum()):.4f}); '
                'export the model with its softmax layer'
            )

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run([self._output_name], {self._input_name: batch})[0]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """
        Class probabilities (N x len(labels), float32) for a preprocessed batch, in one call.

        A model exported with a fixed batch size of 1 is run face by face.
        """
        if batch.ndim != 4 or batch.shape[1:] != self.input_shape:
            want = ', '.join(map(str, self.input_shape))
            raise ValueError(f'expected a batch of shape (N, {want}), got {batch.shape}')
        if batch.dtype != np.float32:
            batch = batch.astype(np.float32)
        if len(batch) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if self._fixed_batch is not None and self._fixed_batch != len(batch):
            if self._fixed_batch != 1:
                raise ValueError(f'{self.path} only accepts batches of {self._fixed_batch}')
            singles = [self._run(face[np.newaxis]) for face in batch]
            return np.concatenate(singles).astype(np.float32)
        return np.asarray(self._run(batch), dtype=np.float32)
