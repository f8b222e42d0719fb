"""The doctor's catalogue of pitfalls: a stable code, a severity and the notebook that teaches it.

Codes never change meaning once published, so notebooks, tests and students can assert them.
Severities: ``error`` (the penalty is not what the code says), ``warning`` (legal, but rarely
what was meant) and ``info`` (a fact worth knowing).

The multiple behind ``REG_NOT_IN_LOSS``, ``REG_COUNTED_TWICE``, ``REG_COUNTED_N_TIMES`` and
``SCALE_APPLIED_TWICE`` is the penalty's factor in the whole loss, not relative to the data term's:
``2.0 * (d + R)`` is reported as a second constant though the balance is unchanged, ``2.0 * d + R``
raises nothing though the penalty's relative strength is halved, and ``d + 0.5 * R + 0.5 * R`` is
"added twice" at ``1 x`` in the graph (each sum is counted).
"""

from __future__ import annotations

from dataclasses import dataclass

#: code -> (severity, notebook that teaches it, one-line description)
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "REG_NOT_IN_LOSS": (
        "error", "01_get_variable_regularizer",
        "a penalty is computed but the optimized loss does not depend on it"),
    "REG_COUNTED_TWICE": (
        "error", "04_contrib_layers",
        "a penalty enters the optimized loss twice"),
    "SCALE_APPLIED_TWICE": (
        "warning", "01_get_variable_regularizer",
        "a penalty that already holds its constant is multiplied by another one"),
    "WEIGHTS_IN_REG_COLLECTION": (
        "error", "04_contrib_layers",
        "REGULARIZATION_LOSSES holds weights instead of penalties"),
    "CUSTOM_LOOP_MISSES_MODEL_LOSSES": (
        "error", "05_keras",
        "a custom loss leaves out sum(model.losses)"),
    "REGULARIZER_SET_AFTER_BUILD": (
        "error", "05_keras",
        "a layer's regularizer attribute was set after its weights existed"),
    "SLIM_CONSTANT_NOT_HALVED": (
        "warning", "05_keras",
        "a slim / thread constant was given to keras l2 without halving it"),
    "DECAY_AND_L2_ON_SAME_WEIGHTS": (
        "warning", "06_manual_l2_loss",
        "optimizer weight decay and an L2 penalty both act on the same weights"),
    "KERNEL_EXCLUDED_FROM_DECAY": (
        "warning", "06_manual_l2_loss",
        "exclude_from_weight_decay(var_names=...) also matched a kernel"),
    "BIAS_PENALIZED": (
        "warning", "02_variable_scope_default",
        "a bias is penalized or decayed"),
    "BATCHNORM_SCALE_PENALIZED": (
        "warning", "06_manual_l2_loss",
        "a normalization scale (gamma) is penalized or decayed"),
    "LOSS_GRADIENT_UNEXPLAINED": (
        "warning", "05_keras",
        "the loss's gradient differs from data loss + penalty in a way the doctor cannot name"),
    "ACTIVITY_NOT_MEASURED": (
        "info", "07_activity_regularization",
        "an activity regularizer exists but no batch was given to measure it"),
    "LOSS_NOT_GIVEN": (
        "info", "01_get_variable_regularizer",
        "no loss was given, so whether the penalties reach it is not checked"),
    "NO_REGULARIZATION": (
        "info", "00_start_here",
        "nothing is regularized and the optimizer has no weight decay"),
    "MODEL_NOT_BUILT": (
        "error", "05_keras",
        "the model has no weights yet, so there is nothing to inspect"),
    "UNKNOWN_MODEL": (
        "error", "11_regularization_doctor",
        "the doctor does not know this kind of object and does not guess"),
    "REG_COUNTED_N_TIMES": (
        "error", "04_contrib_layers",
        "a penalty enters the optimized loss three or more times"),
    "MANUAL_PENALTY_ON_TOP": (
        "warning", "06_manual_l2_loss",
        "a weight's regularizer is in the loss and a penalty written by hand is added on top"),
    "GRADIENT_CANNOT_TELL": (
        "info", "11_regularization_doctor",
        "a layer draws random numbers the doctor cannot replay, so the loss's gradient is not compared"),
    "ADD_LOSS_UNEXPLAINED": (
        "info", "07_activity_regularization",
        "model.losses holds add_loss() terms whose weights the doctor cannot name"),
    "TRAIN_STEP_NOT_CHECKED": (
        "info", "05_keras",
        "the model overrides train_step; what fit minimizes is checked only with a batch"),
    "L2_BEFORE_BATCHNORM": (
        "warning", "11_regularization_doctor",
        "L2 or decay on a kernel that only BatchNormalization reads changes the effective learning "
        "rate, not the function (van Laarhoven 2017)"),
}


@dataclass(frozen=True)
class Finding:
    """One pitfall found: its ``code``, a one-sentence ``message``, ``severity`` and ``notebook``."""

    code: str
    message: str
    severity: str
    notebook: str

    def to_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "notebook": self.notebook}


def finding(code: str, message: str) -> Finding:
    """Make the ``Finding`` for catalogue ``code`` with a specific ``message``."""
    severity, notebook, _ = CATALOGUE[code]
    return Finding(code=code, message=message, severity=severity, notebook=notebook)
