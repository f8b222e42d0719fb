"""A regularizer described once, in Keras' convention, and written in every other API's.

The doctor stores each penalty as Keras constants ``l1`` and ``l2`` (the ``keras`` convention of
``reglab.penalties.CONVENTIONS``): ``penalty(w) = l1 * sum(|w|) + l2 * sum(w**2)``
(``reglab.penalties.keras_l1l2``).  ``reglab.penalties.in_every_api`` writes the same penalty in
the other APIs of the workbook's table:

* ``keras.regularizers.l2(lam)`` = ``tf_slim.l2_regularizer(2 * lam)`` = ``2 * lam * tf.nn.l2_loss(w)``
* ``keras.regularizers.l1(lam)`` = ``tf_slim.l1_regularizer(lam)``
* ``keras.regularizers.L1L2(l1, l2)`` = ``tf_slim.l1_l2_regularizer(l1, 2 * l2)``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from reglab import penalties


def _num(value: float) -> str:
    return f"{value:.4g}"  # the digits of in_every_api(..., digits=4)


@dataclass(frozen=True)
class RegularizerInfo:
    """What penalizes one weight.

    ``kind`` is one of ``reglab.penalties.KINDS`` (``l1``, ``l2``, ``l1l2``; never ``none``: no
    regularizer is no ``RegularizerInfo``) or ``custom`` (a regularizer with no known formula,
    named by ``name``); ``api`` says where it was declared.  For the known kinds ``l1`` and
    ``l2`` are its constants in the ``keras`` convention (``convention``), as in
    ``keras.regularizers.L1L2(l1, l2)``: ``penalty(w) = l1 * sum(|w|) + l2 * sum(w**2)``.
    """

    kind: str
    api: str
    l1: float = 0.0
    l2: float = 0.0
    name: str = ""
    convention: ClassVar[str] = "keras"

    def penalty(self, w: Any) -> float | None:
        """``l1 * sum(|w|) + l2 * sum(w**2)`` in NumPy; ``None`` for ``custom`` (no formula)."""
        if self.kind == "custom":
            return None
        return penalties.keras_l1l2(w, self.l1, self.l2)

    def conventions(self) -> dict[str, str]:
        """The same penalty written in each API of the workbook's table (keys ``keras``,
        ``tf_slim`` and, with an L2 part, ``tf.nn.l2_loss``); empty for ``custom`` (no constants)."""
        written = penalties.in_every_api(l1=self.l1, l2=self.l2, digits=4)
        return {api: text for api, text in written.items() if api != "formula"}

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
        if self.kind == "l1l2":
            return f"{self.api} L1L2({_num(self.l1)}, {_num(self.l2)})"
        return f"{self.api} {self.kind}({_num(self.l1 if self.kind == 'l1' else self.l2)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kind, api, the constants ``l1``/``l2`` and their convention, the label and
        the same penalty in every API (``conventions``)."""
        return {"kind": self.kind, "api": self.api, "l1": self.l1, "l2": self.l2,
                "convention": self.convention, "label": self.label(), "conventions": self.conventions()}


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
        return RegularizerInfo("l1l2", api, l1=l1, l2=l2)
    name = getattr(regularizer, "__name__", None) or kind
    return RegularizerInfo("custom", api, name=name)
