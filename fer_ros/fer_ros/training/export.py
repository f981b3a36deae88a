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
Keras checkpoint -> ONNX with fer_ros metadata, parity-checked; plus an int8 variant.

Steps: convert with tf2onnx (dynamic batch), attach the metadata keys of
:mod:`fer_ros.model_metadata`, run ONNX Runtime and Keras on real PrivateTest
faces and refuse to write if they differ by more than ``tolerance``, evaluate
PrivateTest accuracy with ONNX Runtime (stored in the metadata). Everything is
staged in a hidden scratch folder beside the target; only finished, evaluated
models are moved into place, each with an atomic rename (:mod:`fer_ros.atomic`),
so an interrupted or failed export leaves the previous model byte for byte
(or no file), never a half-written one or one whose metadata is not yet final.
The int8 variant is quantized statically (onnxruntime.quantization, QDQ,
per-channel) with Training faces as calibration data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
import tempfile
from typing import Any, Dict, Optional, Tuple

import numpy as np

from .checkpoints import model_file
from .data import FaceDataset
from .evaluate import (
    evaluate,
    float32_model,
    keras_run_info,
    load_checkpoint,
    load_predictor,
    measure_latency_ms,
)
from .. import atomic
from ..errors import ModelError
from ..model_metadata import (
    KEY_ACCURACY,
    KEY_ARCHITECTURE,
    KEY_ARCHITECTURE_ARGS,
    KEY_CREATED,
    KEY_DATASET,
    ModelInfo,
)
from ..preprocess import faces_to_input

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 1e-4
OPSET = 17


def set_metadata(model_proto: Any, props: Dict[str, str]) -> None:
    """Replace the model's metadata with ``props`` (sorted, so files are reproducible)."""
    del model_proto.metadata_props[:]
    for key, value in sorted(props.items()):
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, value


def write_model(model_proto: Any, path: Path) -> None:
    """Write an ONNX model atomically: readers see the old file or the new one, never half."""
    atomic.write_bytes(path, model_proto.SerializeToString())


def _staging_dir(target: Path) -> tempfile.TemporaryDirectory:
    """
    Return a hidden scratch folder beside ``target``, removed on any exception.

    Same file system, so its files can be renamed into place.

    Scratch folders and temporary files of earlier exports to ``target`` that
    were killed (SIGKILL, power loss) are removed first.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in atomic.remove_stale(target):
        log.info('removed %s left by a killed export', stale)
    return tempfile.TemporaryDirectory(
        prefix=f'.{target.name}.{os.getpid()}-', suffix=atomic.PARTIAL_MARK, dir=target.parent
    )


def _publish(staged: Path, target: Path) -> None:
    """Move a finished model from the scratch folder to ``target``, atomically."""
    if staged.parent.parent.resolve() == target.parent.resolve():
        atomic.commit(staged, target)  # scratch folder beside the target: a plain rename
    else:  # e.g. the int8 model goes to another folder (maybe another file system)
        atomic.write_bytes(target, staged.read_bytes())


def convert_to_onnx(model: Any, info: ModelInfo) -> Any:
    """tf2onnx conversion with a dynamic batch axis; input ``input``, output ``probabilities``."""
    import tensorflow as tf
    import tf2onnx

    spec = (
        tf.TensorSpec(
            (None, info.input_size, info.input_size, info.channels), tf.float32, name='input'
        ),
    )
    proto, _ = tf2onnx.convert.from_keras(
        model, input_signature=spec, opset=OPSET, output_path=None
    )
    if len(proto.graph.output) != 1:
        raise ModelError(f'expected one model output, got {len(proto.graph.output)}')
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = 'probabilities'
    proto.graph.output[0].name = 'probabilities'
    return proto


def parity(model: Any, proto: Any, inputs: np.ndarray) -> float:
    """Max abs difference between Keras and ONNX Runtime probabilities on ``inputs``."""
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=['CPUExecutionProvider'])
    onnx_out = session.run(None, {session.get_inputs()[0].name: inputs})[0]
    keras_out = np.asarray(model.predict(inputs, batch_size=256, verbose=0))
    return float(np.abs(onnx_out - keras_out).max())


class _Calibration:
    """onnxruntime.quantization CalibrationDataReader over preprocessed faces."""

    def __init__(self, inputs: np.ndarray, name: str, batch: int = 32):
        # Equal batches only: the histogram calibrators stack per-batch outputs.
        batch = min(batch, len(inputs))
        inputs = inputs[: len(inputs) // batch * batch]
        chunks = np.split(inputs, len(inputs) // batch) if len(inputs) else []
        self._batches = iter([{name: chunk} for chunk in chunks])

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        return next(self._batches, None)


def calibration_faces(train: FaceDataset, n: int, seed: int = 0) -> np.ndarray:
    """``n`` Training faces, stratified by class so rare classes are represented."""
    rng = np.random.default_rng(seed)
    per_class = max(1, n // len(train.labels))
    picks = []
    for c in range(len(train.labels)):
        idx = np.flatnonzero(train.targets == c)
        if len(idx):
            picks.append(rng.choice(idx, size=min(per_class, len(idx)), replace=False))
    return train.images[np.sort(np.concatenate(picks))]


CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')


def quantize_int8(
    fp32_path: Path,
    out_path: Path,
    calibration: np.ndarray,
    props: Dict[str, str],
    method: str = 'minmax',
) -> None:
    """
    Quantize to static int8, calibrated on faces.

    QDQ format, per-channel int8 weights, uint8 activations.

    The first convolution and the softmax stay in float (see below).
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static, QuantType
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with _staging_dir(out_path) as tmp:
        pre = Path(tmp) / 'pre.onnx'
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        q = Path(tmp) / 'q.onnx'
        # Keep the softmax in float: quantized probabilities (1/255 steps) would not sum to 1,
        # and the runtime classifier checks that they do.
        nodes = onnx.load(str(pre)).graph.node
        softmax = [n.name for n in nodes if n.op_type == 'Softmax']
        # Keep the first convolution in float too: it sees the raw face, and quantizing it
        # cost 3.7 points of PrivateTest accuracy on the default model (59.15% fp32 ->
        # 55.48%); in float it costs 0.1 point and no measurable speed (0.7 ms per face).
        first_conv = [n.name for n in nodes if n.op_type == 'Conv'][:1]
        quantize_static(
            str(pre),
            str(q),
            _Calibration(calibration, 'input'),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method={
                'minmax': CalibrationMethod.MinMax,
                'entropy': CalibrationMethod.Entropy,
                'percentile': CalibrationMethod.Percentile,
            }[method],
            nodes_to_exclude=softmax + first_conv,
        )
        proto = onnx.load(str(q))
        set_metadata(proto, props)
        write_model(proto, out_path)


def export(
    checkpoint: str,
    out_path: str,
    private_test: FaceDataset,
    train: Optional[FaceDataset] = None,
    int8_path: Optional[str] = None,
    dataset_name: str = 'FER2013',
    tolerance: float = DEFAULT_TOLERANCE,
    calibration_size: int = 1000,
    calibration_method: str = 'minmax',
    cards: bool = False,
) -> Dict[str, Any]:
    """
    Export ``checkpoint`` (a .keras file or run dir) to ``out_path``; see the module docstring.

    ``cards``: also write each model's card (``.json`` + ``.md`` beside it), staged
    and moved into place with the models. Returns a report: parity, fp32 (and
    int8) PrivateTest accuracy and ms per face, and the card paths.
    """
    ckpt = model_file(checkpoint, 'checkpoint')
    out = Path(out_path)
    q_out = Path(int8_path) if int8_path else None
    if q_out is not None and train is None:
        raise ModelError('int8 export needs Training faces for calibration')
    info, config = keras_run_info(ckpt)
    proto, diff = _checked_onnx(ckpt, info, private_test, tolerance)
    props = _export_metadata(info, config, dataset_name)
    for target in (out, q_out):
        for path in (
            (target, target.with_suffix('.json'), target.with_suffix('.md')) if target else ()
        ):
            atomic.remove_stale(path)  # temporary files of a killed export
    with _staging_dir(out) as tmp:
        staged = Path(tmp) / 'model.onnx'
        result: Dict[str, Any] = {
            'checkpoint': str(ckpt),
            'onnx': str(out),
            'parity_max_abs_diff': diff,
        }
        result['fp32'] = _stage_fp32(proto, props, staged, private_test)
        published = {staged: out}
        if q_out is not None:
            q_staged = Path(tmp) / 'model_int8.onnx'
            calib = faces_to_input(calibration_faces(train, calibration_size), info.preprocessing)
            result['int8'] = _stage_int8(
                staged, q_staged, calib, props, private_test, calibration_method
            )
            result['int8']['onnx'] = str(q_out)
            published[q_staged] = q_out
        staged_cards = _stage_cards(result, Path(tmp)) if cards else {}
        # Everything is final: move it into place, back to back (each rename is atomic).
        for source, target in {**published, **staged_cards}.items():
            _publish(source, target)
        result['cards'] = [str(p) for p in staged_cards.values()]
    return result


def _checked_onnx(
    ckpt: Path, info: ModelInfo, private_test: FaceDataset, tolerance: float
) -> Tuple[Any, float]:
    """
    Return the checkpoint converted to ONNX and its parity with Keras.

    Refuses beyond ``tolerance``.
    """
    model = float32_model(load_checkpoint(ckpt))
    proto = convert_to_onnx(model, info)
    inputs = faces_to_input(private_test.images, info.preprocessing)
    diff = parity(model, proto, inputs)
    log.info(
        'ONNX Runtime vs Keras on %d PrivateTest faces: max abs difference %.2e', len(inputs), diff
    )
    if not diff <= tolerance:
        raise ModelError(
            f'{ckpt}: ONNX export differs from Keras by {diff:.2e} (> {tolerance:.0e}) on '
            f'PrivateTest; '
            'not written'
        )
    return proto, diff


def _export_metadata(info: ModelInfo, config: Dict[str, Any], dataset_name: str) -> Dict[str, str]:
    """Return the metadata every exported model carries (accuracy is added once it is measured)."""
    props = info.to_metadata()
    props.update(
        {
            KEY_ARCHITECTURE: config['architecture'],
            KEY_ARCHITECTURE_ARGS: json.dumps(config['arch_args'], sort_keys=True),
            KEY_DATASET: dataset_name,
            KEY_CREATED: dt.date.today().isoformat(),
        }
    )
    return props


def _measured(path: Path, private_test: FaceDataset) -> Dict[str, Any]:
    """Measure PrivateTest accuracy (plain, flip TTA), ms per face and size of ``path``."""
    report = evaluate(load_predictor(str(path)), private_test)
    flipped = evaluate(load_predictor(str(path)), private_test, flip_tta=True)
    return {
        'accuracy': report['accuracy'],
        'accuracy_flip_tta': flipped['accuracy'],
        'ms_per_face_1thread': measure_latency_ms(path),
        'bytes': path.stat().st_size,
        'report': report,
    }


def _stage_fp32(
    proto: Any, props: Dict[str, str], staged: Path, private_test: FaceDataset
) -> Dict[str, Any]:
    """Write the fp32 model to ``staged`` with its measured accuracy in the metadata."""
    set_metadata(proto, props)
    write_model(proto, staged)
    accuracy = evaluate(load_predictor(str(staged)), private_test)['accuracy']
    props[KEY_ACCURACY] = f'{accuracy:.4f}'
    set_metadata(proto, props)
    write_model(proto, staged)  # the file size changed with the metadata: measure this one
    return _measured(staged, private_test)


def _stage_int8(
    fp32: Path,
    staged: Path,
    calibration: np.ndarray,
    props: Dict[str, str],
    private_test: FaceDataset,
    method: str,
) -> Dict[str, Any]:
    """Quantize ``fp32`` into ``staged`` and put the int8 model's own accuracy in its metadata."""
    import onnx

    quantize_int8(fp32, staged, calibration, props, method=method)
    accuracy = evaluate(load_predictor(str(staged)), private_test)['accuracy']
    q_proto = onnx.load(str(staged))
    set_metadata(q_proto, {**props, KEY_ACCURACY: f'{accuracy:.4f}'})
    write_model(q_proto, staged)
    return _measured(staged, private_test)


def _stage_cards(result: Dict[str, Any], tmp: Path) -> Dict[Path, Path]:
    """Each model's card written in the scratch folder: ``{staged file: final path}``."""
    from .card import card_texts

    staged = {}
    for i, (path, text) in enumerate(card_texts(result).items()):
        staged_card = tmp / f'card{i}{path.suffix}'
        staged_card.write_text(text)
        staged[staged_card] = path
    return staged
