"""The explorer's logic: datasets, a TensorFlow training engine, a cache, background prefetch.

TensorFlow Playground for regularization: pick a dataset, a penalty and its constant, and see the
decision boundary, the train/test curves and the weights change.  Each setting is trained by the
dataset's ``Engine``: a Keras model, ``keras.optimizers.Adam`` and a ``tf.GradientTape`` step
whose loss is ``data_loss + penalty``, the penalty from ``keras.regularizers.L1`` / ``L2`` on
the kernels, with every step of the training in ONE XLA-compiled ``tf.function``.  Each result
is cached.  The figure is drawn by ``reglab.explorer_view``; the widgets are ``reglab.widgets``.

Network (``SIZES``), with ``h_0 = x``::

    a_l = h_{l-1} @ W_l + b_l,      h_l = tanh(a_l)  (hidden layers),     z = a_L  (logits)

``2 -> 32 (tanh) -> 32 (tanh) -> 2`` on ``toy2d`` (two half-moons, 100 train / 300 test
points), ``64 -> 32 (tanh) -> 10`` on ``digits`` (8x8 images, 1,437 / 360).  Every setting
starts from the same weights, ``reglab.easynet.initial_weights(seed, sizes)`` (Xavier uniform
kernels, zero biases).  The loss minimized is data loss + penalty, the penalty on the kernels
``W_l`` only (not the biases), in the **Keras convention**::

    data loss  = mean_i( -log softmax(z_i)[y_i] )      keras.losses.SparseCategoricalCrossentropy
    "l2"       : penalty = lam * sum_l sum(W_l**2)     sum_l keras.regularizers.L2(lam)(W_l)
    "l1"       : penalty = lam * sum_l sum(|W_l|)      sum_l keras.regularizers.L1(lam)(W_l)
    "none"     : penalty = 0                           (lam = 0)

So the explorer's ``("l2", lam)`` is ``tf_slim.l2_regularizer(2 * lam)`` and
``2 * lam * tf.nn.l2_loss(W)``: no factor 1/2.  Every step sees the whole training set (full
batch) and applies ``keras.optimizers.Adam`` with Keras' defaults ``b1=0.9, b2=0.999,
eps=1e-7``, which for step ``t = 1, 2, ...`` and every parameter ``p`` with gradient ``g``
computes (Keras' ``Adam.update_step``; note that ``eps`` is added to ``sqrt(v)``, not to the
bias-corrected ``sqrt(v / (1 - b2**t))``)::

    m = b1 * m + (1 - b1) * g,    v = b2 * v + (1 - b2) * g**2
    p = p - lr_t * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

with the rate of ``keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)``:
``lr_t = lr * (1 + cos(pi * (t - 1) / steps)) / 2``.  The decay lets the L1 weights that the
penalty drives towards zero settle near it instead of jittering by about ``lr`` around it.

Speed: lambda lives in a ``tf.Variable`` read by the regularizer, so a new lambda (or a switch
between L1 and L2) is an assignment, not a new trace: each engine traces and compiles once
(about 2 s), then trains a new setting in a few hundredths of a second.  Op determinism
(``reglab.setup()``) allows ``tf.function(jit_compile=True)`` on the CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reglab._validate import check_array, check_choice, check_int, check_scale
from reglab.explorer_view import NEAR_ZERO, FigureView, plane
from reglab.penalties import PENALTIES, keras_l1, keras_l2

__all__ = [
    "DATASETS", "NEAR_ZERO", "PENALTIES", "SIZES", "STEPS", "TEST_SIZE", "Engine", "Explorer",
    "TrainResult", "lambda_grid",
]

#: Layer widths per dataset.
SIZES: dict[str, tuple[int, ...]] = {"toy2d": (2, 32, 32, 2), "digits": (64, 32, 10)}
#: The datasets the explorer offers (``reglab.data.load_dataset`` names).
DATASETS: tuple[str, ...] = tuple(SIZES)
#: Full-batch Adam steps per dataset (each step sees the whole training set).
STEPS: dict[str, int] = {"toy2d": 300, "digits": 150}
#: Test-set sizes passed to ``reglab.data.load_dataset``: toy2d keeps only 100 of its 400 points
#: for training, so that an unpenalized network overfits visibly, and 300 for a steady test loss;
#: digits keeps the default 1,437 train / 360 test.
TEST_SIZE: dict[str, int | None] = {"toy2d": 300, "digits": None}
#: The learning rate before the cosine decay.
LEARNING_RATE = 0.03


# --------------------------------------------------------------------------------------------
# One trained network
# --------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """One trained network and its history (one entry per step, step 0 before any update)."""

    dataset: str
    penalty: str
    lam: float
    params: list[np.ndarray]  #: ``[W_1, b_1, W_2, b_2, ...]`` after the last step
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
        return float(sum(np.sum(np.square(k, dtype=np.float64)) for k in self.kernels))

    @property
    def sum_abs(self) -> float:
        """``sum_l sum(|W_l|)``."""
        return float(sum(np.sum(np.abs(k), dtype=np.float64) for k in self.kernels))

    @property
    def near_zero_fraction(self) -> float:
        """Share of kernel entries with ``|w| < NEAR_ZERO``."""
        flat = np.concatenate([k.ravel() for k in self.kernels])
        return float(np.mean(np.abs(flat) < NEAR_ZERO))

    @property
    def final_penalty(self) -> float:
        """The penalty of the trained kernels, Keras convention, in NumPy (float64)."""
        formula = keras_l1 if self.penalty == "l1" else keras_l2
        return float(sum(formula(k, self.lam) for k in self.kernels))

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities ``softmax(z)`` of the trained network for inputs ``x`` (NumPy).

        For drawing only (the decision boundary): a forward pass with the trained weights.
        """
        h = check_array("x", x, ndim=2).astype(np.float32)  # the weights are float32
        if h.shape[1] != self.params[0].shape[0]:
            raise ValueError(f"x must have {self.params[0].shape[0]} columns, got {h.shape[1]}")
        for i in range(0, len(self.params) - 2, 2):
            h = np.tanh(h @ self.params[i] + self.params[i + 1])
        z = h @ self.params[-2] + self.params[-1]
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# The engine: Keras model + Keras Adam + one compiled loop of GradientTape steps
# --------------------------------------------------------------------------------------------


class Engine:
    """Trains the explorer's network on one dataset, for any penalty and lambda.

    >>> engine = Engine("toy2d")                              # doctest: +SKIP
    >>> result = engine.train(1e-3, "l2")                     # doctest: +SKIP

    ``train(lam, "l2")`` adds ``keras.regularizers.L2(lam)`` of every kernel to the loss
    (``lam * sum(W**2)``), ``train(lam, "l1")`` adds ``keras.regularizers.L1(lam)``
    (``lam * sum(|W|)``), and ``train(0.0)`` or ``penalty="none"`` none.  ``steps`` defaults to
    ``STEPS[dataset]``; ``split`` (a ``reglab.data.Split``) to
    ``load_dataset(dataset, test_size=TEST_SIZE[dataset], seed=seed)``.

    The first ``train`` traces and XLA-compiles the loop (``traces`` counts it); later ones
    reset the weights and Adam's slots, assign the two lambdas and run the compiled loop again.
    A lock makes trainings from several threads run one after the other.
    """

    def __init__(
        self,
        dataset: str = "toy2d",
        *,
        steps: int | None = None,
        learning_rate: float = LEARNING_RATE,
        seed: int = 0,
        split: Any = None,
    ) -> None:
        self.dataset = check_choice("dataset", dataset, DATASETS)
        self.steps = STEPS[dataset] if steps is None else check_int("steps", steps, minimum=1)
        self.learning_rate = check_scale("learning_rate", learning_rate, allow_zero=False)
        self.seed = check_int("seed", seed, minimum=0)
        if split is None:
            from reglab.data import load_dataset

            split = load_dataset(dataset, test_size=TEST_SIZE[dataset], seed=self.seed)
        for name in ("x_train", "y_train", "x_test", "y_test"):
            if not hasattr(split, name):
                raise TypeError(f"split must be a reglab.data.Split, got {type(split).__name__}")
        if split.x_train.shape[1] != SIZES[dataset][0]:
            raise ValueError(f"split must have {SIZES[dataset][0]} input columns for "
                             f"{dataset!r}, got {split.x_train.shape[1]}")
        from reglab.easynet import initial_weights

        self.split = split  #: the data it trains and tests on
        self.initial_weights = initial_weights(self.seed, SIZES[dataset])
        self._lock = threading.Lock()
        self._build(split)

    def _build(self, split: Any) -> None:
        from reglab.repro import quiet_logs

        quiet_logs()
        import keras
        import tensorflow as tf

        sizes = SIZES[self.dataset]
        model = keras.Sequential([keras.Input((sizes[0],))])
        for width in sizes[1:-1]:
            model.add(keras.layers.Dense(width, activation="tanh"))
        model.add(keras.layers.Dense(sizes[-1]))  # the logits
        model.set_weights(self.initial_weights)
        kernels = [layer.kernel for layer in model.layers]  # what the penalty sees: no biases

        # The penalty, Keras' regularizers on every kernel.  Their constants are variables, so
        # a new lambda is an assignment, not a new trace; the one not in use is 0.
        self.lam_l1 = tf.Variable(0.0, trainable=False, name="lam_l1")
        self.lam_l2 = tf.Variable(0.0, trainable=False, name="lam_l2")
        l1 = keras.regularizers.L1(0.0)  # l1(W) = lam_l1 * sum(|W|)
        l1.l1 = self.lam_l1
        l2 = keras.regularizers.L2(0.0)  # l2(W) = lam_l2 * sum(W**2)
        l2.l2 = self.lam_l2

        schedule = keras.optimizers.schedules.CosineDecay(self.learning_rate, self.steps)
        optimizer = keras.optimizers.Adam(learning_rate=schedule)
        optimizer.build(model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.model, self.optimizer = model, optimizer
        # Adam's state to reset before each training: the iteration count and the slots m, v
        # (not all of optimizer.variables: with a float rate they hold the learning rate too)
        slots = [v for v in optimizer.variables if v.path.endswith(("_momentum", "_velocity"))]
        self._state = [(v, np.zeros(v.shape, v.dtype)) for v in [optimizer.iterations, *slots]]

        x_train = tf.constant(split.x_train, tf.float32)
        y_train = tf.constant(split.y_train, tf.int64)
        x_test = tf.constant(split.x_test, tf.float32)
        y_test = tf.constant(split.y_test, tf.int64)
        steps = self.steps
        variables = model.trainable_variables

        def accuracy(x: Any, y: Any) -> Any:
            return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(model(x), 1), y), tf.float32))

        @tf.function(jit_compile=True)
        def train_loop() -> Any:
            train_curve = tf.TensorArray(tf.float32, size=steps + 1)
            test_curve = tf.TensorArray(tf.float32, size=steps + 1)
            penalty_curve = tf.TensorArray(tf.float32, size=steps + 1)
            for t in tf.range(steps):
                with tf.GradientTape() as tape:
                    data_loss = loss_fn(y_train, model(x_train))
                    penalty = tf.add_n([l1(kernel) + l2(kernel) for kernel in kernels])
                    loss = data_loss + penalty
                gradients = tape.gradient(loss, variables)
                train_curve = train_curve.write(t, data_loss)
                test_curve = test_curve.write(t, loss_fn(y_test, model(x_test)))
                penalty_curve = penalty_curve.write(t, penalty)
                optimizer.apply(gradients, variables)
            train_curve = train_curve.write(steps, loss_fn(y_train, model(x_train)))
            test_curve = test_curve.write(steps, loss_fn(y_test, model(x_test)))
            penalty_curve = penalty_curve.write(steps, tf.add_n([l1(k) + l2(k) for k in kernels]))
            return (train_curve.stack(), test_curve.stack(), penalty_curve.stack(),
                    accuracy(x_train, y_train), accuracy(x_test, y_test))

        self._train_loop = train_loop

    @property
    def traces(self) -> int:
        """How many times the training loop was traced (and compiled): 0 or 1."""
        return self._train_loop.experimental_get_tracing_count()

    def train(self, lam: float, penalty: str = "l2") -> TrainResult:
        """Train from the initial weights with ``penalty`` ("l1", "l2", "none") of constant ``lam``."""
        lam = check_scale("lam", lam)
        penalty = check_choice("penalty", penalty, PENALTIES)
        if penalty == "none" or lam == 0.0:
            penalty, lam = "none", 0.0
        started = time.perf_counter()
        with self._lock:
            for variable, value in zip(self.model.weights, self.initial_weights, strict=True):
                variable.assign(value)
            for variable, zeros in self._state:
                variable.assign(zeros)
            self.lam_l1.assign(lam if penalty == "l1" else 0.0)
            self.lam_l2.assign(lam if penalty == "l2" else 0.0)
            curves = [out.numpy() for out in self._train_loop()]
            params = [w.numpy() for w in self.model.weights]
        train_loss, test_loss, penalty_curve, train_acc, test_acc = curves
        return TrainResult(
            dataset=self.dataset,
            penalty=penalty,
            lam=lam,
            params=params,
            train_loss=train_loss.astype(np.float64),
            test_loss=test_loss.astype(np.float64),
            penalty_curve=penalty_curve.astype(np.float64),
            train_accuracy=float(train_acc),
            test_accuracy=float(test_acc),
            seconds=time.perf_counter() - started,
        )


# --------------------------------------------------------------------------------------------
# The explorer: settings, cache, prefetch (the drawing is in reglab.explorer_view)
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


Key = tuple[str, str, float]


class Explorer:
    """The explorer's logic without widgets: ``update`` trains (or recalls) and ``render`` draws.

    >>> ex = Explorer()
    >>> result = ex.update(dataset="toy2d", penalty="l2", lam=1e-2)   # doctest: +SKIP
    >>> fig = ex.render()                                               # doctest: +SKIP

    Results are cached per ``(dataset, penalty, lambda)`` (lambda rounded to 4 significant
    digits; "none" ignores lambda), so moving the slider back is instant.  Trainings run on one
    ``Engine`` per dataset, built on first use.  With ``prefetch=True``, the starting setting
    and its unpenalized reference are trained at once in a background thread: the engine
    compiles while the student reads.
    """

    def __init__(
        self,
        *,
        dataset: str = "toy2d",
        penalty: str = "l2",
        lam: float = 1e-3,
        seed: int = 0,
        learning_rate: float = LEARNING_RATE,
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
        self._engines: dict[str, Engine] = {}
        self._cache: dict[Key, TrainResult] = {}
        self._views: dict[tuple[str, int], FigureView] = {}
        self._lock = threading.Lock()  # guards the dicts above
        self._build_lock = threading.Lock()  # one data load / engine build at a time
        self._pending: dict[Key, Future] = {}
        self._executor: ThreadPoolExecutor | None = None
        if prefetch:
            self.prefetch([(self.dataset, self.penalty, self.lam), (self.dataset, "none", 0.0)])

    # -- data and training -------------------------------------------------------------------

    def data(self, dataset: str | None = None) -> Any:
        """The dataset's ``reglab.data.Split`` (loaded once)."""
        name = self.dataset if dataset is None else check_choice("dataset", dataset, DATASETS)
        with self._build_lock:
            if name not in self._data:
                from reglab.data import load_dataset

                self._data[name] = load_dataset(name, test_size=TEST_SIZE[name], seed=self.seed)
        return self._data[name]

    def engine(self, dataset: str) -> Engine:
        """The ``Engine`` that trains on ``dataset`` (built once, compiled at its first use)."""
        dataset = check_choice("dataset", dataset, DATASETS)
        split = self.data(dataset)
        with self._build_lock:
            if dataset not in self._engines:
                self._engines[dataset] = Engine(dataset, steps=self.steps,
                                                learning_rate=self.learning_rate,
                                                seed=self.seed, split=split)
            return self._engines[dataset]

    def key(self, dataset: str, penalty: str, lam: float) -> Key:
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
            return pending.result()  # a failed prefetch raises here once, then is forgotten
        return self._train(key)

    def _train(self, key: Key) -> TrainResult:
        try:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            result = self.engine(key[0]).train(key[2], key[1])
            with self._lock:
                self._cache[key] = result
            return result
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def prefetch(self, settings: Sequence[tuple[str, str, float]]) -> int:
        """Train ``(dataset, penalty, lam)`` settings in a background thread, if enabled.

        The widget asks for the slider's neighbours after each redraw, so the next step of the
        slider is already in the cache.  Returns how many trainings were queued.  A training
        that fails raises in the ``result`` call that waits for it, and is then forgotten: the
        next ``result`` for that setting trains again.
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
        return self.result(new_dataset, new_penalty, new_lam)

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
        view = FigureView(self.data(result.dataset), result.dataset, reference, dpi)
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
            self._views[key] = FigureView(self.data(result.dataset), result.dataset, reference,
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
        gx, gy = plane(self.data("toy2d"), size)
        prob = result.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))[:, 1]
        return gx, gy, prob.reshape(gx.shape)

    def _check_result(self, result: Any) -> TrainResult:
        if result is None:
            return self.current
        if not isinstance(result, TrainResult):
            raise TypeError(f"result must be a TrainResult or None, got {type(result).__name__}")
        return result
