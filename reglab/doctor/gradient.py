"""Does the penalty enter the gradient of the student's loss?  Decided by computation.

For a Keras model, a batch ``(x, y)`` and the student's loss ``loss(x, y)`` (what their custom
loop puts under the ``GradientTape``), the doctor computes, for every trainable weight ``w``:

* ``g_loss`` = d loss / d w, the gradient the student's optimizer will see;
* ``g_data`` = d data_loss(y, model(x)) / d w, the data term alone;
* ``g_pen``  = d r(w) / d w for ``w``'s regularizer ``r`` (``2 lam w`` for ``keras l2(lam)``).

Then ``g_loss - g_data = k * g_pen`` is solved by least squares: ``k = 1`` is right, ``k = 0``
means the penalty is left out (``CUSTOM_LOOP_MISSES_MODEL_LOSSES`` / ``REG_NOT_IN_LOSS``),
``k = 2`` counted twice, any other ``k`` a second constant (``SCALE_APPLIED_TWICE``).  A weight
without a regularizer whose extra gradient is ``a * w`` carries a manual L2 penalty written into
the loss: ``lam = a / 2`` in the keras convention.  Every variable of the model (and each
layer's list of activity losses) is put back as it was afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reglab.doctor.conventions import RegularizerInfo
from reglab.doctor.findings import finding
from reglab.doctor.keras_model import layers_of
from reglab.doctor.report import Report
from reglab.params import InvalidParameterError

#: relative size under which a gradient difference counts as float noise
NOISE = 1e-5
#: how close ``k`` must be to 0, 1 or 2 to be called so
SNAP = 0.01


def _grads(fn: Callable[[], Any], variables: list[Any], what: str = "") -> list[np.ndarray]:
    """Gradients of ``fn()`` with respect to ``variables`` (zeros where unconnected).

    With ``what`` (the argument's name), a value that is not a tensor or depends on none of the
    variables is an ``InvalidParameterError``: it cannot be the loss that was minimized.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = fn()
    if what and not tf.is_tensor(value):
        raise InvalidParameterError(
            f"{what} must return the loss tensor it minimizes; got {type(value).__name__}")
    grads = tape.gradient(value, variables)
    if what and all(g is None for g in grads):
        raise InvalidParameterError(f"the value {what} returns does not depend on the model's weights: "
                         "return the loss it minimizes")
    return [np.zeros(v.shape) if g is None else np.asarray(g, dtype=np.float64)
            for g, v in zip(grads, variables, strict=True)]


class _Untouched:
    """Restore every model and optimizer variable and each layer's recorded losses on exit."""

    def __init__(self, model: Any, optimizer: Any = None) -> None:
        self.model = model
        self.variables = list(model.variables) + (list(optimizer.variables) if optimizer is not None else [])

    def __enter__(self) -> _Untouched:
        self.values = [np.array(v.numpy()) for v in self.variables]
        self.losses = [(lay, attr, list(getattr(lay, attr)))
                       for lay in [self.model, *layers_of(self.model)]
                       for attr in ("_losses", "_eager_losses") if isinstance(getattr(lay, attr, None), list)]
        return self

    def __exit__(self, *exc: object) -> None:
        for v, value in zip(self.variables, self.values, strict=True):
            if not np.array_equal(v.numpy(), value):
                v.assign(value)
        for lay, attr, saved in self.losses:
            getattr(lay, attr)[:] = saved


def inspect_loss(model: Any, loss: Callable[..., Any], batch: tuple[Any, Any], data_loss: Any,
               report: Report, regularizers: list[Any], *, step_optimizer: Any = None) -> None:
    """Decide per weight how many times its penalty is in ``loss``'s gradient; update ``report``.

    ``regularizers`` holds, per trainable variable (same order as ``report.weights``), the
    regularizer object or ``None``.  With ``step_optimizer``, ``loss`` is a whole train step
    that applies its gradients with that optimizer and returns its loss: the doctor runs it
    once under an outer ``GradientTape`` (the loss was computed from the weights before the
    update, so the tape gives the gradient the step used) and then puts every model and
    optimizer variable back.
    """
    x, y = batch
    variables = list(model.trainable_variables)
    with _Untouched(model, step_optimizer):
        g_data = _grads(lambda: data_loss(y, model(x, training=False)), variables)
        g_pen = [None if r is None else _grads(lambda r=r, v=v: r(v), [v])[0]
                 for r, v in zip(regularizers, variables, strict=True)]
        what = "train_step" if step_optimizer is not None else "loss"
        g_loss = _grads(lambda: loss(x, y), variables, what)  # last: a train step moves the weights
    scale = max(float(np.linalg.norm(g)) for g in g_data + g_loss) or 1.0
    missing, twice, other = [], [], []
    for row, var, gl, gd, gp in zip(report.weights, variables, g_loss, g_data, g_pen, strict=True):
        diff = gl - gd
        noise = NOISE * scale
        if gp is None:
            _unregularized(row, np.asarray(var.numpy(), np.float64), diff, noise, report)
            continue
        norm_p = float(np.linalg.norm(gp))
        if norm_p <= noise:
            row.in_loss, row.how = None, "penalty gradient is 0 at these weights: cannot tell"
            continue
        k = float(np.vdot(diff, gp) / norm_p**2)
        residual = float(np.linalg.norm(diff - k * gp))
        if residual > max(SNAP * abs(k) * norm_p, noise):
            row.in_loss, row.how = None, "loss gradient unexplained"
            report.findings.append(finding(
                "LOSS_GRADIENT_UNEXPLAINED",
                f"the loss's gradient on {row.name} minus the data gradient is not a multiple of the "
                "penalty's (dropout, another penalty, or a different data loss?)."))
            continue
        nearest = round(k)
        if abs(k - nearest) <= SNAP and nearest in (0, 1, 2):
            k = float(nearest)
        row.in_loss = k != 0.0
        row.how = f"gradient: {k:.4g} x the penalty's"
        (missing if k == 0 else twice if k == 2 else other if k != 1 else []).append((row.name, k))
    _summarize(report, missing, twice, other, regularized=sum(r is not None for r in regularizers))


def _unregularized(row: Any, w: np.ndarray, diff: np.ndarray, noise: float, report: Report) -> None:
    """No regularizer on this weight: is there a manual L2 term ``a * w`` in the gradient?"""
    if float(np.linalg.norm(diff)) <= noise:
        return
    norm_w = float(np.vdot(w, w))
    a = float(np.vdot(diff, w) / norm_w) if norm_w else 0.0
    if norm_w and float(np.linalg.norm(diff - a * w)) <= max(SNAP * abs(a) * np.sqrt(norm_w), noise):
        row.regularizer = RegularizerInfo("l2", "in the loss", l2=a / 2)
        row.penalty = row.regularizer.penalty(w)
        row.in_loss, row.how = True, "found in the loss's gradient (2 lam w)"
        return
    row.in_loss, row.how = None, "loss gradient unexplained"
    report.findings.append(finding(
        "LOSS_GRADIENT_UNEXPLAINED",
        f"the loss puts an extra gradient on {row.name} that is not an L2 penalty "
        "(dropout, another penalty, or a different data loss?)."))


def _summarize(report: Report, missing: list, twice: list, other: list, regularized: int) -> None:
    if missing and len(missing) == regularized:
        report.findings.append(finding(
            "CUSTOM_LOOP_MISSES_MODEL_LOSSES",
            f"none of the {regularized} penalties is in the loss's gradient: add sum(model.losses) to "
            "the loss inside the GradientTape."))
    elif missing:
        report.findings.append(finding(
            "REG_NOT_IN_LOSS", f"the penalty of {_names(missing)} is not in the loss's gradient."))
    if twice:
        report.findings.append(finding(
            "REG_COUNTED_TWICE", f"the penalty of {_names(twice)} is in the loss's gradient twice."))
    if other:
        report.findings.append(finding(
            "SCALE_APPLIED_TWICE",
            f"the penalty of {_names(other)} enters the loss's gradient a different number of times than "
            "once: its constant is applied on top of the regularizer's own."))


def _names(pairs: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} ({k:.4g} x)" for name, k in pairs)
