"""Reset a Keras 3 optimizer to its fresh start, in place: one function for every training loop.

A compiled training loop (``tf.function``) captures the optimizer's variables, so a new run
from the same start must reuse them: a new optimizer would mean a new trace and compile.
``reset_optimizer`` zeroes the step count and the slots (Adam's ``m`` and ``v``, SGD's
momentum, ...) and leaves the learning rate alone.  Why not ``v.assign(0)`` for every
``v in optimizer.variables``: with a float learning rate, the rate is one of them, and zeroing
it stops the training without a word (DESIGN.md section 4).

Used by the explorer's engine (``reglab.explorer.engine``) and the sweep's compiled loop
(``reglab.sweep.compiled_loop``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reglab.params import InstanceOf, InvalidParameterError, validated

__all__ = ["NONZERO_START", "reset_optimizer"]

#: Keras optimizers whose fresh state is not all zeros (checked on Keras 3.15): Adagrad's and
#: Ftrl's accumulators start at ``initial_accumulator_value``, Nadam's momentum product at 1,
#: ScheduleFreeAdamW's ``z`` at the weights, LossScaleOptimizer's scale at ``2**15``.
NONZERO_START: tuple[str, ...] = ("Adagrad", "Ftrl", "Nadam", "ScheduleFreeAdamW",
                                  "LossScaleOptimizer")


@validated(optimizer=InstanceOf("keras.optimizers:Optimizer"))
def reset_optimizer(optimizer: Any) -> None:
    """Set every variable of the built ``optimizer`` to 0, except its learning rate.

    For an optimizer whose fresh state is all zeros (SGD, Adam, AdamW, Adamax, Adadelta,
    Adafactor, Lamb, Lion, RMSprop, Muon), this is the state right after ``build``:
    ``iterations = 0`` and every slot 0, so the next ``apply`` is step 1 again and, with a
    schedule, the rate starts over.  The variables stay the same objects: a compiled loop that
    captured them keeps working, without a new trace.  The optimizers of ``NONZERO_START`` are
    refused (``InvalidParameterError``): build a new one instead.
    """
    kind = type(optimizer).__name__
    if kind in NONZERO_START:
        raise InvalidParameterError(
            f"optimizer must start from all-zero slots to be reset; a {kind} does not "
            f"(see reglab.optimizers.NONZERO_START): build a new one instead")
    rate = optimizer.learning_rate  # the variable itself for a float rate, else a value
    for variable in optimizer.variables:
        if variable is not rate:
            variable.assign(np.zeros(variable.shape, variable.dtype))
