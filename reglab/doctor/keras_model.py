"""The doctor on a Keras model: Keras 3 (``keras``) or legacy Keras 2 (``tf_keras``).

For each trainable variable: its regularizer (Keras 3 keeps it on the variable,
``variable.regularizer``; tf-keras only on the layer attribute), its penalty now (the NumPy
formula of ``reglab.penalties``, or the regularizer itself when it is custom) and whether the
penalty is in ``model.losses``, which ``fit`` adds to the loss.  A layer attribute
``*_regularizer`` whose penalty is missing from ``model.losses`` was set after build
(``REGULARIZER_SET_AFTER_BUILD``).  Activity penalties are measured on a batch as
``regularizer(output) / batch_size`` without touching the layers (``stateless_call``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reglab.doctor.conventions import RegularizerInfo, from_keras
from reglab.doctor.findings import finding
from reglab.doctor.report import ActivityRow, Report, WeightRow


def layers_of(model: Any) -> list[Any]:
    """Every layer inside ``model``, nested ones included."""
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=False, recursive=True))
    return list(getattr(model, "layers", []))


def _declared(layer: Any) -> list[tuple[str, Any, Any]]:
    """``(attribute, regularizer, variable)`` for each ``X_regularizer`` attribute set on ``layer``."""
    out = []
    for attr, reg in list(vars(layer).items()):
        if attr.endswith("_regularizer") and attr != "activity_regularizer" and reg is not None:
            try:
                var = getattr(layer, attr[: -len("_regularizer")], None)
            except (AttributeError, ValueError):
                var = None
            out.append((attr, reg, var))
    return out


def regularizer_of(model: Any, var: Any, flavour: str) -> Any:
    """The regularizer object that ``model.losses`` applies to ``var`` (``None`` if none does)."""
    if flavour == "keras":
        return getattr(var, "regularizer", None)
    for layer in layers_of(model):
        for _, reg, declared_var in _declared(layer):
            if declared_var is var:
                return reg
    return None


def _penalty(info: RegularizerInfo, reg: Any, var: Any) -> float:
    if info.kind == "custom":
        return float(np.asarray(reg(var)))
    return info.penalty(np.asarray(var.numpy()))


def variable_name(var: Any, flavour: str) -> str:
    """Keras 3: the path (``sequential/dense/kernel``); tf-keras: the variable name."""
    return var.path if flavour == "keras" else var.name


def inspect_keras(model: Any, flavour: str, batch: Any = None) -> Report:
    """Report on ``model``'s weights and activity regularizers (``flavour``: keras or tf_keras)."""
    report = Report(source=flavour, model=f"{type(model).__name__} {model.name!r}")
    if not model.trainable_variables:
        report.findings.append(finding(
            "MODEL_NOT_BUILT",
            f"{model.name!r} has no weights yet: build it (keras.Input, build() or one call) first."))
        return report
    declared = {id(var): (layer, attr, reg) for layer in layers_of(model)
                for attr, reg, var in _declared(layer) if var is not None}
    loss_values = [float(t) for t in model.losses]
    for var in model.trainable_variables:
        row = WeightRow(name=variable_name(var, flavour), shape=tuple(var.shape))
        reg = getattr(var, "regularizer", None) if flavour == "keras" else None
        layer_attr = declared.get(id(var))
        if reg is None and layer_attr is not None:
            reg = layer_attr[2]
        if reg is not None:
            row.regularizer = from_keras(reg, api=flavour)
            row.penalty = _penalty(row.regularizer, reg, var)
            if flavour == "keras":
                counted = getattr(var, "regularizer", None) is not None
            else:
                counted = any(np.isclose(v, row.penalty, rtol=1e-5, atol=0) for v in loss_values)
            row.in_loss = counted
            row.how = "in model.losses (fit adds it)" if counted else "missing from model.losses"
            if not counted and layer_attr is not None:
                layer, attr, _ = layer_attr
                report.findings.append(finding(
                    "REGULARIZER_SET_AFTER_BUILD",
                    f"{layer.name}.{attr} is set but its penalty is not in model.losses: it was set after "
                    "the weights were created; pass it to the layer's constructor instead."))
        report.weights.append(row)
    _activity(model, flavour, batch, report)
    return report


def _activity(model: Any, flavour: str, batch: Any, report: Report) -> None:
    layers = [lay for lay in layers_of(model) if getattr(lay, "activity_regularizer", None) is not None]
    if not layers:
        return
    if batch is None:
        for lay in layers:
            report.activity.append(ActivityRow(lay.name, from_keras(lay.activity_regularizer, flavour), None))
        report.findings.append(finding(
            "ACTIVITY_NOT_MEASURED",
            "activity regularizers cost what the batch makes them cost: pass batch=(x, y) to measure them."))
        return
    x = batch[0]
    values: list[float | None] = [None] * len(layers)
    if flavour == "keras" and getattr(model, "inputs", None):
        values = _activity_values(model, layers, x)
    for lay, value in zip(layers, values, strict=True):
        report.activity.append(ActivityRow(lay.name, from_keras(lay.activity_regularizer, flavour), value))


def _activity_values(model: Any, layers: list[Any], x: Any) -> list[float | None]:
    """``regularizer(output) / batch_size`` per layer, from a stateless call of a probe model."""
    import keras

    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [lay.output for lay in layers])
    outputs, _ = probe.stateless_call([v.value for v in probe.trainable_variables],
                                      [v.value for v in probe.non_trainable_variables], x, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    n = int(np.shape(x)[0])
    return [float(lay.activity_regularizer(out)) / n for lay, out in zip(layers, outputs, strict=True)]
