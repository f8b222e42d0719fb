"""EasyNet, the network of answer 3, as shared initial weights.

784 -> 200 (tanh) -> 200 (tanh) -> 10 logits, Xavier (Glorot) uniform kernels, zero biases.
Every notebook builds EasyNet in its own API and loads these same arrays, so the approaches can
be compared number for number: kernel ``k`` of shape ``(fan_in, fan_out)`` is drawn from
``U(-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reglab._validate import InvalidParameterError, check_int
from reglab.penalties import xavier_uniform_limit

#: Layer widths of answer 3's network.
SIZES: tuple[int, ...] = (784, 200, 200, 10)


def initial_weights(seed: int = 0, sizes: Sequence[int] = SIZES) -> list[np.ndarray]:
    """Return ``[kernel_0, bias_0, kernel_1, bias_1, ...]`` as float32 arrays.

    Kernels are Xavier uniform from ``numpy.random.default_rng(seed)``; biases are zeros.
    """
    seed = check_int("seed", seed, minimum=0)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise InvalidParameterError(f"sizes must be a sequence of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise InvalidParameterError(f"sizes must list at least 2 layer widths, got {list(sizes)}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
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


def logits_float64(weights: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """EasyNet's forward pass in float64, to check what TensorFlow computed.

    ``h_0 = x``; ``h_{i+1} = tanh(h_i @ kernel_i + bias_i)`` for the hidden layers; the last
    layer gives the logits ``h_n @ kernel_n + bias_n`` (no activation).
    """
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise InvalidParameterError(
            f"weights must be a list [kernel_0, bias_0, kernel_1, bias_1, ...], got {type(weights).__name__}"
        )
    if len(weights) < 2 or len(weights) % 2:
        raise InvalidParameterError(
            f"weights must hold kernel/bias pairs [kernel_0, bias_0, ...], got {len(weights)} arrays"
        )
    h = np.asarray(x, dtype=np.float64)
    if h.ndim != 2:
        raise InvalidParameterError(f"x must be a 2-D array (examples, features), got shape {h.shape}")
    for i in range(0, len(weights), 2):
        kernel = np.asarray(weights[i], dtype=np.float64)
        bias = np.asarray(weights[i + 1], dtype=np.float64)
        if kernel.ndim != 2 or kernel.shape[0] != h.shape[1] or bias.shape != (kernel.shape[1],):
            raise InvalidParameterError(
                f"weights[{i}] and weights[{i + 1}] must be a ({h.shape[1]}, n) kernel and an (n,) bias, "
                f"got shapes {kernel.shape} and {bias.shape}"
            )
        h = h @ kernel + bias
        if i < len(weights) - 2:
            h = np.tanh(h)
    return h
