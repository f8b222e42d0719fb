"""The explorer's logic: datasets, settings, a cache of trained networks, background prefetch.

TensorFlow Playground for regularization: pick a dataset, a penalty and its constant, and see the
decision boundary, the train/test curves and the weights change.  To answer within a second on a
2-core CPU the explorer does not use TensorFlow: it trains the small NumPy network of
``reglab.mlp`` (every formula in that module's docstring: the network, the Keras-convention
penalty, the gradients, Adam) on the whole training set at once, from the same initial weights
for every setting, and caches each result.  The figure is drawn by ``reglab.explorer_view``;
the widgets around it are ``reglab.widgets``.

Network (``SIZES``): ``2 -> 32 (tanh) -> 32 (tanh) -> 2`` on ``toy2d`` (two half-moons, 100
train / 300 test points), ``64 -> 32 (tanh) -> 10`` on ``digits`` (8x8 images, 1,437 / 360).
The penalty is on the kernels only, in the Keras convention: ``("l2", lam)`` is
``keras.regularizers.l2(lam)``, i.e. ``tf_slim.l2_regularizer(2 * lam)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from reglab._validate import check_choice, check_int, check_scale
from reglab.explorer_view import _FigureView, _plane
from reglab.mlp import (
    NEAR_ZERO,
    PENALTIES,
    TrainResult,
    _forward,
    _log_softmax,
    _one_blas_thread,
    initial_params,
    penalty_value,
    train_mlp,
)

__all__ = [
    "DATASETS", "NEAR_ZERO", "PENALTIES", "SIZES", "STEPS", "TEST_SIZE", "Explorer",
    "TrainResult", "initial_params", "lambda_grid", "penalty_value", "train_mlp",
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
