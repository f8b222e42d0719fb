"""EasyNet, the network of answer 3, as shared initial weights.

784 -> 200 (tanh) -> 200 (tanh) -> 10 logits, Xavier (Glorot) uniform kernels, zero biases.
Every notebook builds EasyNet in its own API and loads these same arrays, so the approaches can
be compared number for number: kernel ``k`` of shape ``(fan_in, fan_out)`` is drawn from
``U(-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reglab.params import Anything, Array, Integer, InvalidParameterError, ListOf, validated
from reglab.penalties import xavier_uniform_limit

#: Layer widths of answer 3's network.
SIZES: tuple[int, ...] = (784, 200, 200, 10)

_WEIGHTS = ListOf(Array(ndim=(1, 2)), min_length=2)


@validated(seed=Integer(minimum=0), sizes=ListOf(Integer(minimum=1), min_length=2))
def initial_weights(seed: int = 0, sizes: Sequence[int] = SIZES) -> list[np.ndarray]:
    """Return ``[kernel_0, bias_0, kernel_1, bias_1, ...]`` as float32 arrays.

    Kernels are Xavier uniform from ``numpy.random.default_rng(seed)``; biases are zeros.
    """
    rng = np.random.default_rng(seed)
    weights: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        limit = xavier_uniform_limit(fan_in, fan_out)
        weights.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, dtype=np.float32))
    return weights


def kernels(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The kernels (2-D arrays) of a weight list, in order: what a kernel regularizer sees."""
    return [w for w in weights if np.ndim(w) == 2]


def _layer_pairs(weights: list[np.ndarray], inputs: int) -> None:
    """Refuse a weight list that is not ``[(inputs, n0) kernel, (n0,) bias, (n0, n1) kernel, ...]``."""
    if len(weights) % 2:
        raise InvalidParameterError(
            f"weights must hold kernel/bias pairs [kernel_0, bias_0, ...]; got {len(weights)} arrays")
    width = inputs
    for i in range(0, len(weights), 2):
        kernel, bias = weights[i], weights[i + 1]
        if kernel.ndim != 2 or kernel.shape[0] != width or bias.shape != (kernel.shape[1],):
            raise InvalidParameterError(
                f"weights[{i}] and weights[{i + 1}] must be a ({width}, n) kernel and an (n,) bias; "
                f"got shapes {kernel.shape} and {bias.shape}")
        width = kernel.shape[1]


@validated(weights=_WEIGHTS, x=Array(ndim=2))
def logits_float64(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """EasyNet's forward pass in float64, to check what TensorFlow computed.

    ``h_0 = x``; ``h_{i+1} = tanh(h_i @ kernel_i + bias_i)`` for the hidden layers; the last
    layer gives the logits ``h_n @ kernel_n + bias_n`` (no activation).
    """
    _layer_pairs(weights, x.shape[1])
    h = x
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        if i < len(weights) - 2:
            h = np.tanh(h)
    return h


@validated(weights=_WEIGHTS, kernel_regularizer=Anything())
def keras_model(weights: Sequence[np.ndarray], *, kernel_regularizer: Any = None) -> Any:
    """EasyNet as a Keras 3 ``Sequential`` of ``Dense`` layers, started from ``weights``.

    ``weights`` is ``[kernel_0, bias_0, ...]`` (``initial_weights``); hidden layers use tanh, the
    last gives logits; ``kernel_regularizer`` (a Keras regularizer, or None) goes on every kernel.
    """
    import keras

    _layer_pairs(weights, weights[0].shape[0])
    model = keras.Sequential([keras.Input((weights[0].shape[0],))])
    last = len(weights) - 2
    for i in range(0, len(weights), 2):
        model.add(keras.layers.Dense(weights[i].shape[1], activation=None if i == last else "tanh",
                                     kernel_regularizer=kernel_regularizer))
    model.set_weights([w.astype(np.float32) for w in weights])
    return model
