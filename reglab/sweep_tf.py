"""The TensorFlow plumbing the trainers of ``reglab.approaches`` share (none of it is the lesson).

TF1 graphs: placeholders, a dense layer, the data loss, Adam with Keras' epsilon and the
``Session`` loop that feeds the shared batches and records the run.  Keras: EasyNet as a
``Sequential`` started at the run's weights, Adam, and the end-of-epoch record.  The
regularizers in the run's convention (``reglab.sweep_run.CONVENTION``, slim's) are here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reglab.sweep_results import RunLog, SweepResult
from reglab.sweep_run import ADAM_EPSILON, Run


def tf() -> Any:
    """``tensorflow``, imported with its C++ start-up lines silenced."""
    from reglab.repro import _quiet_stderr_fd

    with _quiet_stderr_fd():
        import tensorflow
    return tensorflow


def slim_regularizer(run: Run) -> Callable[[Any], Any]:
    """``tf_slim.l2_regularizer(lam)`` or ``l1_regularizer(lam)`` (contrib.layers' today)."""
    import tf_slim

    make = tf_slim.l2_regularizer if run.penalty == "l2" else tf_slim.l1_regularizer
    return make(run.lam)  # lam=0.0 gives a function that returns None: nothing is collected


def keras_regularizer(run: Run) -> Any:
    """The Keras regularizer with the run's (slim) convention: ``l2(lam / 2)`` or ``l1(lam)``."""
    import keras

    from reglab.penalties import keras_l2_from_slim

    if run.penalty == "l2":
        return keras.regularizers.l2(keras_l2_from_slim(run.lam))
    return keras.regularizers.l1(run.lam)


# --------------------------------------------------------------------------- TF1 graphs


def tf1_inputs(run: Run) -> tuple[Any, Any]:
    """Placeholders ``x`` (batch, features) and ``y`` (batch,) of int64 labels."""
    t = tf()
    n_features = run.weights[0].shape[0]
    x = t.compat.v1.placeholder(t.float32, [None, n_features], name="x")
    y = t.compat.v1.placeholder(t.int64, [None], name="y")
    return x, y


def tf1_dense(h: Any, kernel: Any, bias: Any, last: bool) -> Any:
    """``h @ kernel + bias``, through tanh unless ``last``."""
    t = tf()
    z = t.matmul(h, kernel) + bias
    return z if last else t.tanh(z)


def tf1_data_loss(y: Any, logits: Any) -> Any:
    """Mean softmax cross-entropy of the batch."""
    t = tf()
    return t.reduce_mean(t.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def tf1_adam(run: Run) -> Any:
    """TF1's ``AdamOptimizer`` with Keras' epsilon (TF1's default is 1e-8)."""
    return tf().compat.v1.train.AdamOptimizer(run.learning_rate, epsilon=ADAM_EPSILON)


def tf1_train(run: Run, graph: Any, x: Any, y: Any, data_loss: Any, penalty: Any, logits: Any,
              total: Any = None) -> SweepResult:
    """Minimize ``total`` (default ``data_loss + penalty``) with Adam in a Session and record it.

    The shared batches are fed as NumPy arrays; after each epoch the data loss and penalty on
    the whole training set are recorded; the final weights are the graph's trainable variables
    in the order they were created (``k0, b0, k1, ...``).
    """
    t = tf()
    total = data_loss + penalty if total is None else total
    train_op = tf1_adam(run).minimize(total)
    log = RunLog(run)
    train_feed = {x: run.split.x_train, y: run.split.y_train}
    with t.compat.v1.Session(graph=graph) as sess:
        sess.run(t.compat.v1.global_variables_initializer())
        step = sess.make_callable([train_op, total], feed_list=[x, y])  # sess.run, less overhead
        for epoch in range(run.epochs):
            for xb, yb in run.batches(epoch):
                _, loss_value = step(xb, yb)
                log.first_step(loss_value)
            log.end_epoch(*sess.run([data_loss, penalty], train_feed))
        weights = sess.run(t.compat.v1.trainable_variables())
        return log.result(sess.run(logits, {x: run.split.x_test}), weights)


# --------------------------------------------------------------------------- Keras


def keras_easynet(run: Run, regularizer: Any) -> Any:
    """EasyNet as a Keras Sequential with ``regularizer`` on every kernel, start weights loaded."""
    import keras

    layers = run.layers()
    model = keras.Sequential([keras.Input((layers[0][0].shape[0],))])
    for kernel, _, last in layers:
        model.add(keras.layers.Dense(kernel.shape[1], activation=None if last else "tanh",
                                     kernel_regularizer=regularizer))
    model.set_weights(run.weights)
    return model


def keras_adam(run: Run) -> Any:
    """Keras' ``Adam`` with the run's learning rate and ``ADAM_EPSILON``."""
    import keras

    return keras.optimizers.Adam(run.learning_rate, epsilon=ADAM_EPSILON)


def keras_epoch_end(log: RunLog, model: Any, loss_fn: Any) -> None:
    """Record the data loss on the whole training set and ``model.losses`` after an epoch."""
    t = tf()
    x, y = log.run.split.x_train, log.run.split.y_train
    log.end_epoch(loss_fn(y, model(x)), t.add_n(model.losses))
