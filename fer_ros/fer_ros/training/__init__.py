"""Offline training, evaluation and export (TensorFlow/Keras; install the `train` extra)."""
