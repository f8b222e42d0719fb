"""Findings that read the finished rows, whatever the API: biases (by role: GRU's bias is 2-D)
and normalization scales that are penalized or decayed, L2 or decay on a kernel that only
BatchNormalization reads, weight decay on top of an L2 penalty, a thread (slim) constant
given to Keras ``l2`` unhalved, and a model with no regularization at all.  One finding per
code, naming every weight concerned.

``SLIM_CONSTANT_NOT_HALVED`` needs the penalty the user intended, as a Keras-convention L2
constant ``k`` (``lam / 2`` for a slim ``lam``): a Keras ``l2`` whose constant is ``2 * k``
(the slim number, not halved) gives twice the intended penalty."""

from __future__ import annotations

import re

from reglab.doctor.findings import finding
from reglab.doctor.report import Report, WeightRow

#: a normalization scale: Keras' ``gamma`` (BatchNormalization, LayerNormalization)
_SCALE = re.compile(r"(^|/)gamma(:\d+)?$")


#: a bias by its name: ``bias``, ``biases``, ``recurrent_bias``, ``beta``, ``b0`` (TF1)
_BIAS = re.compile(r"(^|/)(\w*bias|biases|beta|b\d*)(:\d+)?$")


def _is_bias(row: WeightRow) -> bool:
    """A bias by its role (the layer attribute it belongs to, or its name: GRU's bias is 2-D),
    or, when neither says, a 1-D weight that is not a normalization scale."""
    if row.role:
        return row.role == "bias"
    return bool(_BIAS.search(row.name)) or (len(row.shape) == 1 and not _SCALE.search(row.name))


def _is_scale(row: WeightRow) -> bool:
    return row.role == "scale" if row.role else bool(_SCALE.search(row.name))


def _how(row: WeightRow, penalized: bool) -> str:
    parts = ["penalized" if penalized else "", "decayed" if row.decay else ""]
    return " and ".join(p for p in parts if p)


def _slim_unhalved(row: WeightRow, intended_keras_l2: float | None) -> bool:
    reg = row.regularizer
    if not intended_keras_l2 or reg is None or reg.kind not in ("l2", "l1l2") \
            or reg.api not in ("keras", "tf_keras"):
        return False
    unhalved = 2 * intended_keras_l2
    return abs(reg.l2 - unhalved) <= 1e-9 * unhalved


def add_advice(report: Report, intended_keras_l2: float | None = None) -> None:
    """Append the row-level findings to ``report`` (``intended_keras_l2``: module docstring)."""
    groups: dict[str, list[str]] = {}
    for row in report.weights:
        penalized = row.regularizer is not None and row.in_loss is not False
        if penalized or row.decay:
            code = "BIAS_PENALIZED" if _is_bias(row) else \
                "BATCHNORM_SCALE_PENALIZED" if _is_scale(row) else None
            if code:
                groups.setdefault(code, []).append(f"{row.name} ({_how(row, penalized)})")
            l2 = penalized and row.regularizer.kind in ("l2", "l1l2")
            if row.before_batchnorm and (l2 or row.decay):
                groups.setdefault("L2_BEFORE_BATCHNORM", []).append(row.name)
        if row.decay and penalized and row.regularizer.kind != "custom":
            groups.setdefault("DECAY_AND_L2_ON_SAME_WEIGHTS", []).append(row.name)
        if _slim_unhalved(row, intended_keras_l2):
            groups.setdefault("SLIM_CONSTANT_NOT_HALVED", []).append(row.name)
    slim = 2 * (intended_keras_l2 or 0.0)
    texts = {
        "BIAS_PENALIZED": "biases are usually left free: {}.",
        "BATCHNORM_SCALE_PENALIZED": "normalization scales are usually left free: {}.",
        "DECAY_AND_L2_ON_SAME_WEIGHTS": "both an L2 penalty and the optimizer's weight decay act on {}: "
                                        "choose one.",
        "L2_BEFORE_BATCHNORM": "BatchNormalization reads only the output of {}: scaling these kernels does "
                               "not change the function in training mode (batch statistics, up to the "
                               "normalization's epsilon), so their L2 "
                               "penalty or decay does not limit what the network computes; it keeps the "
                               "weights small, which raises the effective learning rate (van Laarhoven "
                               "2017). That is still useful (it is part of the published ResNet recipe): "
                               "tune its strength as a learning-rate schedule, not as a constraint on "
                               "the function.",
        "SLIM_CONSTANT_NOT_HALVED": f"keras l2({slim:.4g}) gives twice the penalty you meant (keras "
                                    f"l2({slim / 2:.4g}) = tf_slim.l2_regularizer({slim:.4g})); write "
                                    f"l2({slim / 2:.4g}) for {{}}.",
    }
    for code, names in groups.items():
        report.findings.append(finding(code, texts[code].format(", ".join(names))))
    if report.weights and not any(r.regularizer for r in report.weights) and not report.activity \
            and not report.decay:
        report.findings.append(finding(
            "NO_REGULARIZATION", "no weight has a regularizer and the optimizer has no weight decay."))
