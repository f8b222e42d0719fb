"""A regularizer described once, in Keras' convention, and converted to every other API's.

The doctor stores each penalty as Keras constants ``l1`` and ``l2``:
``penalty(w) = l1 * sum(|w|) + l2 * sum(w**2)`` (``reglab.penalties.keras_l1l2``).  The same
penalty in the other conventions of the workbook's table:

* ``keras.regularizers.l2(c)``  = ``tf_slim.l2_regularizer(2 * c)`` = ``2 * c * tf.nn.l2_loss(w)``
* ``keras.regularizers.l1(a)``  = ``tf_slim.l1_regularizer(a)``
* ``keras.regularizers.L1L2(a, c)`` = ``tf_slim.l1_l2_regularizer(a, 2 * c)``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab import penalties


def _num(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class RegularizerInfo:
    """What penalizes one weight: ``kind`` (l1, l2, l1_l2, custom), where it was declared
    (``api``) and, for the known kinds, its Keras-convention constants ``l1`` and ``l2``."""

    kind: str
    api: str
    l1: float = 0.0
    l2: float = 0.0
    name: str = ""

    def penalty(self, w: Any) -> float:
        """``l1 * sum(|w|) + l2 * sum(w**2)`` in NumPy (not for ``custom``)."""
        if self.kind == "custom":
            raise ValueError("a custom regularizer has no formula: evaluate it instead")
        return penalties.keras_l1l2(np.asarray(w), self.l1, self.l2)

    def conventions(self) -> dict[str, str]:
        """The same penalty written in each API of the workbook's table."""
        a, c = self.l1, self.l2
        if self.kind == "l2":
            return {"keras": f"keras.regularizers.l2({_num(c)})",
                    "tf_slim": f"tf_slim.l2_regularizer({_num(penalties.slim_from_keras_l2(c))})",
                    "tf.nn.l2_loss": f"{_num(2 * c)} * tf.nn.l2_loss(w)"}
        if self.kind == "l1":
            return {"keras": f"keras.regularizers.l1({_num(a)})",
                    "tf_slim": f"tf_slim.l1_regularizer({_num(a)})"}
        if self.kind == "l1_l2":
            return {"keras": f"keras.regularizers.L1L2({_num(a)}, {_num(c)})",
                    "tf_slim": f"tf_slim.l1_l2_regularizer({_num(a)}, {_num(2 * c)})",
                    "tf.nn.l2_loss": f"{_num(a)} * sum(|w|) + {_num(2 * c)} * tf.nn.l2_loss(w)"}
        return {}

    def label(self) -> str:
        """A short label in the declaring API's own convention."""
        if self.kind == "custom":
            return f"custom {self.name}".strip()
        if self.api == "tf_slim":
            if self.kind == "l2":
                return f"slim l2_regularizer({_num(penalties.slim_from_keras_l2(self.l2))})"
            return f"slim l1_regularizer({_num(self.l1)})"
        if self.api == "tf.nn.l2_loss" and self.kind == "l2":
            return f"{_num(2 * self.l2)} * l2_loss(w)"
        if self.kind == "l1_l2":
            return f"{self.api} L1L2({_num(self.l1)}, {_num(self.l2)})"
        return f"{self.api} {self.kind}({_num(self.l1 if self.kind == 'l1' else self.l2)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kind, api, Keras-convention constants, label and the conventions."""
        return {"kind": self.kind, "api": self.api, "l1": self.l1, "l2": self.l2,
                "label": self.label(), "conventions": self.conventions()}


def from_keras(regularizer: Any, api: str = "keras") -> RegularizerInfo:
    """Describe a Keras 3 or tf-keras regularizer object (``L1``, ``L2``, ``L1L2`` or other)."""
    kind = type(regularizer).__name__
    config: dict[str, Any] = {}
    if hasattr(regularizer, "get_config"):
        try:
            config = regularizer.get_config() or {}
        except NotImplementedError:  # a custom Regularizer without get_config
            config = {}
    l1 = float(config.get("l1", 0.0) or 0.0)
    l2 = float(config.get("l2", 0.0) or 0.0)
    if kind == "L2" and set(config) == {"l2"}:
        return RegularizerInfo("l2", api, l2=l2)
    if kind == "L1" and set(config) == {"l1"}:
        return RegularizerInfo("l1", api, l1=l1)
    if kind == "L1L2" and set(config) == {"l1", "l2"}:
        if l1 == 0.0:
            return RegularizerInfo("l2", api, l2=l2)
        if l2 == 0.0:
            return RegularizerInfo("l1", api, l1=l1)
        return RegularizerInfo("l1_l2", api, l1=l1, l2=l2)
    name = getattr(regularizer, "__name__", None) or kind
    return RegularizerInfo("custom", api, name=name)
