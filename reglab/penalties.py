"""Every API's penalty convention, written out in NumPy to check TensorFlow against.

For a weight array ``w`` and a constant ``c``:

===========================================  =========================================
API                                          penalty
===========================================  =========================================
``tf.nn.l2_loss(w)``                         ``sum(w**2) / 2``
``tf_slim.l2_regularizer(c)`` (contrib)      ``c * sum(w**2) / 2``
``tf_slim.l1_regularizer(c)``                ``c * sum(|w|)``
``keras.regularizers.l2(c)``                 ``c * sum(w**2)``   (twice slim's, same c)
``keras.regularizers.l1(c)``                 ``c * sum(|w|)``
``keras.regularizers.L1L2(l1, l2)``          ``l1 * sum(|w|) + l2 * sum(w**2)``
Keras activity regularizer on output ``y``   ``penalty(y) / batch_size``
``SGD(weight_decay=d)`` step                 ``w <- w - lr * grad - lr * d * w``
===========================================  =========================================

So ``keras.regularizers.l2(c)`` equals ``tf_slim.l2_regularizer(2 * c)`` and
``c * 2 * tf.nn.l2_loss(w)``; plain SGD with ``weight_decay=d`` equals ``l2(d / 2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reglab._validate import check_array, check_choice, check_int, check_scale

#: The penalty kinds of the explorer (``reglab.explorer``, ``reglab.widgets``), Keras convention:
#: "l1" is ``keras_l1`` (``lam * sum(|w|)``), "l2" is ``keras_l2`` (``lam * sum(w**2)``) and
#: "none" is no penalty (lambda 0).
PENALTIES: tuple[str, ...] = ("none", "l1", "l2")


def sum_squares(w: Any) -> float:
    """``sum(w**2)``: the squared Frobenius norm."""
    w = check_array("w", w)
    return float(np.sum(w * w))


def l2_loss(w: Any) -> float:
    """``tf.nn.l2_loss(w) = sum(w**2) / 2``: half the squared norm, no scale."""
    return sum_squares(w) / 2.0


def slim_l2(w: Any, scale: float) -> float:
    """``tf_slim.l2_regularizer(scale)(w) = scale * sum(w**2) / 2``."""
    scale = check_scale("scale", scale)
    return scale * l2_loss(w)


def slim_l1(w: Any, scale: float) -> float:
    """``tf_slim.l1_regularizer(scale)(w) = scale * sum(|w|)``."""
    scale = check_scale("scale", scale)
    w = check_array("w", w)
    return scale * float(np.sum(np.abs(w)))


def keras_l2(w: Any, l2: float) -> float:
    """``keras.regularizers.l2(l2)(w) = l2 * sum(w**2)``: no factor 1/2."""
    l2 = check_scale("l2", l2)
    return l2 * sum_squares(w)


def keras_l1(w: Any, l1: float) -> float:
    """``keras.regularizers.l1(l1)(w) = l1 * sum(|w|)``."""
    l1 = check_scale("l1", l1)
    w = check_array("w", w)
    return l1 * float(np.sum(np.abs(w)))


def keras_l1l2(w: Any, l1: float = 0.0, l2: float = 0.0) -> float:
    """``keras.regularizers.L1L2(l1, l2)(w) = l1 * sum(|w|) + l2 * sum(w**2)``."""
    return keras_l1(w, l1) + keras_l2(w, l2)


def keras_activity(outputs: Any, penalty: Callable[[np.ndarray], float]) -> float:
    """A Keras ``activity_regularizer``'s loss: ``penalty(outputs) / batch_size``.

    ``outputs`` is the layer's output for one batch, with the batch on axis 0;
    ``penalty`` is one of the functions here with its constant bound, for example
    ``lambda y: keras_l2(y, 0.01)``.
    """
    outputs = check_array("outputs", outputs)
    if outputs.ndim < 1 or outputs.shape[0] == 0:
        raise ValueError(f"outputs must have a non-empty batch axis, got shape {outputs.shape}")
    if not callable(penalty):
        raise TypeError(f"penalty must be callable, got {type(penalty).__name__}")
    return float(penalty(outputs)) / outputs.shape[0]


def sgd_weight_decay_step(w: Any, grad: Any, learning_rate: float, weight_decay: float) -> np.ndarray:
    """One Keras ``SGD(weight_decay=d)`` step: ``w - lr * grad - lr * d * w``."""
    w = check_array("w", w)
    grad = check_array("grad", grad)
    if grad.shape != w.shape:
        raise ValueError(f"grad must have the shape of w {w.shape}, got {grad.shape}")
    lr = check_scale("learning_rate", learning_rate, allow_zero=False)
    d = check_scale("weight_decay", weight_decay)
    return w - lr * grad - lr * d * w


def keras_l2_gradient(w: Any, l2: float) -> np.ndarray:
    """Gradient of ``keras.regularizers.l2(l2)`` with respect to ``w``: ``2 * l2 * w``."""
    l2 = check_scale("l2", l2)
    return 2.0 * l2 * check_array("w", w)


def keras_l2_from_slim(scale: float) -> float:
    """The Keras ``l2`` constant equal to ``tf_slim.l2_regularizer(scale)``: ``scale / 2``."""
    return check_scale("scale", scale) / 2.0


def slim_from_keras_l2(l2: float) -> float:
    """The slim ``l2_regularizer`` scale equal to ``keras.regularizers.l2(l2)``: ``2 * l2``."""
    return 2.0 * check_scale("l2", l2)


def keras_l2_from_sgd_weight_decay(weight_decay: float) -> float:
    """The ``l2`` constant that plain SGD with ``weight_decay=d`` matches: ``d / 2``."""
    return check_scale("weight_decay", weight_decay) / 2.0


#: name -> (formula in words, function of (w, c))
CONVENTIONS: dict[str, tuple[str, Callable[[Any, float], float]]] = {
    "tf.nn.l2_loss": ("sum(w**2) / 2   (no constant: multiply by c yourself)",
                      lambda w, c: c * l2_loss(w)),
    "tf_slim.l2_regularizer": ("c * sum(w**2) / 2", slim_l2),
    "tf_slim.l1_regularizer": ("c * sum(|w|)", slim_l1),
    "keras.regularizers.l2": ("c * sum(w**2)   <- no 1/2: twice slim", keras_l2),
    "keras.regularizers.l1": ("c * sum(|w|)", keras_l1),
    "keras.regularizers.L1L2": ("c * sum(|w|) + c * sum(w**2)   (l1=l2=c)",
                                lambda w, c: keras_l1l2(w, c, c)),
}


def penalty(api: str, w: Any, c: float) -> float:
    """The penalty that ``api`` (a key of ``CONVENTIONS``) gives weight ``w`` with constant ``c``."""
    api = check_choice("api", api, CONVENTIONS)
    return CONVENTIONS[api][1](w, c)


def xavier_uniform_limit(fan_in: int, fan_out: int) -> float:
    """Glorot/Xavier uniform bound ``sqrt(6 / (fan_in + fan_out))``."""
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    return float(np.sqrt(6.0 / (fan_in + fan_out)))
