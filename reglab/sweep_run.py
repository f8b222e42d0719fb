"""The settings of one EasyNet training run (``reglab.approaches``): what every approach shares.

A ``Run`` holds validated settings, the data and EasyNet's start weights; ``reglab.approaches``
builds it (``make_run``) and hands it to one of the seven trainers.  The penalty kinds and the
lambda convention are named here, once:

    penalty="l2":  P = lam * sum over the kernels k of sum(k**2) / 2   (tf_slim.l2_regularizer)
    penalty="l1":  P = lam * sum over the kernels k of sum(|k|)        (tf_slim.l1_regularizer)

This is the thread's convention (answer 3, slim's), not the explorer's (``reglab.explorer``:
Keras', ``lam * sum(k**2)`` with no 1/2); ``CONVENTION`` maps each kind to its key of
``reglab.penalties.CONVENTIONS``, where the NumPy formula lives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab import data as _data
from reglab._validate import InvalidParameterError
from reglab.penalties import PENALTIES as _ALL_PENALTIES
from reglab.train import epoch_order, minibatches

#: Hidden widths of EasyNet (answer 3); input and output widths follow the dataset.
HIDDEN = (200, 200)
#: Adam's epsilon in every approach (Keras' default).
ADAM_EPSILON = 1e-7
#: The penalty kinds a run accepts: ``reglab.penalties.PENALTIES`` without "none" (a run with
#: no penalty is ``lam=0``).
PENALTIES: tuple[str, ...] = tuple(p for p in _ALL_PENALTIES if p != "none")
#: Penalty kind -> the key of ``reglab.penalties.CONVENTIONS`` whose formula ``lam`` follows.
CONVENTION: dict[str, str] = {"l2": "tf_slim.l2_regularizer", "l1": "tf_slim.l1_regularizer"}

#: ``on_epoch(epoch, data_loss, penalty)``: called after each epoch (epoch counts from 1).
EpochCallback = Callable[[int, float, float], Any]


def check_split(dataset: str, split: _data.Split) -> _data.Split:
    """Return ``split`` if its training and test sets are both non-empty (no NaN accuracy)."""
    if len(split.y_train) == 0 or len(split.y_test) == 0:
        raise InvalidParameterError(
            f"dataset {dataset!r} has {len(split.y_train)} training and {len(split.y_test)} "
            "test examples; both must be non-empty")
    return split


@dataclass(frozen=True, eq=False)  # eq=False: arrays inside; two runs are equal only if identical
class Run:
    """Everything an approach needs: validated settings, the data and EasyNet's start weights.

    ``lam`` follows ``CONVENTION[penalty]`` (slim's: ``lam * sum(k**2) / 2`` for L2).
    """

    approach: str
    lam: float
    epochs: int
    dataset: str
    batch_size: int
    learning_rate: float
    seed: int
    penalty: str
    split: _data.Split
    weights: list[np.ndarray]
    on_epoch: EpochCallback | None = None

    def __post_init__(self) -> None:
        check_split(self.dataset, self.split)

    def settings(self) -> dict[str, Any]:
        """The settings as plain values: ``make_run(**run.settings())`` builds the same run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("split", "weights", "on_epoch")}

    def with_weights(self, weights: list[Any]) -> Run:
        """This run started from ``weights`` (``[k0, b0, k1, ...]``, the shapes of ``self.weights``)."""
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        if [w.shape for w in weights] != [w.shape for w in self.weights]:
            raise InvalidParameterError(
                f"weights must have the shapes {[w.shape for w in self.weights]}, "
                f"got {[w.shape for w in weights]}")
        return dataclasses.replace(self, weights=weights)

    def layers(self) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """``[(kernel, bias, is_last_layer), ...]`` of the start weights, input layer first."""
        pairs = list(zip(self.weights[0::2], self.weights[1::2], strict=True))
        return [(k, b, i == len(pairs) - 1) for i, (k, b) in enumerate(pairs)]

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The ``(x, y)`` batches of epoch ``epoch`` (from 0), in the shared order."""
        x, y = self.split.x_train, self.split.y_train
        for idx in minibatches(len(y), self.batch_size, epoch, self.seed):
            yield x[idx], y[idx]

    def epoch_arrays(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The training set permuted in epoch ``epoch``'s order: consecutive slices are its batches."""
        order = epoch_order(len(self.split.y_train), epoch, self.seed)
        return self.split.x_train[order], self.split.y_train[order]
