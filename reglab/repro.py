"""Seeding: the same numbers every time an experiment runs.

``seed_everything(seed)`` seeds Python's ``random``, NumPy, TensorFlow and Keras in one call
(``keras.utils.set_random_seed``) and turns on TensorFlow's op determinism.  Call it before each
experiment that must give the same numbers when its cell is run again.
"""

from __future__ import annotations

from reglab.params import Integer, validated
from reglab.session import quiet_stderr


@validated(seed=Integer(minimum=0))
def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras with ``seed`` and turn on op determinism."""
    with quiet_stderr():
        import keras
        import tensorflow as tf
    keras.utils.set_random_seed(seed)  # seeds Python's random, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()
