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

The words of the package: a penalty's **kind** is one of ``KINDS`` (``none``, ``l1``, ``l2``,
``l1l2``); its constant is **lam**, always with the **convention** it is meant in
(``CONVENTIONS``: ``keras``, ``lam * sum(w**2)``; ``slim``, ``lam * sum(w**2) / 2``).
``in_every_api`` writes one penalty in every API of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reglab.params import Array, Function, Integer, InvalidParameterError, Options, Real, validated

#: The penalty kinds: "none" (no penalty), "l1" (``lam * sum(|w|)``), "l2" (``lam * sum(w**2)``
#: in the Keras convention, ``lam * sum(w**2) / 2`` in slim's) and "l1l2" (both, one lam each).
KINDS: tuple[str, ...] = ("none", "l1", "l2", "l1l2")

#: The two conventions for an L2 constant ``lam``: what ``lam`` means in each.
CONVENTIONS: dict[str, str] = {
    "keras": "lam * sum(w**2)        keras.regularizers.l2(lam)",
    "slim": "lam * sum(w**2) / 2    tf_slim.l2_regularizer(lam) = lam * tf.nn.l2_loss(w)",
}

_LAM = Real(0.0)
_W = Array()


@validated(w=_W)
def sum_squares(w: Any) -> float:
    """``sum(w**2)``: the squared Frobenius norm."""
    return float(np.sum(w * w))


@validated(w=_W)
def l2_loss(w: Any) -> float:
    """``tf.nn.l2_loss(w) = sum(w**2) / 2``: half the squared norm, no constant."""
    return sum_squares(w) / 2.0


@validated(w=_W, lam=_LAM)
def slim_l2(w: Any, lam: float) -> float:
    """``tf_slim.l2_regularizer(lam)(w) = lam * sum(w**2) / 2``."""
    return lam * l2_loss(w)


@validated(w=_W, lam=_LAM)
def slim_l1(w: Any, lam: float) -> float:
    """``tf_slim.l1_regularizer(lam)(w) = lam * sum(|w|)``."""
    return lam * float(np.sum(np.abs(w)))


@validated(w=_W, lam=_LAM)
def keras_l2(w: Any, lam: float) -> float:
    """``keras.regularizers.l2(lam)(w) = lam * sum(w**2)``: no factor 1/2."""
    return lam * sum_squares(w)


@validated(w=_W, lam=_LAM)
def keras_l1(w: Any, lam: float) -> float:
    """``keras.regularizers.l1(lam)(w) = lam * sum(|w|)``."""
    return lam * float(np.sum(np.abs(w)))


@validated(w=_W, l1=_LAM, l2=_LAM)
def keras_l1l2(w: Any, l1: float = 0.0, l2: float = 0.0) -> float:
    """``keras.regularizers.L1L2(l1, l2)(w) = l1 * sum(|w|) + l2 * sum(w**2)`` (Keras' names)."""
    return keras_l1(w, l1) + keras_l2(w, l2)


@validated(outputs=Array(ndim=tuple(range(1, 9))), penalty=Function())
def keras_activity(outputs: Any, penalty: Callable[[np.ndarray], float]) -> float:
    """A Keras ``activity_regularizer``'s loss: ``penalty(outputs) / batch_size``.

    ``outputs`` is the layer's output for one batch, with the batch on axis 0;
    ``penalty`` is one of the functions here with its constant bound, for example
    ``lambda y: keras_l2(y, 0.01)``.
    """
    if outputs.shape[0] == 0:
        raise InvalidParameterError(f"outputs must have a non-empty batch axis; got shape {outputs.shape}")
    return float(penalty(outputs)) / outputs.shape[0]


@validated(w=_W, grad=_W, learning_rate=Real(0.0, open_minimum=True), weight_decay=_LAM)
def sgd_weight_decay_step(w: Any, grad: Any, learning_rate: float, weight_decay: float) -> np.ndarray:
    """One Keras ``SGD(weight_decay=d)`` step: ``w - lr * grad - lr * d * w``."""
    if grad.shape != w.shape:
        raise InvalidParameterError(f"grad must have the shape of w {w.shape}; got {grad.shape}")
    lr, d = learning_rate, weight_decay
    return w - lr * grad - lr * d * w


@validated(w=_W, lam=_LAM)
def keras_l2_gradient(w: Any, lam: float) -> np.ndarray:
    """Gradient of ``keras.regularizers.l2(lam)`` with respect to ``w``: ``2 * lam * w``."""
    return 2.0 * lam * w


@validated(lam=_LAM)
def keras_l2_from_slim(lam: float) -> float:
    """The Keras ``l2`` constant equal to ``tf_slim.l2_regularizer(lam)``: ``lam / 2``."""
    return lam / 2.0


@validated(lam=_LAM)
def slim_from_keras_l2(lam: float) -> float:
    """The slim ``l2_regularizer`` constant equal to ``keras.regularizers.l2(lam)``: ``2 * lam``."""
    return 2.0 * lam


#: API name -> (formula in words, function of (w, lam)): the same ``lam`` read by each API.
APIS: dict[str, tuple[str, Callable[[Any, float], float]]] = {
    "tf.nn.l2_loss": ("sum(w**2) / 2   (no constant: multiply by lam yourself)",
                      lambda w, lam: lam * l2_loss(w)),
    "tf_slim.l2_regularizer": ("lam * sum(w**2) / 2", slim_l2),
    "tf_slim.l1_regularizer": ("lam * sum(|w|)", slim_l1),
    "keras.regularizers.l2": ("lam * sum(w**2)   <- no 1/2: twice slim", keras_l2),
    "keras.regularizers.l1": ("lam * sum(|w|)", keras_l1),
    "keras.regularizers.L1L2": ("lam * sum(|w|) + lam * sum(w**2)   (l1=l2=lam)",
                                lambda w, lam: keras_l1l2(w, lam, lam)),
}


@validated(api=Options(*APIS), w=_W, lam=_LAM)
def penalty(api: str, w: Any, lam: float) -> float:
    """The penalty that ``api`` (a key of ``APIS``) gives weight ``w`` with constant ``lam``."""
    return APIS[api][1](w, lam)


@validated(l1=_LAM, l2=_LAM, digits=Integer(minimum=1, maximum=17))
def in_every_api(l1: float = 0.0, l2: float = 0.0, *, digits: int = 3) -> dict[str, str]:
    """The penalty ``l1 * sum(|w|) + l2 * sum(w**2)`` (Keras constants) written in each API.

    Keys ``keras``, ``tf_slim`` and, where an L2 part exists, ``tf.nn.l2_loss`` and ``formula``;
    numbers with ``digits`` significant digits.  ``keras.regularizers.l2(c)`` =
    ``tf_slim.l2_regularizer(2c)`` = ``2c * tf.nn.l2_loss(w)``; ``l1(a)`` =
    ``tf_slim.l1_regularizer(a)``.  An empty dict when both constants are 0.
    """
    num = lambda value: f"{value:.{digits}g}"  # noqa: E731
    if l1 and l2:
        return {"formula": f"{num(l1)} * sum|w| + {num(l2)} * sum(w\u00b2)",
                "keras": f"keras.regularizers.L1L2({num(l1)}, {num(l2)})",
                "tf_slim": f"tf_slim.l1_l2_regularizer({num(l1)}, {num(2 * l2)})",
                "tf.nn.l2_loss": f"{num(l1)} * sum(|w|) + {num(2 * l2)} * tf.nn.l2_loss(w)"}
    if l2:
        return {"formula": f"{num(l2)} * sum(w\u00b2)",
                "keras": f"keras.regularizers.l2({num(l2)})",
                "tf_slim": f"tf_slim.l2_regularizer({num(2 * l2)})",
                "tf.nn.l2_loss": f"{num(2 * l2)} * tf.nn.l2_loss(w)"}
    if l1:
        return {"formula": f"{num(l1)} * sum|w|",
                "keras": f"keras.regularizers.l1({num(l1)})",
                "tf_slim": f"tf_slim.l1_regularizer({num(l1)})"}
    return {}


@validated(fan_in=Integer(minimum=1), fan_out=Integer(minimum=1))
def xavier_uniform_limit(fan_in: int, fan_out: int) -> float:
    """Glorot/Xavier uniform bound ``sqrt(6 / (fan_in + fan_out))``."""
    return float(np.sqrt(6.0 / (fan_in + fan_out)))
