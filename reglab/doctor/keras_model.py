"""The doctor on a Keras model: Keras 3 (``keras``) or legacy Keras 2 (``tf_keras``).

For each trainable variable: its regularizer (Keras 3 keeps it on the variable,
``variable.regularizer``; tf-keras only on the layer attribute), its penalty now (the NumPy
formula of ``reglab.penalties`` with the constants measured by calling the regularizer, or the
regularizer's own value when it has no L1/L2 form) and whether the penalty is in
``model.losses``, which ``fit`` adds to the loss.

A layer's regularizer attributes are read from the layer: every attribute ``X_regularizer``
(``kernel``, ``bias``, ``recurrent``, ``depthwise``, ``pointwise``, ``embeddings``, ``gamma``,
``beta``, ``alpha`` ... whatever the layer has), matched to the layer's own variable named ``X``
or ``X_...`` (``recurrent_kernel``, ``depthwise_kernel``), else to its ``kernel`` (Keras 3's
``DepthwiseConv2D`` keeps ``depthwise_regularizer``'s weight as ``kernel``).  An attribute whose
penalty is missing from ``model.losses`` was set after build (``REGULARIZER_SET_AFTER_BUILD``).

``model.losses`` also holds what layers add while they are called: activity penalties
(``regularizer(output) / batch_size`` for every output of every call: a shared layer twice,
``LSTM(return_state=True)`` three times) and ``add_loss`` terms.  Keras 3: with a batch the doctor
calls the model once (``training=False``) and reads what each layer added; without one it reads
what the last call left.  Each layer's list of losses and every variable are put back after.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reglab.doctor.conventions import RegularizerInfo, from_keras
from reglab.doctor.findings import finding
from reglab.doctor.normalization import feeding_normalization
from reglab.doctor.report import ActivityRow, LossRow, Report, WeightRow


def layers_of(model: Any) -> list[Any]:
    """Every layer inside ``model``, nested ones included."""
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=False, recursive=True))
    return list(getattr(model, "layers", []))


def _is_variable(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "assign") and hasattr(value, "trainable")


def _own_variable(layer: Any, name: str) -> Any:
    try:
        value = getattr(layer, name, None)
    except (AttributeError, ValueError, TypeError):
        return None
    return value if _is_variable(value) else None


def _declared(layer: Any) -> list[tuple[str, Any, list[Any], bool]]:
    """``(attribute, regularizer, variables, own)`` for each ``X_regularizer`` attribute set on
    ``layer``: its own variable ``X``, ``X_...``, else ``kernel`` (module docstring), or, when it owns
    none (``MultiHeadAttention`` passes its regularizers to sublayers), the sublayers' variables of
    those names (``own`` False)."""
    attrs = {name.lstrip("_"): value for name, value in vars(layer).items()}
    regs = [(a, r) for a, r in attrs.items()
            if a.endswith("_regularizer") and a != "activity_regularizer" and r is not None]
    out, claimed = [], set()
    for attr, reg in regs:
        candidates = _candidates(attrs, attr)
        var = None
        for name in candidates:
            found = _own_variable(layer, name)
            if found is not None and id(found) not in claimed:
                var = found
                claimed.add(id(found))
                break
        if var is not None:
            out.append((attr, reg, [var], True))
            continue
        inner = []
        for sub in (layer._flatten_layers(include_self=False) if hasattr(layer, "_flatten_layers") else []):
            sub_attrs = {name.lstrip("_"): value for name, value in vars(sub).items()}
            for name in _candidates(sub_attrs, attr):
                found = _own_variable(sub, name)
                if found is not None:
                    inner.append(found)
                    break
        out.append((attr, reg, inner, False))
    return out


def _candidates(attrs: dict[str, Any], attr: str) -> list[str]:
    prefix = attr[: -len("_regularizer")]
    names = [a for a in attrs if a.startswith(prefix + "_")
             and not a.endswith(("_regularizer", "_initializer", "_constraint"))]
    candidates = [prefix, *names]
    if "kernel_regularizer" not in attrs and prefix not in ("bias", "beta", "gamma"):
        candidates.append("kernel")
    return candidates


def regularizer_of(model: Any, var: Any, flavour: str) -> Any:
    """The regularizer object that ``model.losses`` applies to ``var`` (``None`` if none does)."""
    if flavour == "keras":
        return getattr(var, "regularizer", None)
    for layer in layers_of(model):
        for _, reg, variables, _own in _declared(layer):
            if any(v is var for v in variables):
                return reg
    return None


def _penalty(info: RegularizerInfo, reg: Any, var: Any) -> float:
    if info.kind == "custom":
        return float(np.asarray(reg(var)))
    return info.penalty(np.asarray(var.numpy()))


def variable_name(var: Any, flavour: str) -> str:
    """Keras 3: the path (``sequential/dense/kernel``); tf-keras: the variable name."""
    return var.path if flavour == "keras" else var.name


def _role(var: Any, attr: str | None) -> str:
    """``bias`` for a bias or a normalization shift (by its attribute or its name, not its rank),
    ``scale`` for a normalization scale, else ``weight``."""
    short = (attr[: -len("_regularizer")] if attr else "") or str(getattr(var, "name", "")).split("/")[-1]
    short = short.split(":")[0]
    if short in ("bias", "beta", "biases") or short.endswith("_bias"):
        return "bias"
    if short == "gamma":
        return "scale"
    return "weight"


def inspect_keras(model: Any, flavour: str, batch: Any = None) -> Report:
    """Report on ``model``'s weights, activity and ``add_loss`` terms (``flavour``: keras or tf_keras)."""
    report = Report(source=flavour, model=f"{type(model).__name__} {model.name!r}")
    if not model.trainable_variables:
        report.findings.append(finding(
            "MODEL_NOT_BUILT",
            f"{model.name!r} has no weights yet: build it (keras.Input, build() or one call) first."))
        return report
    declared: dict[int, tuple[Any, str, Any]] = {}
    found = [(layer, entry) for layer in layers_of(model) for entry in _declared(layer)]
    for own in (True, False):  # a layer's own attribute first, then a parent's (MultiHeadAttention)
        for layer, (attr, reg, variables, is_own) in found:
            for var in variables if is_own == own else []:
                declared.setdefault(id(var), (layer, attr, reg))
    before_bn = feeding_normalization([model, *layers_of(model)], _own_variable)
    loss_values = [float(t) for t in model.losses] if flavour == "tf_keras" else []
    reported: set[tuple[int, str]] = set()
    for var in model.trainable_variables:
        row = WeightRow(name=variable_name(var, flavour), shape=tuple(var.shape))
        reg = getattr(var, "regularizer", None) if flavour == "keras" else None
        layer_attr = declared.get(id(var))
        row.role = _role(var, layer_attr[1] if layer_attr else None)
        row.before_batchnorm = id(var) in before_bn
        if reg is None and layer_attr is not None:
            reg = layer_attr[2]
        if reg is not None:
            row.regularizer = from_keras(reg, api=flavour, shape=tuple(var.shape))
            row.penalty = _penalty(row.regularizer, reg, var)
            if flavour == "keras":
                counted = getattr(var, "regularizer", None) is not None
            else:
                counted = any(np.isclose(v, row.penalty, rtol=1e-5, atol=0) for v in loss_values)
            row.in_loss = counted
            row.how = "in model.losses (fit adds it)" if counted else "missing from model.losses"
            if not counted and layer_attr is not None and (id(layer_attr[0]), layer_attr[1]) not in reported:
                layer, attr, _ = layer_attr
                reported.add((id(layer), attr))
                report.findings.append(finding(
                    "REGULARIZER_SET_AFTER_BUILD",
                    f"{layer.name}.{attr} is set but its penalty is not in model.losses: it was set after "
                    "the weights were created; pass it to the layer's constructor (or edit get_config() "
                    "and rebuild the model from it) instead."))
        report.weights.append(row)
    if flavour == "keras":
        _call_losses(model, batch, report)
    else:
        _legacy_activity(model, batch, report)
    return report


class Untouched:
    """Put back every model (and optimizer) variable and each layer's recorded losses on exit."""

    def __init__(self, model: Any, optimizer: Any = None) -> None:
        self.model = model
        self.variables = list(model.variables) + (list(optimizer.variables) if optimizer is not None else [])

    def __enter__(self) -> Untouched:
        self.values = [np.array(v.numpy()) for v in self.variables]
        self.losses = [(lay, attr, list(getattr(lay, attr)))
                       for lay in [self.model, *layers_of(self.model)]
                       for attr in ("_losses", "_eager_losses") if isinstance(getattr(lay, attr, None), list)]
        self.ids = [(lay, set(lay._loss_ids)) for lay in [self.model, *layers_of(self.model)]
                    if isinstance(getattr(lay, "_loss_ids", None), set)]
        return self

    def restore(self) -> None:
        """Put everything back now (also done on exit)."""
        for v, value in zip(self.variables, self.values, strict=True):
            if not np.array_equal(v.numpy(), value):
                v.assign(value)
        for lay, attr, saved in self.losses:
            getattr(lay, attr)[:] = saved
        for lay, saved in self.ids:
            lay._loss_ids.clear()
            lay._loss_ids.update(saved)

    def __exit__(self, *exc: object) -> None:
        self.restore()


def _call_losses(model: Any, batch: Any, report: Report) -> None:
    """Keras 3: the activity and ``add_loss`` terms of ``model.losses``, per layer (module docstring)."""
    layers = [model, *layers_of(model)]
    with Untouched(model):
        if batch is not None:
            model(batch[0], training=False)
        terms = [(lay, _values(lay._get_own_losses())) for lay in layers if hasattr(lay, "_get_own_losses")]
    unexplained = []
    for lay, values in terms:
        reg = getattr(lay, "activity_regularizer", None)
        if reg is not None and lay is not model:
            shape = tuple(int(d) for d in (getattr(lay, "output", None).shape[1:]
                                           if _single_output(lay) else (8,)))
            info = from_keras(reg, "keras", shape)
            measured = float(sum(values)) if (batch is not None or values) else None
            report.activity.append(ActivityRow(lay.name, info, measured, terms=len(values)))
        elif values:
            for value in values:
                report.added.append(LossRow(lay.name, value))
            unexplained.append(f"{lay.name} ({', '.join(f'{v:.4g}' for v in values)})")
    if report.activity and batch is None and not any(a.terms for a in report.activity):
        report.findings.append(finding(
            "ACTIVITY_NOT_MEASURED",
            "activity regularizers cost what the batch makes them cost: pass batch=(x, y) to measure them."))
    if unexplained:
        when = "on the batch" if batch is not None else "at the last call"
        report.findings.append(finding(
            "ADD_LOSS_UNEXPLAINED",
            f"model.losses holds terms that call() adds with add_loss(), {when}: {'; '.join(unexplained)}; "
            "fit adds them to the loss, but the doctor cannot tell which weights they penalize."))


def _values(losses: list[Any]) -> list[float]:
    """The values of the eager loss tensors (a traced ``fit`` leaves symbolic ones: skipped)."""
    values = []
    for t in losses:
        try:
            values.append(float(t))
        except (TypeError, ValueError, AttributeError):
            continue
    return values


def _single_output(layer: Any) -> bool:
    try:
        out = layer.output
    except (AttributeError, ValueError):
        return False
    return hasattr(out, "shape") and len(out.shape) > 1


def _legacy_activity(model: Any, batch: Any, report: Report) -> None:
    """tf-keras: activity regularizers are listed, not measured."""
    layers = [lay for lay in layers_of(model) if getattr(lay, "activity_regularizer", None) is not None]
    for lay in layers:
        report.activity.append(ActivityRow(lay.name, from_keras(lay.activity_regularizer, "tf_keras"), None))
    if layers:
        report.findings.append(finding(
            "ACTIVITY_NOT_MEASURED",
            "activity regularizers of a tf-keras model are listed, not measured."
            if batch is not None else
            "activity regularizers cost what the batch makes them cost: pass batch=(x, y) to measure them."))
