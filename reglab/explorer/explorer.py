"""The explorer without widgets: its settings, a cache of trained settings, background prefetch.

``Explorer`` keeps the current setting ``(dataset, kind, lam)``, trains each setting once with
the dataset's ``reglab.explorer.engine.Engine`` (built on first use) and keeps the result, so
moving the slider back is instant.  With ``prefetch=True`` a background thread trains ahead:
the starting setting and its unpenalized reference at once (the engine compiles while the
student reads), then the slider's neighbours of each setting shown.  ``render_png`` draws a
result with ``reglab.explorer.figure``; the widgets are ``reglab.explorer.widgets``.

Arguments are checked once, at the public methods; the slider's path (``update``, then
``reference``, ``render_png()``, ``prefetch_neighbours()``) checks the dataset, kind and lam
once per move.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from reglab.explorer.controls import LAM_MAX_EXP, LAM_MIN_EXP, LAM_STEP_EXP
from reglab.explorer.engine import DATASETS, KINDS, LEARNING_RATE, TEST_SIZE, Engine
from reglab.explorer.figure import FigureView, plane
from reglab.explorer.result import TrainResult
from reglab.params import (
    Boolean,
    InstanceOf,
    Integer,
    InvalidParameterError,
    ListOf,
    NoneOr,
    Options,
    Real,
    validated,
)

__all__ = ["Explorer"]

_DATASET, _KIND, _LAM = Options(*DATASETS), Options(*KINDS), Real(0.0)
_RESULT = NoneOr(InstanceOf("reglab.explorer.result:TrainResult"))

#: A cache key: ``(dataset, kind, lam)``, lam rounded to 4 significant digits.
Key = tuple[str, str, float]


def _key(dataset: str, kind: str, lam: float) -> Key:
    """The cache key: lambda rounded so that slider values with float noise hit the same entry,
    and ``("none", 0.0)`` for no penalty or lambda 0."""
    lam = 0.0 if lam == 0.0 else float(f"{lam:.4g}")
    if kind == "none" or lam == 0.0:
        return dataset, "none", 0.0
    return dataset, kind, lam


class Explorer:
    """The explorer's logic: ``update`` trains (or recalls) a setting, ``render_png`` draws it.

    >>> ex = Explorer()
    >>> result = ex.update(dataset="toy2d", kind="l2", lam=1e-2)     # doctest: +SKIP
    >>> png = ex.render_png(result)                                  # doctest: +SKIP

    Results are cached per ``(dataset, kind, lambda)`` (lambda rounded to 4 significant digits;
    "none" ignores lambda).  ``seed``, ``learning_rate`` and ``steps`` go to every ``Engine``.
    """

    @validated(dataset=_DATASET, kind=_KIND, lam=_LAM, seed=Integer(minimum=0),
               learning_rate=Real(0.0, open_minimum=True), steps=NoneOr(Integer(minimum=1)),
               prefetch=Boolean())
    def __init__(
        self,
        *,
        dataset: str = "toy2d",
        kind: str = "l2",
        lam: float = 1e-3,
        seed: int = 0,
        learning_rate: float = LEARNING_RATE,
        steps: int | None = None,
        prefetch: bool = False,
    ) -> None:
        self.dataset, self.kind, self.lam = dataset, kind, lam  #: the current setting
        self.seed, self.learning_rate, self.steps = seed, learning_rate, steps
        self.prefetch_enabled = prefetch  #: whether ``prefetch`` trains ahead (else it does nothing)
        self._data: dict[str, Any] = {}
        self._engines: dict[str, Engine] = {}
        self._cache: dict[Key, TrainResult] = {}
        self._views: dict[tuple[str, int], FigureView] = {}
        self._lock = threading.Lock()  # guards the dicts above and _pending
        self._build_lock = threading.Lock()  # one data load / engine build at a time
        self._pending: dict[Key, Future] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._prefetch([_key(dataset, kind, lam), (dataset, "none", 0.0)])

    # -- data and engines --------------------------------------------------------------------

    @validated(dataset=NoneOr(_DATASET))
    def data(self, dataset: str | None = None) -> Any:
        """The ``reglab.data.Split`` of ``dataset`` (default: the current one), loaded once."""
        return self._split(self.dataset if dataset is None else dataset)

    def _split(self, dataset: str) -> Any:
        with self._build_lock:
            if dataset not in self._data:
                from reglab.data import load_dataset

                self._data[dataset] = load_dataset(dataset, test_size=TEST_SIZE[dataset],
                                                   seed=self.seed)
        return self._data[dataset]

    @validated(dataset=_DATASET)
    def engine(self, dataset: str) -> Engine:
        """The ``Engine`` that trains on ``dataset`` (built once, compiled at its first use)."""
        return self._engine(dataset)

    def _engine(self, dataset: str) -> Engine:
        split = self._split(dataset)
        with self._build_lock:
            if dataset not in self._engines:
                self._engines[dataset] = Engine(dataset, steps=self.steps,
                                                learning_rate=self.learning_rate,
                                                seed=self.seed, split=split)
            return self._engines[dataset]

    # -- results: the cache, training now, training ahead -------------------------------------

    @validated(dataset=_DATASET, kind=_KIND, lam=_LAM)
    def result(self, dataset: str, kind: str, lam: float) -> TrainResult:
        """The trained network for this setting: from the cache, from a prefetch, or now."""
        return self._result(_key(dataset, kind, lam))

    def _result(self, key: Key) -> TrainResult:
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
            dataset, kind, lam = key
            result = self._engine(dataset)._train(lam, kind)
            with self._lock:
                self._cache[key] = result
            return result
        finally:
            with self._lock:
                self._pending.pop(key, None)

    @validated(dataset=_DATASET, kind=_KIND, lam=_LAM)
    def trained(self, dataset: str, kind: str, lam: float) -> bool:
        """Whether this setting's result is in the cache (``result`` would answer at once)."""
        with self._lock:
            return _key(dataset, kind, lam) in self._cache

    @validated(dataset=_DATASET)
    def compiled(self, dataset: str) -> bool:
        """Whether ``dataset``'s engine has compiled its training loop (its first training does)."""
        with self._lock:
            engine = self._engines.get(dataset)
        return engine is not None and engine.traces > 0

    @validated(dataset=NoneOr(_DATASET), kind=NoneOr(_KIND), lam=NoneOr(_LAM))
    def update(self, *, dataset: str | None = None, kind: str | None = None,
               lam: float | None = None) -> TrainResult:
        """Change any of the settings (the others stay) and return the current result."""
        if dataset is not None:
            self.dataset = dataset
        if kind is not None:
            self.kind = kind
        if lam is not None:
            self.lam = lam
        return self.current

    @property
    def current(self) -> TrainResult:
        """The result for the current setting."""
        return self._result(_key(self.dataset, self.kind, self.lam))

    @property
    def reference(self) -> TrainResult:
        """The unpenalized network of the current dataset (the figure's grey curves)."""
        return self._result((self.dataset, "none", 0.0))

    @validated(lams=ListOf(_LAM), dataset=NoneOr(_DATASET), kind=NoneOr(_KIND))
    def precompute(self, lams: list[float], *, dataset: str | None = None,
                   kind: str | None = None) -> list[TrainResult]:
        """Train (or recall) every lambda of ``lams`` now, e.g. a slider's grid; the results.

        ``dataset`` and ``kind`` default to the current ones.
        """
        dataset = self.dataset if dataset is None else dataset
        kind = self.kind if kind is None else kind
        return [self._result(_key(dataset, kind, lam)) for lam in lams]

    @validated(lams=ListOf(_LAM), dataset=NoneOr(_DATASET), kind=NoneOr(_KIND))
    def prefetch(self, lams: list[float], *, dataset: str | None = None,
                 kind: str | None = None) -> int:
        """Train every lambda of ``lams`` in a background thread, if ``prefetch_enabled``.

        ``precompute`` in the background: returns how many trainings were queued (none for a
        setting cached or queued already).  A training that fails raises in the ``result`` call
        that waits for it, and is then forgotten: the next ``result`` trains again.
        """
        dataset = self.dataset if dataset is None else dataset
        kind = self.kind if kind is None else kind
        return self._prefetch([_key(dataset, kind, lam) for lam in lams])

    def prefetch_neighbours(self) -> int:
        """Prefetch the current setting's two neighbours on the slider, inside its range.

        ``lam * 10**LAM_STEP_EXP`` and ``lam / 10**LAM_STEP_EXP`` (``reglab.explorer.controls``):
        what the widget asks for after each redraw, so that the next step of the slider is
        already in the cache.  Nothing for kind "none".  Returns how many were queued.
        """
        if self.kind == "none":
            return 0
        low, high = 10.0**LAM_MIN_EXP * (1 - 1e-9), 10.0**LAM_MAX_EXP * (1 + 1e-9)
        step = 10.0**LAM_STEP_EXP
        return self._prefetch([_key(self.dataset, self.kind, lam)
                               for lam in (self.lam * step, self.lam / step) if low <= lam <= high])

    def _prefetch(self, keys: list[Key]) -> int:
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

    @property
    def cache_size(self) -> int:
        """How many settings have been trained so far."""
        return len(self._cache)

    # -- drawing ------------------------------------------------------------------------------

    @validated(result=_RESULT, dpi=Integer(minimum=20))
    def render_png(self, result: TrainResult | None = None, *, dpi: int = 72) -> bytes:
        """``result`` (default: the current one) drawn as PNG bytes: what the widget shows.

        Four panels (``reglab.explorer.figure``): the decision boundary (toy2d) or the
        first-layer weights (digits), the data loss per step, the penalty per step, the weight
        histogram, each against the unpenalized network's in grey.  One figure per dataset and
        ``dpi`` is kept, its frame drawn once; only the data is redrawn (blitting).
        """
        result = self.current if result is None else result
        key = (result.dataset, dpi)
        if key not in self._views:
            reference = self._result((result.dataset, "none", 0.0))
            self._views[key] = FigureView(self._split(result.dataset), result.dataset, reference,
                                          dpi, blit=True)
        return self._views[key].png(result)

    @validated(result=_RESULT, size=Integer(minimum=2))
    def probability_grid(
        self, result: TrainResult | None = None, *, size: int = 100
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(gx, gy, p)``: a ``size x size`` grid over the toy2d data and P(class 1) on it.

        For drawing a decision boundary yourself: ``plt.contourf(gx, gy, p)``.  ``result``
        (default: the current one) must be a toy2d result.
        """
        result = self.current if result is None else result
        if result.dataset != "toy2d":
            raise InvalidParameterError(
                f"result must be a toy2d result (2-D inputs); got a {result.dataset!r} result")
        gx, gy = plane(self._split("toy2d"), size)
        prob = result.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))[:, 1]
        return gx, gy, prob.reshape(gx.shape)
