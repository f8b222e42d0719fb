"""The optimizer's weight decay: which variables a Keras 3 optimizer decays, and by how much.

Keras 3 optimizers apply decoupled decay, ``w <- w - lr * d * w`` per step, to every variable
they update except those named in ``exclude_from_weight_decay``: ``var_list`` (by identity) or
``var_names`` (``re.search`` of any of them on the TensorFlow variable name, which is the full
path ``model/layer/kernel:0``).  Under plain SGD that equals ``keras.regularizers.l2(d / 2)``
(``lam = d / 2``, keras convention: ``equivalent_under_sgd`` in ``Report.decay``); under Adam it
does not (``06_manual_l2_loss``).
"""

from __future__ import annotations

from typing import Any

from reglab.doctor.findings import finding
from reglab.doctor.report import Report


def innermost(optimizer: Any) -> Any:
    """The optimizer inside every wrapper (``inner_optimizer``, followed to the end)."""
    for _ in range(10):
        inner = getattr(optimizer, "inner_optimizer", None)
        if inner is None:
            break
        optimizer = inner
    return optimizer


def _tf_name(var: Any) -> str:
    value = getattr(var, "value", None)
    return getattr(value, "name", None) or var.name


def decayed(optimizer: Any, var: Any) -> bool:
    """Whether ``optimizer`` decays ``var`` (read-only: the optimizer's own rule, no cache)."""
    if not getattr(optimizer, "weight_decay", None):
        return False
    key = optimizer._var_key(var) if hasattr(optimizer, "_var_key") else id(var)
    if key in (getattr(optimizer, "_exclude_from_weight_decay", None) or set()):
        return False
    pattern = getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    return not (pattern is not None and pattern.search(_tf_name(var)) is not None)


def inspect_decay(optimizer: Any, variables: list[Any], report: Report) -> None:
    """Fill ``report.decay`` and each row's ``decay`` for the rows of ``variables`` (same order).

    A wrapper (``LossScaleOptimizer``, which ``compile`` adds under ``mixed_float16``) is looked
    through: the decay is the wrapped optimizer's."""
    wrapper = optimizer
    optimizer = innermost(optimizer)
    d = getattr(optimizer, "weight_decay", None)
    if optimizer is None or not d:
        return
    d = float(d)
    names = []
    pattern = getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    for var, row in zip(variables, report.weights, strict=True):
        if decayed(optimizer, var):
            row.decay = d
            names.append(row.name)
        elif len(var.shape) >= 2 and pattern is not None and pattern.search(_tf_name(var)):
            report.findings.append(finding(
                "KERNEL_EXCLUDED_FROM_DECAY",
                f"exclude_from_weight_decay(var_names=...) matched {_tf_name(var)} (re.search on the full "
                "path): exclude with var_list=[...] instead."))
    lr = getattr(optimizer, "learning_rate", None)
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        lr = None
    name = type(optimizer).__name__
    if wrapper is not optimizer:
        name = f"{type(wrapper).__name__}({name})"
    report.decay = {"optimizer": name, "weight_decay": d, "learning_rate": lr,
                    "variables": names,
                    "equivalent_under_sgd": {"kind": "l2", "lam": d / 2, "convention": "keras"}}
