"""What one training run of ``reglab.sweep.approaches`` gives: ``SweepResult``, and the log that builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reglab.sweep.run import CONVENTION, Run


@dataclass(frozen=True, eq=False)  # __eq__ below compares the weight arrays too
class SweepResult:
    """One training run of EasyNet by one approach.

    ``kind`` ("l2" or "l1"), ``lam`` and ``convention`` name the penalty: ``convention`` is
    ``"slim"`` (a key of ``reglab.penalties.CONVENTIONS``), so the penalty ``P`` of the kernels
    ``k`` is ``lam * sum(k**2) / 2`` summed over the kernels for L2 and ``lam * sum(|k|)`` for L1.

    ``step0_total_loss`` is the objective of the first batch before any update (batch data loss
    + ``P``), as the approach computes it.  The curves have one point per epoch, recorded after
    it, in the slim convention: ``data_loss_curve`` is the mean cross-entropy on the whole
    training set (no penalty), ``penalty_curve`` is ``P``; ``final_data_loss`` and
    ``final_penalty`` are their last points.  ``test_accuracy`` and ``predicted_class_counts``
    are on the test set; ``weights`` are the final ``[k0, b0, k1, b1, ...]``.
    """

    approach: str
    kind: str
    lam: float
    convention: str
    dataset: str
    epochs: int
    test_accuracy: float
    final_data_loss: float
    final_penalty: float
    step0_total_loss: float
    predicted_class_counts: list[int]
    data_loss_curve: list[float]
    penalty_curve: list[float]
    weights: list[np.ndarray] = field(repr=False)

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

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values, without the weights."""
        return {k: v for k, v in self.__dict__.items() if k != "weights"}


class RunLog:
    """Collects what a trainer reports while it runs ``run`` and builds its ``SweepResult``."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.step0: float | None = None
        self.data_loss_curve: list[float] = []
        self.penalty_curve: list[float] = []

    def first_step(self, total_loss: Any) -> None:
        """Record the objective of the very first batch (later calls are ignored)."""
        if self.step0 is None:
            self.step0 = float(total_loss)

    def end_epoch(self, data_loss: Any, penalty: Any) -> None:
        """Record the epoch's data loss and penalty; call ``on_epoch``."""
        self.data_loss_curve.append(float(data_loss))
        self.penalty_curve.append(float(penalty))
        if self.run.on_epoch is not None:
            self.run.on_epoch(len(self.data_loss_curve), self.data_loss_curve[-1], self.penalty_curve[-1])

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
            kind=run.kind,
            lam=run.lam,
            convention=CONVENTION,
            dataset=run.dataset,
            epochs=run.epochs,
            test_accuracy=float(np.mean(predicted == run.split.y_test)),
            final_data_loss=self.data_loss_curve[-1],
            final_penalty=self.penalty_curve[-1],
            step0_total_loss=float(self.step0),
            predicted_class_counts=[int(c) for c in counts],
            data_loss_curve=self.data_loss_curve,
            penalty_curve=self.penalty_curve,
            weights=weights,
        )
