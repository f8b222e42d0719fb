"""EasyNet trained headless through every API of the thread: sweeps and cross-checks.

Notebooks 01-06 teach these approaches one by one; this module only runs them, the same way,
so that a sweep (notebook 08, ``reglab sweep``) or a side-by-side comparison (notebook 09) is
one call::

    result = reglab.sweep.approaches.train("tf_slim", lam=1e-2, epochs=10)
    result.test_accuracy, result.predicted_class_counts

==================  ===========================================================  ========
approach            where the penalty comes from, and how it enters the loss      answers
==================  ===========================================================  ========
``get_variable``    ``get_variable(regularizer=...)`` per kernel, then             0, 2, 5
                    ``tf.compat.v1.losses.get_regularization_loss()``
``variable_scope``  ``variable_scope(regularizer=...)`` for the whole net,         0, 7
                    biases opted out; then ``get_regularization_loss()``
``tf_layers``       ``tf.compat.v1.layers.dense(kernel_regularizer=...)``, then    2, 6
                    ``tf.add_n([loss] + get_regularization_losses())``; runs in
                    its own process (needs ``TF_USE_LEGACY_KERAS=1``)
``tf_slim``         ``tf_slim.fully_connected(weights_regularizer=...)``, then     1, 3
                    ``tf.reduce_sum(get_collection(REGULARIZATION_LOSSES))``
``keras_fit``       ``Dense(kernel_regularizer=...)``; ``fit`` adds                4
                    ``model.losses`` itself
``keras_loop``      the same model in a ``tf.GradientTape`` loop that adds         4
                    ``tf.add_n(model.losses)`` by hand
``l2_loss``         ``lam * tf.add_n([tf.nn.l2_loss(k) for k in kernels])``        8
==================  ===========================================================  ========

``lam`` is in the thread's convention (``CONVENTION``, ``"slim"``) for every approach; it is
not the explorer's (``reglab.explorer`` takes Keras' ``lam * sum(k**2)``, no 1/2)::

    kind="l2":  P = lam * sum over the 3 kernels k of sum(k**2) / 2
                  = tf_slim.l2_regularizer(lam)(k) = lam * tf.nn.l2_loss(k)
                  = keras.regularizers.l2(lam / 2)(k)          <- note the / 2
    kind="l1":  P = lam * sum over the 3 kernels k of sum(|k|)
                  = tf_slim.l1_regularizer(lam)(k) = keras.regularizers.l1(lam)(k)

Only the kernels are regularized (as in answer 3), never the biases.  ``l2_loss`` supports only
``kind="l2"`` (``SUPPORTED_KINDS``).  The objective of every step is ``mean softmax
cross-entropy of the batch + P``.

Everything else is shared, so that the approaches agree number for number: the start
(``reglab.easynet.initial_weights(seed, sizes=(n_features, 200, 200, n_classes))``), the batches
(``reglab.data.minibatches(n_train, batch_size, epoch, seed)``, same order in every approach, the
last batch of an epoch may be short), tanh, and ``Adam(learning_rate, beta_1=0.9, beta_2=0.999,
epsilon=1e-7)`` (Keras' epsilon; TF1's ``AdamOptimizer`` defaults to 1e-8, so it is set).

Every trainer starts from the run's weights, biases included.  The settings (``make_run``,
``Run``) are in ``reglab.sweep.run``; what a ``SweepResult`` records in ``reglab.sweep.results``;
the shared TensorFlow plumbing in ``reglab.sweep.shared``; the ``tf_layers`` process in
``reglab.sweep.legacy``.  This module holds the seven trainers, their registry ``APPROACHES``,
the entry point ``train`` and ``source``, which shows a trainer's code (or a helper's) in a
notebook as it runs.
"""

from __future__ import annotations

import inspect
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

from IPython.display import Code

from reglab.params import Either, Function, InvalidParameterError, Options, validated
from reglab.session import quiet_stderr
from reglab.sweep.legacy import legacy_keras_active, run_in_legacy_process
from reglab.sweep.results import RunLog, SweepResult
from reglab.sweep.run import (
    ADAM_EPSILON,
    CONVENTION,
    SETTINGS,
    SUPPORTED_KINDS,
    EpochCallback,
    Run,
    make_run,
)
from reglab.sweep.shared import (
    keras_adam,
    keras_easynet,
    keras_epoch_end,
    keras_regularizer,
    slim_regularizer,
    tf1_data_loss,
    tf1_dense,
    tf1_inputs,
    tf1_train,
)
from reglab.tf1 import fresh_graph

with quiet_stderr():  # TensorFlow's C++ start-up lines
    import keras
    import tensorflow as tf
    import tf_slim as slim

__all__ = [
    "ADAM_EPSILON", "APPROACHES", "CONVENTION", "SUPPORTED_KINDS", "EpochCallback", "Run",
    "SweepResult", "get_variable", "keras_fit", "keras_loop", "l2_loss", "make_run", "source",
    "tf_layers", "tf_slim", "train", "variable_scope",
]


def get_variable(run: Run) -> SweepResult:
    """Answers 0, 2, 5: ``tf.compat.v1.get_variable(regularizer=...)`` on each kernel."""
    regularizer = slim_regularizer(run)
    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h = x
        for i, (k, b, last) in enumerate(run.layers()):
            kernel = tf.compat.v1.get_variable(f"kernel_{i}", initializer=k, regularizer=regularizer)
            bias = tf.compat.v1.get_variable(f"bias_{i}", initializer=b)  # no regularizer
            h = tf1_dense(h, kernel, bias, last)
        penalty = tf.compat.v1.losses.get_regularization_loss()  # sum of REGULARIZATION_LOSSES
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


def variable_scope(run: Run) -> SweepResult:
    """Answers 0, 7: one ``variable_scope(regularizer=...)`` for all variables; biases opt out."""

    def no_penalty(_: Any) -> None:  # regularizer=None would inherit the scope's regularizer
        return None

    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h = x
        with tf.compat.v1.variable_scope("EasyNet", regularizer=slim_regularizer(run)):
            for i, (k, b, last) in enumerate(run.layers()):
                kernel = tf.compat.v1.get_variable(f"kernel_{i}", initializer=k)  # scope's default
                bias = tf.compat.v1.get_variable(f"bias_{i}", initializer=b, regularizer=no_penalty)
                h = tf1_dense(h, kernel, bias, last)
        penalty = tf.compat.v1.losses.get_regularization_loss()
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


def tf_layers(run: Run) -> SweepResult:
    """Answers 2, 6: ``tf.compat.v1.layers.dense(kernel_regularizer=...)``.

    ``tf.layers`` needs ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is first imported, so unless
    this process was started that way, the run happens in a fresh Python process
    (``reglab.sweep.worker``) and its result comes back as JSON.
    """
    if not legacy_keras_active():
        return run_in_legacy_process(run)

    regularizer = slim_regularizer(run)
    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "tf.layers.dense is deprecated"
        x, y = tf1_inputs(run)
        h = x
        for k, b, last in run.layers():
            h = tf.compat.v1.layers.dense(
                h, k.shape[1], activation=None if last else tf.tanh,
                kernel_initializer=tf.compat.v1.constant_initializer(k),
                bias_initializer=tf.compat.v1.constant_initializer(b),
                kernel_regularizer=regularizer)
        data_loss = tf1_data_loss(y, h)
        penalty = tf.compat.v1.losses.get_regularization_loss()
        total = tf.add_n([data_loss] + tf.compat.v1.losses.get_regularization_losses())
        return tf1_train(run, graph, x, y, data_loss, penalty, h, total=total)


def tf_slim(run: Run) -> SweepResult:
    """Answer 3 as written: ``tf_slim.fully_connected(weights_regularizer=...)`` in ``EasyNet``."""
    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "layer.apply is deprecated"
        x, y = tf1_inputs(run)
        regularizer = slim_regularizer(run)
        with tf.compat.v1.variable_scope("EasyNet"):
            out = x
            for k, b, last in run.layers():
                out = slim.fully_connected(
                    out, k.shape[1], activation_fn=None if last else tf.nn.tanh,
                    weights_initializer=tf.compat.v1.constant_initializer(k),
                    biases_initializer=tf.compat.v1.constant_initializer(b),
                    weights_regularizer=regularizer)
        reg_ws = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, "EasyNet")
        penalty = tf.reduce_sum(reg_ws)  # answer 3: loss_fn = cross_entropy + tf.reduce_sum(reg_ws)
        return tf1_train(run, graph, x, y, tf1_data_loss(y, out), penalty, out)


def keras_fit(run: Run) -> SweepResult:
    """Answer 4: ``Dense(kernel_regularizer=...)`` and ``model.fit``, which adds the penalty itself."""
    model = keras_easynet(run, keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras_adam(run), loss=loss_fn, jit_compile=False)
    log = RunLog(run)
    xb, yb = next(run.batches(0))
    log.first_step(model.compute_loss(x=xb, y=yb, y_pred=model(xb)))  # data loss + model.losses
    for epoch in range(run.epochs):
        x_epoch, y_epoch = run.epoch_arrays(epoch)  # consecutive slices = run.batches(epoch)
        dataset = tf.data.Dataset.from_tensor_slices((x_epoch, y_epoch)).batch(run.batch_size)
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        keras_epoch_end(log, model, loss_fn)
    return log.result(model(run.split.x_test), model.get_weights())


def keras_loop(run: Run) -> SweepResult:
    """Answer 4 in a custom loop: ``tf.GradientTape`` must add ``model.losses`` by hand."""
    model = keras_easynet(run, keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras_adam(run)
    n_features = run.weights[0].shape[0]

    @tf.function(input_signature=[tf.TensorSpec([None, n_features], tf.float32),
                                  tf.TensorSpec([None], tf.int64)])
    def train_step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            total = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses)
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return total

    log = RunLog(run)
    for epoch in range(run.epochs):
        for xb, yb in run.batches(epoch):
            log.first_step(train_step(xb, yb))
        keras_epoch_end(log, model, loss_fn)
    return log.result(model(run.split.x_test), model.get_weights())


def l2_loss(run: Run) -> SweepResult:
    """Answer 8: ``lam * tf.add_n([tf.nn.l2_loss(k) ...])`` written by hand (kernels only)."""
    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h, kernels = x, []
        for i, (k, b, last) in enumerate(run.layers()):
            kernel, bias = tf.Variable(k, name=f"kernel_{i}"), tf.Variable(b, name=f"bias_{i}")
            h = tf1_dense(h, kernel, bias, last)
            kernels.append(kernel)  # answer 8 sums over tf.trainable_variables(): biases too
        penalty = run.lam * tf.add_n([tf.nn.l2_loss(k) for k in kernels])  # slim's convention
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


#: name -> trainer ``f(run: Run) -> SweepResult``, in the order of the notebooks.
APPROACHES: dict[str, Callable[[Run], SweepResult]] = {
    "get_variable": get_variable,
    "variable_scope": variable_scope,
    "tf_layers": tf_layers,
    "tf_slim": tf_slim,
    "keras_fit": keras_fit,
    "keras_loop": keras_loop,
    "l2_loss": l2_loss,
}


@validated(function=Either(Options(*APPROACHES), Function()))
def source(function: str | Callable[..., Any]) -> Code:
    """The source code of an approach (a key of ``APPROACHES``) or of a ``reglab`` function.

    It is read from the module with ``inspect.getsource``, so it is the very code that runs,
    and shown as ``IPython.display.Code``: highlighted in a notebook, the plain text (``.data``)
    elsewhere.
    """
    if isinstance(function, str):
        function = APPROACHES[function]
    module = getattr(function, "__module__", "") or ""
    if not inspect.isfunction(function) or not (module == "reglab" or module.startswith("reglab.")):
        raise InvalidParameterError(
            f"function must be an approach's name or a Python function of reglab; got "
            f"{getattr(function, '__qualname__', type(function).__name__)} from {module!r}")
    return Code(textwrap.dedent(inspect.getsource(function)), language="python")


@validated(**SETTINGS)
def train(
    approach: str,
    lam: float,
    epochs: int,
    dataset: str = "mnist_subset",
    batch_size: int = 50,
    learning_rate: float = 1e-3,
    seed: int = 0,
    kind: str = "l2",
    on_epoch: EpochCallback | None = None,
) -> SweepResult:
    """Train EasyNet with ``approach`` (a key of ``APPROACHES``) and return its ``SweepResult``.

    The settings are those of ``reglab.sweep.run.make_run``: ``lam`` in the slim convention,
    ``lam * sum(k**2) / 2`` per kernel for ``kind="l2"``, ``lam * sum(|k|)`` for ``"l1"``.
    """
    run = make_run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, kind, on_epoch)
    return APPROACHES[approach](run)
