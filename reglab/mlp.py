"""A small multilayer perceptron in NumPy: forward, backward, penalty and full-batch Adam.

The engine of the regularization explorer (``reglab.explorer``): TensorFlow would take seconds
to build and train a model, so the explorer trains this network instead, on the whole training
set at once, from the same initial weights for every setting.  The explorer's layer widths are
``reglab.explorer.SIZES``: ``2 -> 32 (tanh) -> 32 (tanh) -> 2`` on ``toy2d``,
``64 -> 32 (tanh) -> 10`` on ``digits``.  With ``h_0 = x``::

    a_l = h_{l-1} @ W_l + b_l,      h_l = tanh(a_l)  (hidden layers),     z = a_L  (logits)

Loss = data loss + penalty, the penalty on the kernels ``W_l`` only (not the biases), in the
**Keras convention** (``reglab.penalties.keras_l2`` / ``keras_l1``)::

    data loss  = mean_i( -log softmax(z_i)[y_i] )            (sparse categorical cross-entropy)
    "l2"       : penalty = lam * sum_l sum(W_l**2)           == keras.regularizers.l2(lam)
    "l1"       : penalty = lam * sum_l sum(|W_l|)            == keras.regularizers.l1(lam)
    "none"     : penalty = 0

So the explorer's ``("l2", lam)`` is ``tf_slim.l2_regularizer(2 * lam)`` and
``2 * lam * tf.nn.l2_loss(W)``: no factor 1/2.  Gradients, written out by hand::

    dz        = (softmax(z) - onehot(y)) / n
    dW_l      = h_{l-1}.T @ da_l + 2 * lam * W_l      ("l2")   or   + lam * sign(W_l)   ("l1")
    db_l      = sum_i da_l
    da_{l-1}  = (da_l @ W_l.T) * (1 - h_{l-1}**2)

Adam as Keras writes it, with Keras' defaults ``b1=0.9, b2=0.999, eps=1e-7``, for step
``t = 1, 2, ...`` and every parameter ``p`` with gradient ``g``::

    m = b1 * m + (1 - b1) * g,    v = b2 * v + (1 - b2) * g**2
    p = p - lr_t * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

with a cosine-decayed rate ``lr_t = lr * (1 + cos(pi * (t - 1) / steps)) / 2``: the decay lets
the L1 weights that the penalty drives to zero settle there instead of jittering by about
``lr`` around it.  Arrays are float32 and NumPy's BLAS is held to one thread while training
(tiny matrices: threads only add waiting on a shared 2-core machine).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reglab._validate import check_array, check_choice, check_int, check_scale

#: Penalty choices; "none" is lambda = 0.
PENALTIES: tuple[str, ...] = ("none", "l1", "l2")
#: |w| below this counts as "near zero" in the sparsity figures.
NEAR_ZERO = 1e-2
#: Keras' Adam defaults.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7


# --------------------------------------------------------------------------------------------
# The network in NumPy
# --------------------------------------------------------------------------------------------


def _check_params(params: Any) -> list[np.ndarray]:
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list [W_1, b_1, W_2, b_2, ...], got {type(params).__name__}"
        )
    if len(params) < 2 or len(params) % 2:
        raise ValueError(f"params must hold kernel/bias pairs, got {len(params)} arrays")
    arrays = []
    for i, p in enumerate(params):
        arrays.append(check_array(f"params[{i}]", p, ndim=2 if i % 2 == 0 else 1))
    for i in range(0, len(arrays), 2):
        kernel, bias = arrays[i], arrays[i + 1]
        if bias.shape[0] != kernel.shape[1]:
            raise ValueError(
                f"params[{i + 1}] must have {kernel.shape[1]} entries (the width of "
                f"params[{i}]), got {bias.shape[0]}"
            )
        if i and kernel.shape[0] != arrays[i - 2].shape[1]:
            raise ValueError(f"params[{i}] must have {arrays[i - 2].shape[1]} rows")
    return arrays


def initial_params(sizes: Sequence[int], seed: int = 0) -> list[np.ndarray]:
    """Xavier-uniform kernels and zero biases (float32): ``reglab.easynet.initial_weights``."""
    from reglab.easynet import initial_weights

    return initial_weights(seed, sizes)


_BLAS_LOCK = threading.Lock()
_BLAS_STATE: dict[str, Any] = {"controller": None, "limiter": None, "depth": 0}


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """A context in which NumPy's BLAS uses one thread (re-entrant, shared across threads).

    The matrices here are tiny: two BLAS threads on a shared 2-core machine spend more time
    waiting for each other than computing (measured: up to 10x slower under load).
    """
    with _BLAS_LOCK:
        if _BLAS_STATE["depth"] == 0:
            if _BLAS_STATE["controller"] is None:
                from threadpoolctl import ThreadpoolController

                _BLAS_STATE["controller"] = ThreadpoolController()
            _BLAS_STATE["limiter"] = _BLAS_STATE["controller"].limit(limits=1, user_api="blas")
        _BLAS_STATE["depth"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_STATE["depth"] -= 1
            if _BLAS_STATE["depth"] == 0:
                _BLAS_STATE["limiter"].restore_original_limits()
                _BLAS_STATE["limiter"] = None


def _forward(params: list[np.ndarray], x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits and the layer outputs ``[h_0 = x, h_1, ...]`` needed by the backward pass."""
    hs = [x]
    h = x
    last = len(params) - 2
    for i in range(0, len(params), 2):
        a = h @ params[i] + params[i + 1]
        if i == last:
            return a, hs
        h = np.tanh(a)
        hs.append(h)
    raise AssertionError("unreachable")  # pragma: no cover


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def logits(params: Any, x: Any) -> np.ndarray:
    """The network's logits ``z`` for inputs ``x`` of shape ``(n, inputs)``."""
    params = _check_params(params)
    x = check_array("x", x, ndim=2)
    if x.shape[1] != params[0].shape[0]:
        raise ValueError(f"x must have {params[0].shape[0]} columns, got {x.shape[1]}")
    return _forward(params, x)[0]


def predict_proba(params: Any, x: Any) -> np.ndarray:
    """Class probabilities ``softmax(z)`` for inputs ``x``."""
    return np.exp(_log_softmax(logits(params, x)))


def data_loss(params: Any, x: Any, y: Any) -> float:
    """Mean cross-entropy ``mean_i(-log softmax(z_i)[y_i])`` (Keras' sparse categorical CE)."""
    z = logits(params, x)
    y = _check_labels("y", y, len(z), z.shape[1])
    return float(-_log_softmax(z)[np.arange(len(y)), y].mean())


def penalty_value(kernels: Any, penalty: str, lam: float) -> float:
    """The penalty of a list of kernels in the Keras convention (see the module docstring).

    ``"l2"``: ``lam * sum(W**2)``, ``"l1"``: ``lam * sum(|W|)``, ``"none"``: 0, summed over
    ``kernels``.  Equal to ``sum(reglab.penalties.keras_l2(W, lam) for W in kernels)``.
    """
    penalty = check_choice("penalty", penalty, PENALTIES)
    lam = check_scale("lam", lam)
    if isinstance(kernels, (str, bytes)) or not isinstance(kernels, Sequence):
        raise TypeError(f"kernels must be a list of arrays, got {type(kernels).__name__}")
    arrays = [check_array(f"kernels[{i}]", k) for i, k in enumerate(kernels)]
    return _penalty(arrays, penalty, lam)


def _penalty(kernels: list[np.ndarray], penalty: str, lam: float) -> float:
    if penalty == "none" or lam == 0.0:
        return 0.0
    if penalty == "l2":
        return lam * float(sum(np.sum(k * k) for k in kernels))
    return lam * float(sum(np.sum(np.abs(k)) for k in kernels))


def _check_labels(name: str, y: Any, n: int, classes: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be a 1-D array of integer labels, got {arr.dtype} {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"{name} must have {n} labels (one per row of x), got {len(arr)}")
    if len(arr) and (arr.min() < 0 or arr.max() >= classes):
        raise ValueError(f"{name} must hold labels in 0..{classes - 1}")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """One trained network and its history (one entry per step, step 0 before any update)."""

    dataset: str
    penalty: str
    lam: float
    params: list[np.ndarray]
    train_loss: np.ndarray  #: data loss on the training set (without the penalty)
    test_loss: np.ndarray  #: data loss on the test set
    penalty_curve: np.ndarray  #: the penalty term, Keras convention
    train_accuracy: float
    test_accuracy: float
    seconds: float = field(default=0.0, compare=False)  #: wall time of the training

    def __repr__(self) -> str:
        return (f"TrainResult({self.dataset!r}, {self.penalty!r}, lam={self.lam:g}, "
                f"steps={len(self.train_loss) - 1}, train_accuracy={self.train_accuracy:.3f}, "
                f"test_accuracy={self.test_accuracy:.3f})")

    @property
    def kernels(self) -> list[np.ndarray]:
        """The weight matrices ``W_l`` (what the penalty sees)."""
        return self.params[0::2]

    @property
    def sum_squares(self) -> float:
        """``sum_l sum(W_l**2)``: the squared norm of all kernels."""
        return float(sum(np.sum(k * k) for k in self.kernels))

    @property
    def sum_abs(self) -> float:
        """``sum_l sum(|W_l|)``."""
        return float(sum(np.sum(np.abs(k)) for k in self.kernels))

    @property
    def near_zero_fraction(self) -> float:
        """Share of kernel entries with ``|w| < NEAR_ZERO``."""
        flat = np.concatenate([k.ravel() for k in self.kernels])
        return float(np.mean(np.abs(flat) < NEAR_ZERO))

    @property
    def final_penalty(self) -> float:
        """The penalty of the trained kernels (Keras convention)."""
        return _penalty(self.kernels, self.penalty, self.lam)


def train_mlp(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    sizes: Sequence[int],
    penalty: str = "l2",
    lam: float = 0.0,
    steps: int = 300,
    learning_rate: float = 0.03,
    seed: int = 0,
    dataset: str = "custom",
) -> TrainResult:
    """Train a tanh MLP of layer widths ``sizes`` with full-batch Adam; see the module docstring.

    Returns a ``TrainResult`` whose curves have ``steps + 1`` entries (step 0 is the initial
    network).  The same ``seed`` gives the same initial weights for every penalty and lambda.
    """
    penalty = check_choice("penalty", penalty, PENALTIES)
    lam = check_scale("lam", lam)
    steps = check_int("steps", steps, minimum=1)
    learning_rate = check_scale("learning_rate", learning_rate, allow_zero=False)
    seed = check_int("seed", seed, minimum=0)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise TypeError("sizes must be a sequence of at least 2 layer widths")
    x_train = check_array("x_train", x_train, ndim=2)
    x_test = check_array("x_test", x_test, ndim=2)
    if x_train.shape[1] != sizes[0] or x_test.shape[1] != sizes[0]:
        raise ValueError(
            f"x_train and x_test must have sizes[0] = {sizes[0]} columns, "
            f"got {x_train.shape[1]} and {x_test.shape[1]}"
        )
    if len(x_train) == 0:
        raise ValueError("x_train must have at least one row")
    y_train = _check_labels("y_train", y_train, len(x_train), sizes[-1])
    y_test = _check_labels("y_test", y_test, len(x_test), sizes[-1])
    if penalty == "none":
        lam = 0.0

    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    started = time.perf_counter()
    with _one_blas_thread():
        result = _adam_loop(x_train, y_train, x_test, y_test, sizes, penalty, lam, steps,
                            learning_rate, seed)
    params, train_loss, test_loss, pen, train_acc, test_acc = result
    return TrainResult(
        dataset=dataset,
        penalty=penalty,
        lam=lam,
        params=params,
        train_loss=train_loss,
        test_loss=test_loss,
        penalty_curve=pen,
        train_accuracy=train_acc,
        test_accuracy=test_acc,
        seconds=time.perf_counter() - started,
    )


def _backward(params: list[np.ndarray], hs: list[np.ndarray], residual: np.ndarray,
              penalty: str, lam: float) -> list[np.ndarray]:
    """Gradients of data loss + penalty; ``residual = softmax(z) - onehot(y)``."""
    da = residual / len(residual)
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    for i in range(len(params) - 2, -1, -2):
        h = hs[i // 2]
        grads[i] = h.T @ da
        grads[i + 1] = da.sum(axis=0)
        if i:
            da = (da @ params[i].T) * (1.0 - h * h)
    if lam and penalty != "none":
        for i in range(0, len(params), 2):
            w = params[i]
            grads[i] += 2.0 * lam * w if penalty == "l2" else lam * np.sign(w)
    return grads


def loss_and_gradients(
    params: Any, x: Any, y: Any, *, penalty: str, lam: float
) -> tuple[float, float, list[np.ndarray]]:
    """``(data loss, penalty, gradients of their sum)`` for one batch, in float64.

    The gradients are the ones the explorer's training uses (formulas in the module
    docstring), returned in the order of ``params``; a test checks them against finite
    differences.
    """
    params = _check_params(params)
    penalty = check_choice("penalty", penalty, PENALTIES)
    lam = check_scale("lam", lam)
    x = check_array("x", x, ndim=2)
    if x.shape[1] != params[0].shape[0]:
        raise ValueError(f"x must have {params[0].shape[0]} columns, got {x.shape[1]}")
    classes = params[-1].shape[0]
    y = _check_labels("y", y, len(x), classes)
    z, hs = _forward(params, x)
    logp = _log_softmax(z)
    loss = float(-logp[np.arange(len(y)), y].mean())
    grads = _backward(params, hs, np.exp(logp) - np.eye(classes)[y], penalty, lam)
    return loss, _penalty(params[0::2], penalty, lam), grads


def _adam_loop(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
    sizes: Sequence[int], penalty: str, lam: float, steps: int, learning_rate: float, seed: int,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray, float, float]:
    params = initial_params(sizes, seed)
    kernels = params[0::2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    n = len(x_train)
    onehot = np.eye(sizes[-1], dtype=np.float32)[y_train]
    rows = np.arange(n)
    test_rows = np.arange(len(y_test))
    train_loss = np.empty(steps + 1)
    test_loss = np.empty(steps + 1)
    pen = np.empty(steps + 1)
    for t in range(steps + 1):
        z, hs = _forward(params, x_train)
        logp = _log_softmax(z)
        train_loss[t] = -logp[rows, y_train].mean()
        test_loss[t] = -_log_softmax(_forward(params, x_test)[0])[test_rows, y_test].mean()
        pen[t] = _penalty(kernels, penalty, lam)
        if t == steps:
            break
        grads = _backward(params, hs, np.exp(logp) - onehot, penalty, lam)
        # Adam, Keras defaults, cosine-decayed learning rate
        lr_t = learning_rate * 0.5 * (1.0 + math.cos(math.pi * t / steps))
        correction = math.sqrt(1.0 - BETA_2 ** (t + 1)) / (1.0 - BETA_1 ** (t + 1))
        for p, g, mp, vp in zip(params, grads, m, v, strict=True):
            mp *= BETA_1
            mp += (1.0 - BETA_1) * g
            vp *= BETA_2
            vp += (1.0 - BETA_2) * g * g
            p -= lr_t * correction * mp / (np.sqrt(vp) + EPSILON)
    train_acc = float(np.mean(np.argmax(z, axis=1) == y_train))
    test_acc = float(np.mean(np.argmax(_forward(params, x_test)[0], axis=1) == y_test))
    return params, train_loss, test_loss, pen, train_acc, test_acc
