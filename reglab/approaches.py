"""EasyNet trained headless through every API of the thread: sweeps and cross-checks.

Notebooks 01-06 teach these approaches one by one; this module only runs them, the same way,
so that a sweep (notebook 08, ``python -m reglab sweep``) or a side-by-side comparison
(notebook 09) is one call::

    result = reglab.approaches.train("tf_slim", lam=1e-2, epochs=10)
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

The lambda convention is the thread's (answer 3, ``tf_slim``), for every approach::

    penalty="l2":  P = lam * sum over the 3 kernels k of sum(k**2) / 2
                     = tf_slim.l2_regularizer(lam)(k) = lam * tf.nn.l2_loss(k)
                     = keras.regularizers.l2(lam / 2)(k)          <- note the / 2
    penalty="l1":  P = lam * sum over the 3 kernels k of sum(|k|)
                     = tf_slim.l1_regularizer(lam)(k) = keras.regularizers.l1(lam)(k)

Only the kernels are regularized (as in answer 3), never the biases.  ``l2_loss`` supports only
``penalty="l2"``.  The objective of every step is ``mean softmax cross-entropy of the batch + P``.

Everything else is shared, so that the approaches agree number for number: the start
(``reglab.easynet.initial_weights(seed, sizes=(n_features, 200, 200, n_classes))``), the batches
(``reglab.train.minibatches(n_train, batch_size, epoch, seed)``, same order in every approach, the
last batch of an epoch may be short), tanh, and ``Adam(learning_rate, beta_1=0.9, beta_2=0.999,
epsilon=1e-7)`` (Keras' epsilon; TF1's ``AdamOptimizer`` defaults to 1e-8, so it is set).

What a ``SweepResult`` records: ``step0_total_loss`` is the objective of the first batch before
any update, as the approach computes it; after each epoch, the data loss (mean cross-entropy on
the whole training set) and the penalty ``P``, both computed by the approach's own graph or model;
at the end, the accuracy and predicted classes on the test set, and the final weights.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reglab import data as _data
from reglab._validate import check_choice, check_int, check_scale
from reglab.easynet import initial_weights
from reglab.env import NOTEBOOK_ENV
from reglab.train import epoch_order, minibatches

#: Hidden widths of EasyNet (answer 3); input and output widths follow the dataset.
HIDDEN = (200, 200)
#: Adam's epsilon in every approach (Keras' default).
ADAM_EPSILON = 1e-7
#: Penalty kinds and the lambda convention of each (see the module docstring).
PENALTIES = ("l2", "l1")

#: ``on_epoch(epoch, data_loss, penalty)``: called after each epoch (epoch counts from 1).
EpochCallback = Callable[[int, float, float], Any]


@dataclass(frozen=True)
class SweepResult:
    """What one training run of EasyNet gives (see the module docstring for the definitions)."""

    approach: str
    lam: float
    penalty: str
    dataset: str
    epochs: int
    test_accuracy: float
    final_data_loss: float
    final_penalty: float
    step0_total_loss: float
    predicted_class_counts: list[int]
    data_loss_curve: list[float]
    penalty_curve: list[float]
    weights: list[np.ndarray] = field(repr=False, compare=False)
    epoch_seconds: list[float] = field(repr=False, compare=False)

    @property
    def kernels(self) -> list[np.ndarray]:
        """The final kernels (what the penalty acts on), input layer first."""
        return [w for w in self.weights if w.ndim == 2]

    @property
    def biases(self) -> list[np.ndarray]:
        """The final biases (not regularized), input layer first."""
        return [w for w in self.weights if w.ndim == 1]

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values, without the weights."""
        return {k: v for k, v in self.__dict__.items() if k != "weights"}


@dataclass(frozen=True)
class Run:
    """Everything an approach needs: validated settings, the data and EasyNet's start weights."""

    approach: str
    lam: float
    epochs: int
    dataset: str
    batch_size: int
    learning_rate: float
    seed: int
    penalty: str
    split: _data.Split
    weights: list[np.ndarray]
    on_epoch: EpochCallback | None = None

    def layers(self) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """``[(kernel, bias, is_last_layer), ...]`` of the start weights, input layer first."""
        pairs = list(zip(self.weights[0::2], self.weights[1::2], strict=True))
        return [(k, b, i == len(pairs) - 1) for i, (k, b) in enumerate(pairs)]

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The ``(x, y)`` batches of epoch ``epoch`` (from 0), in the shared order."""
        x, y = self.split.x_train, self.split.y_train
        for idx in minibatches(len(y), self.batch_size, epoch, self.seed):
            yield x[idx], y[idx]

    def epoch_arrays(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The training set permuted in epoch ``epoch``'s order: consecutive slices are its batches."""
        order = epoch_order(len(self.split.y_train), epoch, self.seed)
        return self.split.x_train[order], self.split.y_train[order]


class _Log:
    """Collects what an approach reports and builds its ``SweepResult``."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.step0: float | None = None
        self.data_loss: list[float] = []
        self.penalty: list[float] = []
        self.seconds: list[float] = []
        self._started = time.perf_counter()

    def first_step(self, total_loss: Any) -> None:
        """Record the objective of the very first batch (later calls are ignored)."""
        if self.step0 is None:
            self.step0 = float(total_loss)

    def end_epoch(self, data_loss: Any, penalty: Any) -> None:
        """Record the epoch's training time, data loss and penalty; call ``on_epoch``."""
        self.seconds.append(time.perf_counter() - self._started)
        self.data_loss.append(float(data_loss))
        self.penalty.append(float(penalty))
        if self.run.on_epoch is not None:
            self.run.on_epoch(len(self.data_loss), self.data_loss[-1], self.penalty[-1])
        self._started = time.perf_counter()

    def result(self, test_logits: Any, weights: list[Any]) -> SweepResult:
        """The ``SweepResult`` from the test-set logits and the final ``[k0, b0, k1, ...]``."""
        run = self.run
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        if [w.shape for w in weights] != [w.shape for w in run.weights]:
            raise RuntimeError(f"{run.approach} returned weights of shapes "
                               f"{[w.shape for w in weights]}, expected the start shapes")
        predicted = np.argmax(np.asarray(test_logits), axis=1)
        counts = np.bincount(predicted, minlength=run.split.num_classes)
        return SweepResult(
            approach=run.approach,
            lam=run.lam,
            penalty=run.penalty,
            dataset=run.dataset,
            epochs=run.epochs,
            test_accuracy=float(np.mean(predicted == run.split.y_test)),
            final_data_loss=self.data_loss[-1],
            final_penalty=self.penalty[-1],
            step0_total_loss=float(self.step0),
            predicted_class_counts=[int(c) for c in counts],
            data_loss_curve=self.data_loss,
            penalty_curve=self.penalty,
            weights=weights,
            epoch_seconds=self.seconds,
        )


# --------------------------------------------------------------------------- shared plumbing


def _tf() -> Any:
    from reglab.repro import _quiet_stderr_fd

    with _quiet_stderr_fd():
        import tensorflow as tf
    return tf


def _slim_regularizer(run: Run) -> Callable[[Any], Any]:
    """``tf_slim.l2_regularizer(lam)`` or ``l1_regularizer(lam)`` (contrib.layers' today)."""
    import tf_slim

    make = tf_slim.l2_regularizer if run.penalty == "l2" else tf_slim.l1_regularizer
    return make(run.lam)  # lam=0.0 gives a function that returns None: nothing is collected


def _keras_regularizer(run: Run) -> Any:
    """The Keras regularizer with the thread's convention: ``l2(lam / 2)`` or ``l1(lam)``."""
    import keras

    if run.penalty == "l2":
        return keras.regularizers.l2(run.lam / 2)
    return keras.regularizers.l1(run.lam)


def _tf1_inputs(run: Run) -> tuple[Any, Any]:
    tf = _tf()
    n_features = run.weights[0].shape[0]
    x = tf.compat.v1.placeholder(tf.float32, [None, n_features], name="x")
    y = tf.compat.v1.placeholder(tf.int64, [None], name="y")
    return x, y


def _tf1_dense(h: Any, kernel: Any, bias: Any, last: bool) -> Any:
    tf = _tf()
    z = tf.matmul(h, kernel) + bias
    return z if last else tf.tanh(z)


def _tf1_data_loss(y: Any, logits: Any) -> Any:
    tf = _tf()
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _tf1_adam(run: Run) -> Any:
    return _tf().compat.v1.train.AdamOptimizer(run.learning_rate, epsilon=ADAM_EPSILON)


def _tf1_session_loop(
    run: Run, graph: Any, x: Any, y: Any, train_op: Any, total: Any, data_loss: Any,
    penalty: Any, logits: Any,
) -> SweepResult:
    """Run ``train_op`` once per batch in a Session (numpy batches fed) and record the run."""
    tf = _tf()
    log = _Log(run)
    train_feed = {x: run.split.x_train, y: run.split.y_train}
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        step = sess.make_callable([train_op, total], feed_list=[x, y])  # sess.run, less overhead
        for epoch in range(run.epochs):
            for xb, yb in run.batches(epoch):
                _, loss_value = step(xb, yb)
                log.first_step(loss_value)
            log.end_epoch(*sess.run([data_loss, penalty], train_feed))
        weights = sess.run(tf.compat.v1.trainable_variables())  # created as k0, b0, k1, ...
        return log.result(sess.run(logits, {x: run.split.x_test}), weights)


def _keras_easynet(run: Run, regularizer: Any) -> Any:
    """EasyNet as a Keras Sequential with ``regularizer`` on every kernel, start weights loaded."""
    import keras

    layers = run.layers()
    model = keras.Sequential([keras.Input((layers[0][0].shape[0],))])
    for kernel, _, last in layers:
        model.add(keras.layers.Dense(kernel.shape[1], activation=None if last else "tanh",
                                     kernel_regularizer=regularizer))
    model.set_weights(run.weights)
    return model


def _keras_epoch_end(log: _Log, model: Any, loss_fn: Any) -> None:
    tf = _tf()
    x, y = log.run.split.x_train, log.run.split.y_train
    log.end_epoch(loss_fn(y, model(x)), tf.add_n(model.losses))


def _keras_adam(run: Run) -> Any:
    import keras

    return keras.optimizers.Adam(run.learning_rate, epsilon=ADAM_EPSILON)


# --------------------------------------------------------------------------- the approaches


def get_variable(run: Run) -> SweepResult:
    """Answers 0, 2, 5: ``tf.compat.v1.get_variable(regularizer=...)`` on each kernel."""
    tf = _tf()
    from reglab.tf1 import fresh_graph

    regularizer = _slim_regularizer(run)
    with fresh_graph(run.seed) as graph:
        x, y = _tf1_inputs(run)
        h = x
        for i, (k, b, last) in enumerate(run.layers()):
            kernel = tf.compat.v1.get_variable(f"kernel_{i}", initializer=k, regularizer=regularizer)
            bias = tf.compat.v1.get_variable(f"bias_{i}", initializer=b)  # no regularizer
            h = _tf1_dense(h, kernel, bias, last)
        data_loss = _tf1_data_loss(y, h)
        penalty = tf.compat.v1.losses.get_regularization_loss()  # sum of REGULARIZATION_LOSSES
        total = data_loss + penalty
        train_op = _tf1_adam(run).minimize(total)
        return _tf1_session_loop(run, graph, x, y, train_op, total, data_loss, penalty, h)


def variable_scope(run: Run) -> SweepResult:
    """Answers 0, 7: one ``variable_scope(regularizer=...)`` for all variables; biases opt out."""
    tf = _tf()
    from reglab.tf1 import fresh_graph

    def no_penalty(_: Any) -> None:  # regularizer=None would inherit the scope's regularizer
        return None

    with fresh_graph(run.seed) as graph:
        x, y = _tf1_inputs(run)
        h = x
        with tf.compat.v1.variable_scope("EasyNet", regularizer=_slim_regularizer(run)):
            for i, (k, b, last) in enumerate(run.layers()):
                kernel = tf.compat.v1.get_variable(f"kernel_{i}", initializer=k)  # scope's default
                bias = tf.compat.v1.get_variable(f"bias_{i}", initializer=b, regularizer=no_penalty)
                h = _tf1_dense(h, kernel, bias, last)
        data_loss = _tf1_data_loss(y, h)
        penalty = tf.compat.v1.losses.get_regularization_loss()
        total = data_loss + penalty
        train_op = _tf1_adam(run).minimize(total)
        return _tf1_session_loop(run, graph, x, y, train_op, total, data_loss, penalty, h)


def tf_layers(run: Run) -> SweepResult:
    """Answers 2, 6: ``tf.compat.v1.layers.dense(kernel_regularizer=...)``.

    ``tf.layers`` needs ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is first imported, so unless
    this process was started that way, the run happens in a fresh Python process
    (``reglab._legacy_worker``) and its result comes back as JSON.
    """
    if not _legacy_keras_active():
        return _run_in_legacy_process(run)
    tf = _tf()
    from reglab.tf1 import fresh_graph

    regularizer = _slim_regularizer(run)
    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "tf.layers.dense is deprecated"
        x, y = _tf1_inputs(run)
        h = x
        for k, _, last in run.layers():
            h = tf.compat.v1.layers.dense(
                h, k.shape[1], activation=None if last else tf.tanh,
                kernel_initializer=tf.compat.v1.constant_initializer(k),
                kernel_regularizer=regularizer)
        data_loss = _tf1_data_loss(y, h)
        penalty = tf.compat.v1.losses.get_regularization_loss()
        total = tf.add_n([data_loss] + tf.compat.v1.losses.get_regularization_losses())
        train_op = _tf1_adam(run).minimize(total)
        return _tf1_session_loop(run, graph, x, y, train_op, total, data_loss, penalty, h)


def tf_slim(run: Run) -> SweepResult:
    """Answer 3 as written: ``tf_slim.fully_connected(weights_regularizer=...)`` in ``EasyNet``."""
    tf = _tf()
    import tf_slim as slim

    from reglab.tf1 import fresh_graph

    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "layer.apply is deprecated"
        x, y = _tf1_inputs(run)
        regularizer = _slim_regularizer(run)
        with tf.compat.v1.variable_scope("EasyNet"):
            out = x
            for k, _, last in run.layers():
                out = slim.fully_connected(
                    out, k.shape[1], activation_fn=None if last else tf.nn.tanh,
                    weights_initializer=tf.compat.v1.constant_initializer(k),
                    weights_regularizer=regularizer)
        reg_ws = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, "EasyNet")
        data_loss = _tf1_data_loss(y, out)
        penalty = tf.reduce_sum(reg_ws)
        total = data_loss + penalty  # answer 3: loss_fn = cross_entropy + tf.reduce_sum(reg_ws)
        train_op = _tf1_adam(run).minimize(total)
        return _tf1_session_loop(run, graph, x, y, train_op, total, data_loss, penalty, out)


def keras_fit(run: Run) -> SweepResult:
    """Answer 4: ``Dense(kernel_regularizer=...)`` and ``model.fit``, which adds the penalty itself."""
    tf = _tf()
    import keras

    model = _keras_easynet(run, _keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=_keras_adam(run), loss=loss_fn, jit_compile=False)
    log = _Log(run)
    xb, yb = next(run.batches(0))
    log.first_step(model.compute_loss(x=xb, y=yb, y_pred=model(xb)))  # data loss + model.losses
    for epoch in range(run.epochs):
        x_epoch, y_epoch = run.epoch_arrays(epoch)  # consecutive slices = run.batches(epoch)
        dataset = tf.data.Dataset.from_tensor_slices((x_epoch, y_epoch)).batch(run.batch_size)
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        _keras_epoch_end(log, model, loss_fn)
    return log.result(model(run.split.x_test), model.get_weights())


def keras_loop(run: Run) -> SweepResult:
    """Answer 4 in a custom loop: ``tf.GradientTape`` must add ``model.losses`` by hand."""
    tf = _tf()
    import keras

    model = _keras_easynet(run, _keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = _keras_adam(run)
    n_features = run.weights[0].shape[0]

    @tf.function(input_signature=[tf.TensorSpec([None, n_features], tf.float32),
                                  tf.TensorSpec([None], tf.int64)])
    def train_step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            total = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses)
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return total

    log = _Log(run)
    for epoch in range(run.epochs):
        for xb, yb in run.batches(epoch):
            log.first_step(train_step(xb, yb))
        _keras_epoch_end(log, model, loss_fn)
    return log.result(model(run.split.x_test), model.get_weights())


def l2_loss(run: Run) -> SweepResult:
    """Answer 8: ``weight_decay * tf.add_n([tf.nn.l2_loss(k) ...])`` written by hand (kernels only)."""
    tf = _tf()
    from reglab.tf1 import fresh_graph

    weight_decay = run.lam  # lam * sum(k**2) / 2 is the thread's convention already
    with fresh_graph(run.seed) as graph:
        x, y = _tf1_inputs(run)
        h, kernels = x, []
        for i, (k, b, last) in enumerate(run.layers()):
            kernel, bias = tf.Variable(k, name=f"kernel_{i}"), tf.Variable(b, name=f"bias_{i}")
            h = _tf1_dense(h, kernel, bias, last)
            kernels.append(kernel)  # answer 8 sums over tf.trainable_variables(): biases too
        data_loss = _tf1_data_loss(y, h)
        penalty = weight_decay * tf.add_n([tf.nn.l2_loss(k) for k in kernels])
        total = data_loss + penalty
        train_op = _tf1_adam(run).minimize(total)
        return _tf1_session_loop(run, graph, x, y, train_op, total, data_loss, penalty, h)


#: name -> approach function ``f(run: Run) -> SweepResult``, in the order of the notebooks.
APPROACHES: dict[str, Callable[[Run], SweepResult]] = {
    "get_variable": get_variable,
    "variable_scope": variable_scope,
    "tf_layers": tf_layers,
    "tf_slim": tf_slim,
    "keras_fit": keras_fit,
    "keras_loop": keras_loop,
    "l2_loss": l2_loss,
}

#: The penalty kinds each approach supports (``l2_loss`` is L2 by construction).
SUPPORTED_PENALTIES: dict[str, tuple[str, ...]] = {
    name: ("l2",) if name == "l2_loss" else PENALTIES for name in APPROACHES
}


# --------------------------------------------------------------------------- entry point


@functools.lru_cache(maxsize=4)
def _load(dataset: str) -> _data.Split:
    return _data.load_dataset(dataset)


def make_run(
    approach: str,
    lam: float,
    epochs: int,
    dataset: str = "mnist_subset",
    batch_size: int = 50,
    learning_rate: float = 1e-3,
    seed: int = 0,
    penalty: str = "l2",
    on_epoch: EpochCallback | None = None,
) -> Run:
    """Validate the settings of ``train`` (same arguments) and load the data and start weights."""
    approach = check_choice("approach", approach, APPROACHES)
    lam = check_scale("lam", lam)
    epochs = check_int("epochs", epochs, minimum=1)
    dataset = check_choice("dataset", dataset, _data.DATASETS)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_scale("learning_rate", learning_rate, allow_zero=False)
    seed = check_int("seed", seed, minimum=0)
    penalty = check_choice("penalty", penalty, PENALTIES)
    if penalty not in SUPPORTED_PENALTIES[approach]:
        raise ValueError(
            f"penalty={penalty!r} is not supported by approach {approach!r}; it supports "
            f"{', '.join(map(repr, SUPPORTED_PENALTIES[approach]))}"
        )
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be callable or None, got {type(on_epoch).__name__}")
    split = _load(dataset)
    sizes = (split.x_train.shape[1], *HIDDEN, split.num_classes)
    return Run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, penalty, split,
               initial_weights(seed, sizes=sizes), on_epoch)


def train(
    approach: str,
    lam: float,
    epochs: int,
    dataset: str = "mnist_subset",
    batch_size: int = 50,
    learning_rate: float = 1e-3,
    seed: int = 0,
    penalty: str = "l2",
    on_epoch: EpochCallback | None = None,
) -> SweepResult:
    """Train EasyNet with ``approach`` (a key of ``APPROACHES``) and return its ``SweepResult``.

    ``lam`` follows the thread's convention (module docstring): ``lam * sum(k**2) / 2`` per
    kernel for ``penalty="l2"``, ``lam * sum(|k|)`` for ``"l1"``.  ``epochs`` passes over the
    training set of ``dataset`` (one of ``reglab.data.DATASETS``) in batches of ``batch_size``,
    Adam with ``learning_rate``; ``seed`` fixes the start weights and the batch order.
    ``on_epoch(epoch, data_loss, penalty)`` is called after each epoch.
    """
    run = make_run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, penalty,
                   on_epoch)
    return APPROACHES[run.approach](run)


# --------------------------------------------------------------------------- tf.layers process


def _legacy_keras_active() -> bool:
    """True if this process runs ``tf.keras`` as tf-keras 2 (``TF_USE_LEGACY_KERAS=1`` at import)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() not in ("1", "true"):
        return False
    return _tf().keras.__name__.startswith("tf_keras")


def _run_in_legacy_process(run: Run) -> SweepResult:
    """Run ``tf_layers`` in ``python -m reglab._legacy_worker`` and rebuild its result."""
    settings = {
        "approach": "tf_layers", "lam": run.lam, "epochs": run.epochs, "dataset": run.dataset,
        "batch_size": run.batch_size, "learning_rate": run.learning_rate, "seed": run.seed,
        "penalty": run.penalty,
    }
    env = {**os.environ, **NOTEBOOK_ENV, "TF_USE_LEGACY_KERAS": "1"}
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="reglab-legacy-") as tmp:
        settings["weights_path"] = str(Path(tmp) / "weights.npz")
        err_path = Path(tmp) / "stderr.txt"
        final: dict[str, Any] | None = None
        with open(err_path, "w") as err, subprocess.Popen(
            [sys.executable, "-m", "reglab._legacy_worker", json.dumps(settings)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env,
        ) as proc:
            try:
                for line in proc.stdout:
                    if not line.startswith("{"):  # a stray line some library printed
                        continue
                    message = json.loads(line)
                    if "epoch" in message and run.on_epoch is not None:
                        run.on_epoch(message["epoch"], message["data_loss"], message["penalty"])
                    final = message.get("result", final)
            except BaseException:
                proc.kill()
                raise
        if proc.returncode != 0 or final is None:
            lines = err_path.read_text().strip().splitlines() or ["(no message)"]
            raise RuntimeError(f"the tf_layers process failed (exit {proc.returncode}): {lines[-1]}")
        with np.load(settings["weights_path"]) as archive:
            weights = [archive[f"arr_{i}"] for i in range(len(archive.files))]
    return SweepResult(**final, weights=weights)
