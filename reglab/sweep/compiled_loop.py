"""The fast path of a custom training loop: a whole epoch inside one XLA-compiled ``tf.function``.

The notebook writes the lesson, the training step (where ``training=True`` goes, where the
penalty and the label smoothing enter the loss, where the optimizer applies the constraints);
this module holds the plumbing around it:

* ``epoch_batches`` cuts the training set into the batches of one epoch, in the workbook's
  order (``reglab.data.epoch_order``), as arrays of shape ``(steps, batch, ...)``;
* ``compile_epoch`` wraps a step ``step(x_batch, y_batch) -> data loss`` into one
  ``tf.function(jit_compile=True)`` that runs every batch of an epoch with a ``tf.range`` loop
  and returns the mean data loss (one call and one XLA program per epoch: 3-6x faster than
  ``fit`` on a CPU, see ``benchmarks/README.md``; with op determinism on, Keras drops
  ``fit(jit_compile=True)`` but a plain ``tf.function`` still compiles);
* ``compile_evaluate`` gives a model's mean cross-entropy and accuracy on a whole set;
* ``restart`` puts a model and its optimizer back to a fresh start (weights, optimizer slots,
  step count, random seeds) so that one compiled program serves several seeds.

Importing this module imports TensorFlow and Keras (``import reglab`` alone does not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reglab.data import epoch_order, same_rows
from reglab.optimizers import reset_optimizer
from reglab.params import (
    Anything,
    Array,
    Boolean,
    Function,
    InstanceOf,
    Integer,
    InvalidParameterError,
    ListOf,
    validated,
)
from reglab.session import quiet_stderr

with quiet_stderr():
    import keras
    import tensorflow as tf

_MODEL = InstanceOf("keras:Model", example=lambda: keras.Sequential([keras.Input((1,)),
                                                                      keras.layers.Dense(1)]))
_OPTIMIZER = InstanceOf("keras.optimizers:Optimizer", example=lambda: keras.optimizers.SGD())


@validated(x=Anything(), y=Anything(), batch_size=Integer(minimum=1), epoch=Integer(minimum=0),
           seed=Integer(minimum=0))
def epoch_batches(
    x: Any, y: Any, batch_size: int, epoch: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ``epoch``'s batches as ``(xs, ys)`` of shapes ``(steps, batch_size, ...)``.

    The order is ``reglab.data.epoch_order(len(y), epoch, seed)``; a last incomplete batch is
    dropped (the compiled loop needs equal batches).  ``x`` and ``y`` keep their dtypes (``y``
    holds integer labels); they must have the same number of rows, at least ``batch_size``.
    """
    x, y = same_rows(x, y)
    if batch_size > len(y):
        raise InvalidParameterError(
            f"batch_size must be <= the number of samples {len(y)}, got {batch_size}"
        )
    order = epoch_order(len(y), epoch, seed)
    steps = len(y) // batch_size
    keep = order[: steps * batch_size]
    return (x[keep].reshape(steps, batch_size, *x.shape[1:]),
            y[keep].reshape(steps, batch_size))


@validated(step=Function(), jit_compile=Boolean())
def compile_epoch(step: Callable[[Any, Any], Any], *, jit_compile: bool = True) -> Callable:
    """Return ``run(xs, ys) -> mean of step's return value`` over the batches ``xs[i], ys[i]``.

    ``step`` is called once per batch inside one ``tf.function`` (XLA-compiled by default)
    with a ``tf.range`` loop; it must return a scalar (the batch's data loss). Trace and
    compile happen on the first call; later calls with the same shapes reuse the program.
    """

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run(xs: tf.Tensor, ys: tf.Tensor) -> tf.Tensor:
        steps = tf.shape(xs)[0]
        total = tf.constant(0.0)
        for i in tf.range(steps):
            total += tf.cast(step(xs[i], ys[i]), tf.float32)
        return total / tf.cast(steps, tf.float32)

    def call(xs: Any, ys: Any) -> float:
        return float(run(tf.convert_to_tensor(xs), tf.convert_to_tensor(ys)))

    call.__doc__ = f"One epoch of {getattr(step, '__name__', 'step')}: the mean of its losses."
    return call


@validated(model=Function(), jit_compile=Boolean())
def compile_evaluate(
    model: Any, *, jit_compile: bool = False
) -> Callable[[Any, Any], tuple[float, float]]:
    """Return ``evaluate(x, y) -> (mean cross-entropy, accuracy)`` of ``model``'s logits.

    The model is called with ``training=False`` (no dropout, no noise); labels are integers.
    One ``tf.function`` (XLA-compiled only if ``jit_compile``: a forward pass gains little).
    The model is available as ``evaluate.model`` (set its weights to evaluate another model
    of the same shape with the same compiled program).
    """

    @tf.function(jit_compile=jit_compile)
    def stats(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits = model(x, training=False)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=-1), y), tf.int32))
        return loss, correct

    def evaluate(x: Any, y: Any) -> tuple[float, float]:
        y = np.asarray(y, dtype=np.int64)
        loss, correct = stats(tf.convert_to_tensor(x), tf.convert_to_tensor(y))
        return float(loss), int(correct) / len(y)

    evaluate.model = model  # type: ignore[attr-defined]
    return evaluate


@validated(model=_MODEL, optimizer=_OPTIMIZER, weights=ListOf(Array()), seed=Integer(minimum=0))
def restart(model: Any, optimizer: Any, weights: Sequence[np.ndarray], seed: int = 0) -> None:
    """Give ``model`` the ``weights`` and ``optimizer`` a fresh start, in place.

    Sets the model's weights, resets the optimizer (``reglab.optimizers.reset_optimizer``: its
    slots and step count, not its learning rate) and restarts every
    ``keras.random.SeedGenerator`` of the model's layers (dropout, noise), the ``k``-th at
    ``[SeedSequence([seed, k]).generate_state(1)[0] % 2**31, 0]``: one stream per generator.
    The variables stay the same objects, so a compiled epoch keeps working.
    """
    model.set_weights(weights)
    reset_optimizer(optimizer)
    generators = [generator for layer in model._flatten_layers(include_self=False)
                  for generator in getattr(layer, "_seed_generators", []) or []]
    for index, generator in enumerate(generators):
        # one stream per generator: two Dropout layers must not draw the same masks
        start = np.random.SeedSequence([seed, index]).generate_state(1)[0] % 2**31
        generator.state.assign(np.array([start, 0], dtype=generator.state.dtype))
