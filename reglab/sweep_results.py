"""What one training run of ``reglab.approaches`` gives: ``SweepResult``, and the log that builds it.

``step0_total_loss`` is the objective of the first batch before any update, as the approach
computes it; after each epoch, the data loss (mean cross-entropy on the whole training set) and
the penalty ``P``, both computed by the approach's own graph or model; at the end, the accuracy
and predicted classes on the test set, and the final weights.  ``P`` and ``lam`` follow
``convention`` (a key of ``reglab.penalties.CONVENTIONS``: slim's, the thread's), not the
explorer's Keras convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from reglab.sweep_run import CONVENTION

if TYPE_CHECKING:
    from reglab.sweep_run import Run


@dataclass(frozen=True, eq=False)  # __eq__ below compares the weight arrays too
class SweepResult:
    """One training run of EasyNet (see the module docstring for the definitions).

    ``lam``, ``final_penalty`` and ``penalty_curve`` follow ``convention``, the key of
    ``reglab.penalties.CONVENTIONS`` whose formula gives the penalty of one kernel:
    ``penalties.penalty(r.convention, k, r.lam)``.  The explorer's ``TrainResult`` names the
    same things ``params`` and ``train_loss`` (aliases here) but uses Keras' convention.
    """

    approach: str
    lam: float
    penalty: str
    convention: str
    dataset: str
    epochs: int
    test_accuracy: float
    final_data_loss: float
    final_penalty: float
    step0_total_loss: float
    predicted_class_counts: list[int]
    data_loss_curve: list[float]  #: data loss on the training set after each epoch
    penalty_curve: list[float]  #: the penalty ``P`` after each epoch
    weights: list[np.ndarray] = field(repr=False)  #: final ``[k0, b0, k1, b1, ...]``

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SweepResult):
            return NotImplemented
        return self.to_dict() == other.to_dict() and len(self.weights) == len(other.weights) and all(
            np.array_equal(a, b) for a, b in zip(self.weights, other.weights, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable lists inside

    @property
    def kernels(self) -> list[np.ndarray]:
        """The final kernels (what the penalty acts on), input layer first."""
        return [w for w in self.weights if w.ndim == 2]

    @property
    def params(self) -> list[np.ndarray]:
        """``weights`` under the name of the explorer's ``TrainResult.params``."""
        return self.weights

    @property
    def train_loss(self) -> list[float]:
        """``data_loss_curve`` under the name of ``TrainResult.train_loss`` (per epoch here)."""
        return self.data_loss_curve

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values, without the weights."""
        return {k: v for k, v in self.__dict__.items() if k != "weights"}


class RunLog:
    """Collects what an approach reports during ``run`` and builds its ``SweepResult``."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.step0: float | None = None
        self.data_loss: list[float] = []
        self.penalty: list[float] = []

    def first_step(self, total_loss: Any) -> None:
        """Record the objective of the very first batch (later calls are ignored)."""
        if self.step0 is None:
            self.step0 = float(total_loss)

    def end_epoch(self, data_loss: Any, penalty: Any) -> None:
        """Record the epoch's data loss and penalty; call ``on_epoch``."""
        self.data_loss.append(float(data_loss))
        self.penalty.append(float(penalty))
        if self.run.on_epoch is not None:
            self.run.on_epoch(len(self.data_loss), self.data_loss[-1], self.penalty[-1])

    def result(self, test_logits: Any, weights: list[Any]) -> SweepResult:
        """The ``SweepResult`` from the test-set logits and the final ``[k0, b0, k1, ...]``."""
        run = self.run
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        if [w.shape for w in weights] != [w.shape for w in run.weights]:
            raise RuntimeError(f"{run.approach} returned weights of shapes "
                               f"{[w.shape for w in weights]}, expected the start shapes")
        predicted = np.argmax(np.asarray(test_logits), axis=1)
        counts = np.bincount(predicted, minlength=run.split.num_classes)
        return SweepResult(
            approach=run.approach,
            lam=run.lam,
            penalty=run.penalty,
            convention=CONVENTION[run.penalty],
            dataset=run.dataset,
            epochs=run.epochs,
            test_accuracy=float(np.mean(predicted == run.split.y_test)),
            final_data_loss=self.data_loss[-1],
            final_penalty=self.penalty[-1],
            step0_total_loss=float(self.step0),
            predicted_class_counts=[int(c) for c in counts],
            data_loss_curve=self.data_loss,
            penalty_curve=self.penalty,
            weights=weights,
        )
