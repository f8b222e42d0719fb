"""The explorer's engine: small NumPy networks trained fast enough to redraw on every change.

TensorFlow Playground for regularization: pick a dataset, a penalty and its constant, and see the
decision boundary, the train/test curves and the weights change.  To answer within a second on a
2-core CPU the explorer does not use TensorFlow: it trains a small multilayer perceptron written
out here in NumPy, on the whole training set at once (full-batch Adam), from the same initial
weights for every setting, and caches each result.

Network (``SIZES``): ``2 -> 32 (tanh) -> 32 (tanh) -> 2`` on ``toy2d`` (two half-moons, 100
train / 300 test points), ``64 -> 32 (tanh) -> 10`` on ``digits`` (8x8 images, 1,437 / 360).
With ``h_0 = x``::

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
import io
import math
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reglab._validate import check_array, check_choice, check_int, check_scale

#: Layer widths per dataset.
SIZES: dict[str, tuple[int, ...]] = {"toy2d": (2, 32, 32, 2), "digits": (64, 32, 10)}
#: The datasets the explorer offers (``reglab.data.load_dataset`` names).
DATASETS: tuple[str, ...] = tuple(SIZES)
#: Penalty choices; "none" is lambda = 0.
PENALTIES: tuple[str, ...] = ("none", "l1", "l2")
#: Full-batch Adam steps per dataset (each step sees the whole training set).
STEPS: dict[str, int] = {"toy2d": 300, "digits": 150}
#: Test-set sizes passed to ``reglab.data.load_dataset``: toy2d keeps only 100 of its 400 points
#: for training, so that an unpenalized network overfits visibly, and 300 for a steady test loss;
#: digits keeps the default 1,437 train / 360 test.
TEST_SIZE: dict[str, int | None] = {"toy2d": 300, "digits": None}
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


# --------------------------------------------------------------------------------------------
# The explorer: state, cache, drawing
# --------------------------------------------------------------------------------------------


def lambda_grid(low_exp: int = -5, high_exp: int = 0, per_decade: int = 4) -> np.ndarray:
    """The slider's lambdas: ``10**(low_exp + k / per_decade)``, both ends included."""
    low_exp = check_int("low_exp", low_exp)
    high_exp = check_int("high_exp", high_exp)
    per_decade = check_int("per_decade", per_decade, minimum=1)
    if high_exp <= low_exp:
        raise ValueError(f"high_exp must be > low_exp, got {high_exp} <= {low_exp}")
    k = np.arange((high_exp - low_exp) * per_decade + 1)
    return 10.0 ** (low_exp + k / per_decade)


def _canonical_lam(lam: float) -> float:
    """Round lambda to 4 significant digits so that slider values hit the same cache entry."""
    return 0.0 if lam == 0.0 else float(f"{lam:.4g}")


class Explorer:
    """The explorer's logic without widgets: ``update`` trains (or recalls) and ``render`` draws.

    >>> ex = Explorer()
    >>> result = ex.update(dataset="toy2d", penalty="l2", lam=1e-2)   # doctest: +SKIP
    >>> fig = ex.render()                                               # doctest: +SKIP

    Results are cached per ``(dataset, penalty, lambda)`` (lambda rounded to 4 significant
    digits; "none" ignores lambda), so moving the slider back is instant.
    """

    def __init__(
        self,
        *,
        dataset: str = "toy2d",
        penalty: str = "l2",
        lam: float = 1e-3,
        seed: int = 0,
        learning_rate: float = 0.03,
        steps: int | None = None,
        prefetch: bool = False,
    ) -> None:
        if not isinstance(prefetch, bool):
            raise TypeError(f"prefetch must be True or False, got {type(prefetch).__name__}")
        self.prefetch_enabled = prefetch
        self.seed = check_int("seed", seed, minimum=0)
        self.learning_rate = check_scale("learning_rate", learning_rate, allow_zero=False)
        self.steps = None if steps is None else check_int("steps", steps, minimum=1)
        self.dataset = check_choice("dataset", dataset, DATASETS)
        self.penalty = check_choice("penalty", penalty, PENALTIES)
        self.lam = check_scale("lam", lam)
        self._data: dict[str, Any] = {}
        self._cache: dict[tuple[str, str, float], TrainResult] = {}
        self._views: dict[tuple[str, int], _FigureView] = {}
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, float], Future] = {}
        self._executor: ThreadPoolExecutor | None = None
        self.last_seconds = 0.0  #: wall time of the last ``update`` (0 when it hit the cache)

    # -- data and training -------------------------------------------------------------------

    def data(self, dataset: str | None = None) -> Any:
        """The dataset's ``reglab.data.Split`` (loaded once)."""
        name = self.dataset if dataset is None else check_choice("dataset", dataset, DATASETS)
        if name not in self._data:
            from reglab.data import load_dataset

            self._data[name] = load_dataset(name, test_size=TEST_SIZE[name], seed=self.seed)
        return self._data[name]

    def key(self, dataset: str, penalty: str, lam: float) -> tuple[str, str, float]:
        """The cache key: lambda rounded, and ``("none", 0.0)`` for no penalty or lambda 0."""
        dataset = check_choice("dataset", dataset, DATASETS)
        penalty = check_choice("penalty", penalty, PENALTIES)
        lam = _canonical_lam(check_scale("lam", lam))
        if penalty == "none" or lam == 0.0:
            return dataset, "none", 0.0
        return dataset, penalty, lam

    def result(self, dataset: str, penalty: str, lam: float) -> TrainResult:
        """The trained network for these settings: from the cache, from a prefetch, or now."""
        key = self.key(dataset, penalty, lam)
        with self._lock:
            hit = self._cache.get(key)
            pending = self._pending.get(key)
        if hit is not None:
            return hit
        if pending is not None:
            return pending.result()
        return self._train(key)

    def _train(self, key: tuple[str, str, float]) -> TrainResult:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        split = self.data(key[0])
        result = train_mlp(
            split.x_train,
            split.y_train,
            split.x_test,
            split.y_test,
            sizes=SIZES[key[0]],
            penalty=key[1],
            lam=key[2],
            steps=self.steps or STEPS[key[0]],
            learning_rate=self.learning_rate,
            seed=self.seed,
            dataset=key[0],
        )
        with self._lock:
            self._cache[key] = result
            self._pending.pop(key, None)
        return result

    def prefetch(self, settings: Sequence[tuple[str, str, float]]) -> int:
        """Train ``(dataset, penalty, lam)`` settings in a background thread, if enabled.

        The widget asks for the slider's neighbours after each redraw, so the next step of the
        slider is already in the cache.  Returns how many trainings were queued.
        """
        if isinstance(settings, (str, bytes)) or not isinstance(settings, Sequence):
            raise TypeError(f"settings must be a list of (dataset, penalty, lam), got "
                            f"{type(settings).__name__}")
        keys = []
        for i, item in enumerate(settings):
            if not isinstance(item, tuple) or len(item) != 3:
                raise TypeError(f"settings[{i}] must be a (dataset, penalty, lam) tuple")
            keys.append(self.key(*item))
        if not self.prefetch_enabled:
            return 0
        queued = 0
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="reglab-explorer")
            for key in keys:
                if key in self._cache or key in self._pending:
                    continue
                self._pending[key] = self._executor.submit(self._train, key)
                queued += 1
        return queued

    def close(self) -> None:
        """Stop the prefetch thread (waiting for the training under way)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._pending.clear()

    def update(
        self, *, dataset: str | None = None, penalty: str | None = None, lam: float | None = None
    ) -> TrainResult:
        """Change any of the settings (the others stay) and return the current result."""
        new_dataset = self.dataset if dataset is None else check_choice("dataset", dataset, DATASETS)
        new_penalty = self.penalty if penalty is None else check_choice("penalty", penalty, PENALTIES)
        new_lam = self.lam if lam is None else check_scale("lam", lam)
        self.dataset, self.penalty, self.lam = new_dataset, new_penalty, new_lam
        started = time.perf_counter()
        cached = self.key(new_dataset, new_penalty, new_lam) in self._cache
        result = self.result(new_dataset, new_penalty, new_lam)
        self.last_seconds = 0.0 if cached else time.perf_counter() - started
        return result

    @property
    def current(self) -> TrainResult:
        """The result for the current settings."""
        return self.result(self.dataset, self.penalty, self.lam)

    def precompute(self, lams: Sequence[float], *, dataset: str | None = None,
                   penalty: str | None = None) -> list[TrainResult]:
        """Train (or recall) every lambda of ``lams``, e.g. a slider's grid; returns the results."""
        dataset = self.dataset if dataset is None else dataset
        penalty = self.penalty if penalty is None else penalty
        if isinstance(lams, (str, bytes)) or not isinstance(lams, Sequence | np.ndarray):
            raise TypeError(f"lams must be a sequence of numbers, got {type(lams).__name__}")
        return [self.result(dataset, penalty, lam) for lam in lams]

    @property
    def cache_size(self) -> int:
        """How many settings have been trained so far."""
        return len(self._cache)

    # -- drawing -----------------------------------------------------------------------------

    def render(self, result: TrainResult | None = None, *, dpi: int = 72) -> Any:
        """Draw ``result`` (default: the current one) on a new matplotlib figure and return it.

        Panels: the decision boundary (toy2d) or the first-layer weights as 8x8 images (digits:
        a 64-D input has no boundary to draw); the data loss on train and test (the unpenalized
        network's test loss in grey); the penalty (log scale); the histogram of the kernel
        weights against the unpenalized network's (grey).  Axes limits depend on the dataset
        only, so figures for different settings compare at a glance.
        """
        result = self._check_result(result)
        dpi = check_int("dpi", dpi, minimum=20)
        reference = self.result(result.dataset, "none", 0.0)
        view = _FigureView(self.data(result.dataset), result.dataset, reference, dpi)
        view.show(result)
        return view.fig

    def render_png(self, result: TrainResult | None = None, *, dpi: int = 72) -> bytes:
        """The same drawing as ``render``, as PNG bytes: what the widget shows.

        Fast path: one figure per dataset is kept, its frame drawn once, and only the data
        artists are redrawn over it (blitting).
        """
        result = self._check_result(result)
        dpi = check_int("dpi", dpi, minimum=20)
        key = (result.dataset, dpi)
        if key not in self._views:
            reference = self.result(result.dataset, "none", 0.0)
            self._views[key] = _FigureView(self.data(result.dataset), result.dataset, reference,
                                           dpi, blit=True)
        return self._views[key].png(result)

    def probability_grid(
        self, result: TrainResult | None = None, *, size: int = 100
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(gx, gy, p)``: a ``size x size`` grid over the toy2d data and P(class 1) on it.

        For drawing a decision boundary yourself: ``plt.contourf(gx, gy, p)``.
        """
        result = self._check_result(result)
        size = check_int("size", size, minimum=2)
        if result.dataset != "toy2d":
            raise ValueError(f"result must be a toy2d result (2-D inputs), got {result.dataset!r}")
        gx, gy = _plane(self.data("toy2d"), size)
        points = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
        with _one_blas_thread():
            prob = np.exp(_log_softmax(_forward(result.params, points)[0]))[:, 1]
        return gx, gy, prob.reshape(gx.shape)

    def _check_result(self, result: Any) -> TrainResult:
        if result is None:
            return self.current
        if not isinstance(result, TrainResult):
            raise TypeError(f"result must be a TrainResult or None, got {type(result).__name__}")
        return result


class _FigureView:
    """One figure with fixed axes; ``show`` swaps a result's data in.

    The axes limits depend only on the dataset and the unpenalized network (``reference``), so
    with ``blit=True`` the frame, ticks and labels are drawn once and kept as a background
    bitmap; ``png`` then redraws only the changing artists over it (matplotlib's blitting) and
    encodes the result: about a tenth of the cost of a full draw, most of which is text.
    """

    def __init__(self, split: Any, dataset: str, reference: TrainResult, dpi: int,
                 *, blit: bool = False) -> None:
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullLocator

        self.dataset = dataset
        self.blit = blit
        self._background: Any = None
        self._contour: Any = None
        self.fig = Figure(figsize=(13.5, 3.4), dpi=dpi)
        self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.15, top=0.80, wspace=0.2)
        gs = self.fig.add_gridspec(1, 4, width_ratios=[1.0, 1.1, 1.1, 1.2])
        self.ax0, self.ax_loss, self.ax_pen, self.ax_hist = (
            self.fig.add_subplot(gs[i]) for i in range(4)
        )
        animated: list[Any] = []
        ax0 = self.ax0
        ax0.set(xticks=[], yticks=[])
        if dataset == "toy2d":
            gx, gy = _plane(split, 80)
            lo, hi = (gx.min(), gy.min()), (gx.max(), gy.max())
            self.gx, self.gy = gx, gy
            self.points = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
            self.image = ax0.imshow(np.zeros(gx.shape), origin="lower", cmap="RdBu", vmin=0,
                                    vmax=1, alpha=0.75, extent=(lo[0], hi[0], lo[1], hi[1]),
                                    aspect="auto", interpolation="bilinear")
            colors = np.array(["darkred", "navy"])
            self.dots = [
                ax0.scatter(split.x_test[:, 0], split.x_test[:, 1], c="none", s=10,
                            edgecolors=colors[split.y_test], linewidths=0.6, alpha=0.6),
                ax0.scatter(split.x_train[:, 0], split.x_train[:, 1], c=colors[split.y_train],
                            s=14, edgecolors="w", linewidths=0.6),
            ]
            ax0.set_xlim(lo[0], hi[0])
            ax0.set_ylim(lo[1], hi[1])
            ax0.set_title("decision boundary, P(class 1)\n(dots train, rings test)", fontsize=9)
            animated += [self.image, *self.dots]
        else:
            hidden = reference.params[0].shape[1]
            self.image = ax0.imshow(_first_layer_mosaic(reference.params[0]), cmap="RdBu",
                                    interpolation="nearest")
            self.dots = []
            ax0.set_title(f"first-layer weights: {hidden} units as 8x8 images\n"
                          "(64-D input: no boundary to draw)", fontsize=9)
            animated.append(self.image)
        steps = np.arange(len(reference.train_loss))
        last = int(steps[-1])
        # data loss: fixed limits from step 0 (the same for every setting: same initial weights)
        ax = self.ax_loss
        ax.plot(steps, reference.test_loss, color="0.65", lw=1, label="test, no penalty")
        self.line_train = ax.plot(steps, reference.train_loss, color="tab:blue", label="train")[0]
        self.line_test = ax.plot(steps, reference.test_loss, color="tab:orange", label="test")[0]
        top = 1.15 * max(float(reference.train_loss[0]), float(reference.test_loss.max()))
        ax.set(xlim=(0, last), ylim=(0.0, top))
        ax.set_title("data loss (penalty not included)", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        self.legend_loss = ax.legend(fontsize=7, loc="upper right")
        animated += [self.line_train, self.line_test]  # the legend stays in the background
        # penalty: log scale, fixed decades
        ax = self.ax_pen
        self.line_pen = ax.plot(steps, np.ones_like(steps, dtype=float), color="tab:red")[0]
        ax.set_yscale("log")
        ax.set(xlim=(0, last), ylim=(1e-5, 1e2))
        ax.set_xlabel("step", fontsize=8)
        self.title_pen = ax.set_title("penalty", fontsize=9)
        animated += [self.line_pen, self.title_pen]
        # weight histogram: fixed bins from the unpenalized network's largest weight
        ax = self.ax_hist
        ref_flat = np.concatenate([k.ravel() for k in reference.kernels])
        self.limit = 1.1 * float(np.abs(ref_flat).max())
        self.edges = np.linspace(-self.limit, self.limit, 61)
        ref_counts = np.histogram(np.clip(ref_flat, -self.limit, self.limit), self.edges)[0]
        ax.stairs(np.maximum(ref_counts, 0.5), self.edges, color="0.55", baseline=0.5,
                  label="no penalty")
        self.hist = ax.stairs(np.maximum(ref_counts, 0.5), self.edges, color="tab:green",
                              fill=True, alpha=0.6, baseline=0.5, label="this network")
        ax.set_yscale("log")
        ax.set(xlim=(-self.limit, self.limit), ylim=(0.5, 2.0 * ref_flat.size))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("weight value", fontsize=8)
        self.legend_hist = ax.legend(fontsize=7, loc="upper right")
        self.title_hist = ax.set_title("weights", fontsize=9)
        animated += [self.hist, self.title_hist]
        for ax in (self.ax_loss, self.ax_pen, self.ax_hist):
            ax.tick_params(labelsize=7)
        self.title = self.fig.suptitle("", fontsize=10)
        animated.append(self.title)
        self.animated = animated
        if blit:
            for artist in animated:
                artist.set_animated(True)

    def show(self, result: TrainResult) -> None:
        """Put ``result``'s data into the artists."""
        if self.dataset == "toy2d":
            with _one_blas_thread():
                prob = np.exp(_log_softmax(_forward(result.params, self.points)[0]))[:, 1]
            prob = prob.reshape(self.gx.shape)
            self.image.set_data(prob)
            if self._contour is not None:
                self._contour.remove()
            self._contour = self.ax0.contour(self.gx, self.gy, prob, levels=[0.5], colors="k",
                                             linewidths=1, animated=self.blit)
        else:
            self.image.set_data(_first_layer_mosaic(result.params[0]))
            limit = float(np.abs(result.params[0]).max()) or 1.0
            self.image.set_clim(-limit, limit)
        self.line_train.set_ydata(result.train_loss)
        self.line_test.set_ydata(result.test_loss)
        self.line_pen.set_ydata(np.where(result.penalty_curve > 0, result.penalty_curve, np.nan))
        self.title_pen.set_text(f"penalty  {_penalty_formula(result)}  (log scale)")
        flat = np.concatenate([k.ravel() for k in result.kernels])
        counts = np.histogram(np.clip(flat, -self.limit, self.limit), self.edges)[0]
        self.hist.set_data(np.maximum(counts, 0.5), self.edges)
        self.title_hist.set_text(
            f"weights: {100 * result.near_zero_fraction:.1f}% with |w| < {NEAR_ZERO:g}"
        )
        self.title.set_text(
            f"{result.dataset}   {_setting_label(result)}      train acc "
            f"{result.train_accuracy:.3f}   test acc {result.test_accuracy:.3f}   "
            f"sum w\u00b2 = {result.sum_squares:.3g}   sum |w| = {result.sum_abs:.3g}"
        )

    def png(self, result: TrainResult) -> bytes:
        """``result`` drawn over the kept background, as PNG bytes."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        if not self.blit:
            raise RuntimeError("png() needs a view built with blit=True")
        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(self.fig)
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        self.show(result)
        canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        head = len(self.dots) + 1  # the image and the dots, then the boundary line, then the rest
        for artist in [*self.animated[:head], self._contour, *self.animated[head:]]:
            if artist is not None:
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _plane(split: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``size x size`` mesh over the 2-D data with a margin of 0.5."""
    x = np.concatenate([split.x_train, split.x_test])
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    return np.meshgrid(np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size))


def _first_layer_mosaic(w: np.ndarray) -> np.ndarray:
    """Columns of the (64, hidden) kernel as 8x8 tiles in a near-square mosaic, NaN gaps."""
    hidden = w.shape[1]
    cols = math.ceil(math.sqrt(hidden))
    rows = math.ceil(hidden / cols)
    mosaic = np.full((rows * 9 + 1, cols * 9 + 1), np.nan)
    for j in range(hidden):
        r, c = divmod(j, cols)
        mosaic[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = w[:, j].reshape(8, 8)
    return mosaic


def _setting_label(result: TrainResult) -> str:
    if result.penalty == "none":
        return "no penalty"
    return f"{result.penalty.upper()}  lambda = {result.lam:.3g}"


def _penalty_formula(result: TrainResult) -> str:
    if result.penalty == "none":
        return "none"
    body = "sum w\u00b2" if result.penalty == "l2" else "sum |w|"
    return f"{result.lam:.3g} * {body}"
