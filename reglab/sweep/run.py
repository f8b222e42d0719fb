"""The settings of one EasyNet training run: ``make_run`` checks them once and builds a ``Run``.

A ``Run`` holds the settings, the data and EasyNet's start weights; every trainer of
``reglab.sweep.approaches`` takes one.  The sweep's penalty is named here, once.  Its **kind**
is ``"l2"`` or ``"l1"`` (a run without a penalty is ``lam=0``), and ``lam`` is meant in the
thread's **convention**, ``"slim"`` (answer 3's ``tf_slim``), for every kind and approach:

    kind="l2":  P = lam * sum over the kernels k of sum(k**2) / 2   (tf_slim.l2_regularizer(lam))
    kind="l1":  P = lam * sum over the kernels k of sum(|k|)        (tf_slim.l1_regularizer(lam))

That is not the explorer's convention (``reglab.explorer`` takes Keras', ``lam * sum(k**2)``
with no 1/2); ``CONVENTION`` is the key of ``reglab.penalties.CONVENTIONS`` that says so.

This module imports no TensorFlow: the command line reads the settings, their defaults and the
approaches' names from here before it decides to train.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab import data
from reglab.easynet import initial_weights
from reglab.params import (
    Array,
    Function,
    Integer,
    InvalidParameterError,
    ListOf,
    NoneOr,
    Options,
    Real,
    validated,
)

#: Hidden widths of EasyNet (answer 3); input and output widths follow the dataset.
HIDDEN = (200, 200)
#: Adam's epsilon in every approach (Keras' default; TF1's ``AdamOptimizer`` has 1e-8).
ADAM_EPSILON = 1e-7
#: What ``lam`` means in every run: the key of ``reglab.penalties.CONVENTIONS`` (slim's, the
#: thread's): ``lam * sum(k**2) / 2`` per kernel for L2, ``lam * sum(|k|)`` for L1.
CONVENTION = "slim"
#: The approaches of ``reglab.sweep.approaches`` (in the order of the notebooks) and the penalty
#: kinds (of ``reglab.penalties.KINDS``) each one supports: ``l2_loss`` is L2 by construction.
SUPPORTED_KINDS: dict[str, tuple[str, ...]] = {
    "get_variable": ("l2", "l1"),
    "variable_scope": ("l2", "l1"),
    "tf_layers": ("l2", "l1"),
    "tf_slim": ("l2", "l1"),
    "keras_fit": ("l2", "l1"),
    "keras_loop": ("l2", "l1"),
    "l2_loss": ("l2",),
}

#: ``on_epoch(epoch, data_loss, penalty)``: called after each epoch (epoch counts from 1).
EpochCallback = Callable[[int, float, float], Any]

#: The declared settings of a run (``make_run`` and ``reglab.sweep.approaches.train``).
SETTINGS = {
    "approach": Options(*SUPPORTED_KINDS),
    "lam": Real(0.0),
    "epochs": Integer(minimum=1),
    "dataset": Options(*data.DATASETS),
    "batch_size": Integer(minimum=1),
    "learning_rate": Real(0.0, open_minimum=True),
    "seed": Integer(minimum=0),
    "kind": Options("l2", "l1"),
    "on_epoch": NoneOr(Function()),
}


@dataclass(frozen=True, eq=False)  # eq=False: arrays inside; two runs are equal only if identical
class Run:
    """Everything a trainer needs: the settings of ``make_run``, the data and the start weights.

    ``lam`` is in the slim convention (``CONVENTION``): ``lam * sum(k**2) / 2`` per kernel for
    ``kind="l2"``, ``lam * sum(|k|)`` for ``kind="l1"``.
    """

    approach: str
    lam: float
    epochs: int
    dataset: str
    batch_size: int
    learning_rate: float
    seed: int
    kind: str
    split: data.Split
    weights: list[np.ndarray]  #: start weights ``[k0, b0, k1, b1, ...]``, float32
    on_epoch: EpochCallback | None = None

    def settings(self) -> dict[str, Any]:
        """The settings as plain values: ``make_run(**run.settings())`` builds the same run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("split", "weights", "on_epoch")}

    @validated(weights=ListOf(Array(ndim=(1, 2))))
    def with_weights(self, weights: list[Any]) -> Run:
        """This run started from ``weights`` (``[k0, b0, k1, ...]``, the shapes of ``self.weights``)."""
        if [w.shape for w in weights] != [w.shape for w in self.weights]:
            raise InvalidParameterError(
                f"weights must have the shapes {[w.shape for w in self.weights]}, "
                f"got {[w.shape for w in weights]}")
        return dataclasses.replace(self, weights=[w.astype(np.float32) for w in weights])

    def layers(self) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """``[(kernel, bias, is_last_layer), ...]`` of the start weights, input layer first."""
        pairs = list(zip(self.weights[0::2], self.weights[1::2], strict=True))
        return [(k, b, i == len(pairs) - 1) for i, (k, b) in enumerate(pairs)]

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The ``(x, y)`` batches of epoch ``epoch`` (from 0), in the shared order."""
        x, y = self.split.x_train, self.split.y_train
        for idx in data.minibatches(len(y), self.batch_size, epoch, self.seed):
            yield x[idx], y[idx]

    def epoch_arrays(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The training set permuted in epoch ``epoch``'s order: consecutive slices are its batches."""
        order = data.epoch_order(len(self.split.y_train), epoch, self.seed)
        return self.split.x_train[order], self.split.y_train[order]


@functools.lru_cache(maxsize=4)
def _load(dataset: str) -> data.Split:
    return data.load_dataset(dataset)


@validated(**SETTINGS)
def make_run(
    approach: str,
    lam: float,
    epochs: int,
    dataset: str = "mnist_subset",
    batch_size: int = 50,
    learning_rate: float = 1e-3,
    seed: int = 0,
    kind: str = "l2",
    on_epoch: EpochCallback | None = None,
) -> Run:
    """The ``Run`` of these settings, with the data and EasyNet's start weights loaded.

    ``approach`` is a key of ``SUPPORTED_KINDS``; ``kind`` ("l2" or "l1") one it supports.
    ``lam`` is in the slim convention: ``lam * sum(k**2) / 2`` per kernel for ``kind="l2"``
    (``keras.regularizers.l2(lam / 2)``, not ``l2(lam)``), ``lam * sum(|k|)`` for ``"l1"``.
    ``epochs`` passes over the training set of ``dataset`` (one of ``reglab.data.DATASETS``) in
    batches of ``batch_size``, Adam with ``learning_rate``; ``seed`` fixes the start weights
    (``reglab.easynet.initial_weights``) and the batch order.  ``on_epoch(epoch, data_loss,
    penalty)`` is called after each epoch.
    """
    if kind not in SUPPORTED_KINDS[approach]:
        raise InvalidParameterError(
            f"kind={kind!r} is not supported by approach {approach!r}; it supports "
            f"{', '.join(map(repr, SUPPORTED_KINDS[approach]))}")
    split = _load(dataset)
    if len(split.y_train) == 0 or len(split.y_test) == 0:
        raise InvalidParameterError(
            f"dataset {dataset!r} has {len(split.y_train)} training and {len(split.y_test)} "
            "test examples; both must be non-empty")
    sizes = (split.x_train.shape[1], *HIDDEN, split.num_classes)
    return Run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, kind, split,
               initial_weights(seed, sizes=sizes), on_epoch)
