"""What the explorer's controls offer and what its status line says: one source for the JupyterLab
widget (``reglab.explorer.widgets``), the figure (``reglab.explorer.figure``) and the static page
of the book (``reglab.explorer.static``).

One name per dataset for people: ``DATASET_LABELS`` ("moons" for the dataset that the code calls
``"toy2d"``, the ``reglab.data`` name) on the buttons, in the pictures' titles, in the status
line and on the static page.

The lambda slider is logarithmic: ``lambda_grid()`` gives its values,
``10 ** (LAM_MIN_EXP + k / LAM_STEPS_PER_DECADE)`` for ``k = 0 .. 20``, both ends included, so
one step multiplies lambda by ``10 ** LAM_STEP_EXP``.  Lambda is in the explorer's (Keras')
convention, ``lam * sum(w**2)`` for L2 where slim (notebook 08) means ``lam * sum(w**2) / 2``:
the slider's caption says so (``LAM_CAPTIONS``), and the status line under the picture writes the
penalty in every API.
"""

from __future__ import annotations

import numpy as np

from reglab.explorer.result import TrainResult
from reglab.params import InstanceOf, Integer, InvalidParameterError, Options, Real, validated

__all__ = [
    "CAPTIONS", "DATASET_LABELS", "KERNEL_BUSY", "KIND_LABELS", "LAM_CAPTIONS", "LAM_MAX_EXP",
    "LAM_MIN_EXP", "LAM_STEPS_PER_DECADE", "LAM_STEP_EXP", "NOT_RUNNING", "lam_text", "lambda_grid",
    "setting_text", "status_text",
]

#: The name people see for each dataset (buttons, pictures, status line, static page), and the
#: button label of each penalty kind.  The keys are the code's names (``reglab.data``).
DATASET_LABELS: dict[str, str] = {"toy2d": "moons", "digits": "digits"}
KIND_LABELS: dict[str, str] = {"none": "none", "l1": "L1", "l2": "L2"}
#: The caption in front of each control (the kind's buttons read "penalty: none L1 L2").  The
#: lambda caption names the convention for any kind (the static page's; the widget's follows the
#: kind, ``LAM_CAPTIONS``).
CAPTIONS: dict[str, str] = {"dataset": "data", "kind": "penalty", "lam": "λ (Keras convention)"}
#: The widget's lambda caption per kind: what lambda multiplies, in Keras' convention (slim's L2,
#: notebook 08, halves it: ``tf_slim.l2_regularizer(2 * lam)`` is the same penalty).
LAM_CAPTIONS: dict[str, str] = {
    "none": "λ (no penalty)",
    "l1": "λ (Keras: λ·Σ|w|)",
    "l2": "λ (Keras: λ·Σw²)",
}

#: What a notebook shows where the widget will be before its cells run (its ``text/plain``: the
#: book, nbviewer, GitHub, a notebook opened without a kernel).
NOT_RUNNING = "Run the cells above to start the explorer."
#: The status line's note while the kernel runs other cells (during "Run All", say): a change of
#: the controls waits behind them.
KERNEL_BUSY = ("⏳ the kernel is running other cells: a setting chosen now is trained and "
               "drawn when they finish")

#: The slider's range, in powers of ten, and its resolution.
LAM_MIN_EXP, LAM_MAX_EXP, LAM_STEPS_PER_DECADE = -5, 0, 4
LAM_STEP_EXP = 1 / LAM_STEPS_PER_DECADE  # 0.25, exact in binary


@validated(low_exp=Integer(), high_exp=Integer(), per_decade=Integer(minimum=1))
def lambda_grid(low_exp: int = LAM_MIN_EXP, high_exp: int = LAM_MAX_EXP,
                per_decade: int = LAM_STEPS_PER_DECADE) -> np.ndarray:
    """``10 ** (low_exp + k / per_decade)`` for ``k = 0 .. (high_exp - low_exp) * per_decade``.

    The defaults give the slider's 21 values, ``1e-5 .. 1``.  Computed values: compare them
    with a tolerance (the last bit depends on the CPU).
    """
    if high_exp <= low_exp:
        raise InvalidParameterError(f"high_exp must be > low_exp; got {high_exp} <= {low_exp}")
    k = np.arange((high_exp - low_exp) * per_decade + 1)
    return 10.0 ** (low_exp + k / per_decade)


@validated(lam=Real(0.0))
def lam_text(lam: float) -> str:
    """``lam`` as the slider's readout writes it: ``"1.8e-3"``, ``"1.0e+0"`` (two significant digits)."""
    mantissa, exponent = f"{lam:.1e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


@validated(dataset=Options(*DATASET_LABELS), kind=Options(*KIND_LABELS), lam=Real(0.0))
def setting_text(dataset: str, kind: str, lam: float) -> str:
    """A setting as people read it: ``"moons, L2 λ = 1.8e-3"``, ``"digits, no penalty"``.

    The dataset's label (``DATASET_LABELS``), the kind's, and ``lam`` as the readout shows it.
    """
    if kind == "none" or lam == 0.0:
        return f"{DATASET_LABELS[dataset]}, no penalty"
    return f"{DATASET_LABELS[dataset]}, {KIND_LABELS[kind]} λ = {lam_text(lam)}"


@validated(result=InstanceOf("reglab.explorer.result:TrainResult"))
def status_text(result: TrainResult) -> str:
    """The line under the picture: ``result``'s penalty in every API (``result.in_every_api``).

    ``"penalty = 0.001 * sum(w²) = keras.regularizers.l2(0.001) = tf_slim.l2_regularizer(0.002)"``
    for ``("l2", 0.001)``: Keras' ``l2(c)`` is slim's ``l2_regularizer(2c)``; ``"no penalty
    (λ = 0)"`` for kind "none".
    """
    apis = result.in_every_api
    if not apis:
        return "no penalty (λ = 0)"
    return f"penalty = {apis['formula']} = {apis['keras']} = {apis['tf_slim']}"
