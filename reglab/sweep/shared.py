"""The TensorFlow plumbing the trainers of ``reglab.sweep.approaches`` share (none of it is the lesson).

TF1 graphs: placeholders, a dense layer, the data loss, Adam with Keras' epsilon and the
``Session`` loop that feeds the shared batches and records the run.  Keras: EasyNet
(``reglab.easynet.keras_model``) started at the run's weights, Adam, and the end-of-epoch record.
The regularizers in the run's convention (``reglab.sweep.run.CONVENTION``, slim's) are here too.
Importing this module imports TensorFlow, Keras and tf_slim (with their start-up lines silenced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reglab import easynet
from reglab.penalties import keras_l2_from_slim
from reglab.session import quiet_stderr
from reglab.sweep.results import RunLog, SweepResult
from reglab.sweep.run import ADAM_EPSILON, Run

with quiet_stderr():
    import keras
    import tensorflow as tf
    import tf_slim


def slim_regularizer(run: Run) -> Callable[[Any], Any]:
    """``tf_slim.l2_regularizer(lam)`` or ``l1_regularizer(lam)`` (contrib.layers' today)."""
    make = tf_slim.l2_regularizer if run.kind == "l2" else tf_slim.l1_regularizer
    return make(run.lam)  # lam=0.0 gives a function that returns None: nothing is collected


def keras_regularizer(run: Run) -> Any:
    """The Keras regularizer with the run's (slim) convention: ``l2(lam / 2)`` or ``l1(lam)``."""
    if run.kind == "l2":
        return keras.regularizers.l2(keras_l2_from_slim(run.lam))
    return keras.regularizers.l1(run.lam)


# --------------------------------------------------------------------------- TF1 graphs


def tf1_inputs(run: Run) -> tuple[Any, Any]:
    """Placeholders ``x`` (batch, features) and ``y`` (batch,) of int64 labels."""
    n_features = run.weights[0].shape[0]
    x = tf.compat.v1.placeholder(tf.float32, [None, n_features], name="x")
    y = tf.compat.v1.placeholder(tf.int64, [None], name="y")
    return x, y


def tf1_dense(h: Any, kernel: Any, bias: Any, last: bool) -> Any:
    """``h @ kernel + bias``, through tanh unless ``last``."""
    z = tf.matmul(h, kernel) + bias
    return z if last else tf.tanh(z)


def tf1_data_loss(y: Any, logits: Any) -> Any:
    """Mean softmax cross-entropy of the batch."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def tf1_adam(run: Run) -> Any:
    """TF1's ``AdamOptimizer`` with Keras' epsilon (TF1's default is 1e-8)."""
    return tf.compat.v1.train.AdamOptimizer(run.learning_rate, epsilon=ADAM_EPSILON)


def tf1_train(run: Run, graph: Any, x: Any, y: Any, data_loss: Any, penalty: Any, logits: Any,
              total: Any = None) -> SweepResult:
    """Minimize ``total`` (default ``data_loss + penalty``) with Adam in a Session and record it.

    The shared batches are fed as NumPy arrays; after each epoch the data loss and penalty on
    the whole training set are recorded; the final weights are the graph's trainable variables
    in the order they were created (``k0, b0, k1, ...``).
    """
    total = data_loss + penalty if total is None else total
    train_op = tf1_adam(run).minimize(total)
    log = RunLog(run)
    train_feed = {x: run.split.x_train, y: run.split.y_train}
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        step = sess.make_callable([train_op, total], feed_list=[x, y])  # sess.run, less overhead
        for epoch in range(run.epochs):
            for xb, yb in run.batches(epoch):
                _, loss_value = step(xb, yb)
                log.first_step(loss_value)
            log.end_epoch(*sess.run([data_loss, penalty], train_feed))
        weights = sess.run(tf.compat.v1.trainable_variables())
        return log.result(sess.run(logits, {x: run.split.x_test}), weights)


# --------------------------------------------------------------------------- Keras


def keras_easynet(run: Run, regularizer: Any) -> Any:
    """EasyNet as a Keras Sequential with ``regularizer`` on every kernel, start weights loaded."""
    return easynet.keras_model(run.weights, kernel_regularizer=regularizer)


def keras_adam(run: Run) -> Any:
    """Keras' ``Adam`` with the run's learning rate and ``ADAM_EPSILON``."""
    return keras.optimizers.Adam(run.learning_rate, epsilon=ADAM_EPSILON)


def keras_epoch_end(log: RunLog, model: Any, loss_fn: Any) -> None:
    """Record the data loss on the whole training set and ``model.losses`` after an epoch."""
    x, y = log.run.split.x_train, log.run.split.y_train
    log.end_epoch(loss_fn(y, model(x)), tf.add_n(model.losses))
