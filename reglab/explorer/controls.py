"""What the explorer's controls offer and what its status line says: one source for the JupyterLab
widget (``reglab.explorer.widgets``) and the static page of the book (``reglab.explorer.static``).

The lambda slider is logarithmic: ``lambda_grid()`` gives its values,
``10 ** (LAM_MIN_EXP + k / LAM_STEPS_PER_DECADE)`` for ``k = 0 .. 20``, both ends included, so
one step multiplies lambda by ``10 ** LAM_STEP_EXP``.  Lambda is in the explorer's (Keras')
convention; the status line under the picture writes it in every API.
"""

from __future__ import annotations

import numpy as np

from reglab.explorer.result import TrainResult
from reglab.params import InstanceOf, Integer, InvalidParameterError, validated

__all__ = [
    "CAPTIONS", "DATASET_LABELS", "KIND_LABELS", "LAM_MAX_EXP", "LAM_MIN_EXP", "LAM_STEPS_PER_DECADE",
    "LAM_STEP_EXP", "lambda_grid", "status_text",
]

#: The button label of each dataset, and of each penalty kind.
DATASET_LABELS: dict[str, str] = {"toy2d": "moons", "digits": "digits"}
KIND_LABELS: dict[str, str] = {"none": "none", "l1": "L1", "l2": "L2"}
#: The caption in front of each control (the kind's buttons read "penalty: none L1 L2").
CAPTIONS: dict[str, str] = {"dataset": "data", "kind": "penalty", "lam": "lambda"}

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


@validated(result=InstanceOf("reglab.explorer.result:TrainResult"))
def status_text(result: TrainResult) -> str:
    """The line under the picture: ``result``'s penalty in every API (``result.in_every_api``).

    ``"penalty = 0.001 * sum(w²) = keras.regularizers.l2(0.001) = tf_slim.l2_regularizer(0.002)"``
    for ``("l2", 0.001)``: Keras' ``l2(c)`` is slim's ``l2_regularizer(2c)``; ``"no penalty
    (lambda = 0)"`` for kind "none".
    """
    apis = result.in_every_api
    if not apis:
        return "no penalty (lambda = 0)"
    return f"penalty = {apis['formula']} = {apis['keras']} = {apis['tf_slim']}"
