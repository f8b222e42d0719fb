"""What one training of the explorer gives: ``TrainResult``, the one place its fields are defined.

Made by ``reglab.explorer.engine.Engine.train``, kept by ``reglab.explorer.explorer.Explorer``,
drawn by ``reglab.explorer.figure``.  The penalty and ``lam`` are in the Keras convention
(``reglab.penalties.CONVENTIONS["keras"]``), on the kernels ``W_l`` only::

    "l2":   penalty = lam * sum_l sum(W_l**2)        "l1":   penalty = lam * sum_l sum(|W_l|)
    "none": penalty = 0  (lam = 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from reglab.easynet import logits_float64
from reglab.penalties import in_every_api, keras_l1, keras_l2

__all__ = ["NEAR_ZERO", "TrainResult"]

#: |w| below this counts as "near zero" in the sparsity figures and ``near_zero_fraction``.
NEAR_ZERO = 1e-2


@dataclass
class TrainResult:
    """One trained network and its curves.

    The curves have one point per step: point ``t`` is measured before update ``t + 1``, point 0
    on the shared initial network, the last point after the last update (``steps + 1`` points).
    Each step is one full-batch Adam update, so steps are also epochs here.
    """

    dataset: str  #: a ``reglab.explorer.DATASETS`` name
    kind: str  #: "none", "l1" or "l2" (``reglab.penalties.KINDS``)
    lam: float  #: the penalty's constant, ``convention`` "keras"; 0.0 when ``kind`` is "none"
    weights: list[np.ndarray]  #: ``[W_1, b_1, W_2, b_2, ...]`` after the last step
    data_loss_curve: np.ndarray  #: data loss on the training set (without the penalty), per step
    test_data_loss_curve: np.ndarray  #: data loss on the test set, per step
    penalty_curve: np.ndarray  #: the penalty term, per step, Keras convention
    train_accuracy: float
    test_accuracy: float
    seconds: float = field(default=0.0, compare=False)  #: wall time of the training
    #: what ``lam`` means (a key of ``reglab.penalties.CONVENTIONS``): always Keras' here
    convention: str = field(default="keras", init=False)

    def __repr__(self) -> str:
        return (f"TrainResult({self.dataset!r}, {self.kind!r}, lam={self.lam:g}, "
                f"steps={len(self.data_loss_curve) - 1}, train_accuracy={self.train_accuracy:.3f}, "
                f"test_accuracy={self.test_accuracy:.3f})")

    @property
    def kernels(self) -> list[np.ndarray]:
        """The weight matrices ``W_l`` (what the penalty sees)."""
        return self.weights[0::2]

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
    def final_data_loss(self) -> float:
        """The last point of ``data_loss_curve``: the training set's data loss after training."""
        return float(self.data_loss_curve[-1])

    @property
    def final_penalty(self) -> float:
        """The penalty of the trained kernels, Keras convention, in NumPy (float64).

        ``lam * sum_l sum(|W_l|)`` for "l1", ``lam * sum_l sum(W_l**2)`` otherwise ("none" has
        ``lam = 0``): the last point of ``penalty_curve``, recomputed in float64.
        """
        formula = keras_l1 if self.kind == "l1" else keras_l2
        return float(sum(formula(k, self.lam) for k in self.kernels))

    @cached_property
    def in_every_api(self) -> dict[str, str]:
        """This penalty written in every API, 3 significant digits (``reglab.penalties.in_every_api``).

        ``{"formula": "0.001 * sum(w²)", "keras": "keras.regularizers.l2(0.001)",
        "tf_slim": "tf_slim.l2_regularizer(0.002)", "tf.nn.l2_loss": ...}`` for ``("l2", 0.001)``;
        empty for kind "none".  Computed once per result.
        """
        return in_every_api(l1=self.lam if self.kind == "l1" else 0.0,
                            l2=self.lam if self.kind == "l2" else 0.0, digits=3)

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities ``softmax(z)`` of the trained network for the rows of ``x``.

        ``z = reglab.easynet.logits_float64(weights, x)`` (tanh hidden layers, float64), which
        declares and checks ``x`` (a 2-D array with one column per input).
        """
        z = logits_float64(self.weights, x)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
