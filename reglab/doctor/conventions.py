"""A regularizer described once, in Keras' convention, and written in every other API's.

The doctor stores each penalty as Keras constants ``l1`` and ``l2`` (the ``keras`` convention of
``reglab.penalties.CONVENTIONS``): ``penalty(w) = l1 * sum(|w|) + l2 * sum(w**2)``
(``reglab.penalties.keras_l1l2``).  ``reglab.penalties.in_every_api`` writes the same penalty in
the other APIs of the workbook's table:

* ``keras.regularizers.l2(lam)`` = ``tf_slim.l2_regularizer(2 * lam)`` = ``2 * lam * tf.nn.l2_loss(w)``
* ``keras.regularizers.l1(lam)`` = ``tf_slim.l1_regularizer(lam)``
* ``keras.regularizers.L1L2(l1, l2)`` = ``tf_slim.l1_l2_regularizer(l1, 2 * l2)``

A regularizer object is measured by calling it (``measure``), never named by its class: for a
probe ``p`` of the weight's shape, ``r(p) = l1 * S1 + l2 * S2`` and ``r(2p) = 2 l1 * S1 + 4 l2 * S2``
(``S1 = sum(|p|)``, ``S2 = sum(p**2)``) give ``l1`` and ``l2``, which a second probe ``q`` must
confirm.  A user class named ``L2`` that computes slim's ``c * sum(w**2) / 2`` is therefore
reported as Keras ``l2(c / 2)``; anything that is not of that form is ``custom``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from reglab import penalties

#: relative agreement that a measured regularizer must reach on the confirming probe
_AGREE = 1e-4


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
    name: str = ""  # a custom regularizer's name; for a measured non-Keras class, its class name
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
        if self.name:
            return f"{self.name} = {RegularizerInfo(self.kind, self.api, self.l1, self.l2).label()}"
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


def _probes(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    n = int(np.prod(shape)) if shape else 1
    k = np.arange(n, dtype=np.float64)
    p = ((k % 7) - 2.5) / 4.0  # never zero, both signs
    q = p * (1.0 + (k % 3)) - 0.1 * np.sign(p)
    return p.reshape(shape), q.reshape(shape)


def _snap(value: float, declared: float) -> float:
    """The declared constant when the measurement agrees with it, else 7 significant digits."""
    if declared and abs(value - declared) <= _AGREE * abs(declared):
        return declared
    return float(f"{value:.7g}")


def measure(regularizer: Any, shape: tuple[int, ...], declared: tuple[float, float] = (0.0, 0.0),
            ) -> tuple[float, float] | None:
    """``(l1, l2)`` with ``regularizer(w) = l1 * sum(|w|) + l2 * sum(w**2)``, found by calling it
    on probes of ``shape`` (module docstring); ``None`` if it is not of that form."""
    import tensorflow as tf

    p, q = _probes(tuple(int(d) for d in shape))

    def value(w: np.ndarray) -> float:
        return float(np.asarray(regularizer(tf.constant(w, tf.float32)), dtype=np.float64))

    try:
        r1, r2, rq = value(p), value(2 * p), value(q)
    except Exception:  # noqa: BLE001 - whatever it raises, it is not an L1/L2 penalty
        return None
    s1, s2 = float(np.abs(p).sum()), float((p * p).sum())
    l2 = (r2 - 2 * r1) / (2 * s2)
    l1 = (r1 - l2 * s2) / s1
    scale = max(abs(r1), abs(r2), 1e-30)
    l1 = 0.0 if abs(l1 * s1) <= 1e-5 * scale else l1
    l2 = 0.0 if abs(l2 * s2) <= 1e-5 * scale else l2
    expected = l1 * float(np.abs(q).sum()) + l2 * float((q * q).sum())
    if l1 < 0 or l2 < 0 or not np.isfinite([l1, l2]).all() \
            or abs(rq - expected) > _AGREE * max(abs(rq), 1e-30):
        return None
    return _snap(l1, declared[0]), _snap(l2, declared[1])


def _is_builtin(regularizer: Any) -> bool:
    """Keras' own ``L1``, ``L2`` or ``L1L2`` class (identity, not name)."""
    module = type(regularizer).__module__
    return type(regularizer).__name__ in ("L1", "L2", "L1L2") and module.startswith(
        ("keras.src.regularizers", "keras.regularizers", "tf_keras.src.regularizers", "keras.src.legacy"))


def from_keras(regularizer: Any, api: str = "keras", shape: tuple[int, ...] = (8,)) -> RegularizerInfo:
    """Describe a Keras 3 or tf-keras regularizer object, measured by calling it (``measure``) on
    probes of ``shape`` (a weight's, or an activation's without the batch)."""
    config: dict[str, Any] = {}
    if hasattr(regularizer, "get_config"):
        try:
            config = regularizer.get_config() or {}
        except (NotImplementedError, TypeError):  # a custom Regularizer without get_config
            config = {}
    declared = (float(config.get("l1", 0.0) or 0.0), float(config.get("l2", 0.0) or 0.0))
    builtin = _is_builtin(regularizer)
    measured = measure(regularizer, (8,) if builtin else tuple(shape), declared)
    name = getattr(regularizer, "__name__", None) or type(regularizer).__qualname__
    if measured is None:
        return RegularizerInfo("custom", api, name=name)
    l1, l2 = measured
    label = "" if builtin else name
    if l1 and l2:
        return RegularizerInfo("l1l2", api, l1=l1, l2=l2, name=label)
    if l1:
        return RegularizerInfo("l1", api, l1=l1, name=label)
    if l2:
        return RegularizerInfo("l2", api, l2=l2, name=label)
    return RegularizerInfo("custom", api, name=name)  # zero on every probe: no L1/L2 form
