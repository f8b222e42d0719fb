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

The lambda convention is the thread's (answer 3, ``tf_slim``), for every approach; it is not the
explorer's (``reglab.explorer`` takes Keras' ``lam * sum(k**2)``, no 1/2).  A result names it in
``SweepResult.convention``, a key of ``reglab.penalties.CONVENTIONS``::

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

Every trainer starts from the run's weights, biases included.  What a ``SweepResult`` records
is in ``reglab.sweep_results``; the settings (``Run``) in ``reglab.sweep_run``; the shared
TensorFlow plumbing in ``reglab.sweep_tf``; the ``tf_layers`` process in ``reglab.sweep_legacy``.
This module holds the seven trainers, their registry, the entry point ``train`` and ``source``,
which shows a trainer's code (or a helper's) in a notebook as it runs.
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

from reglab import data as _data
from reglab._validate import InvalidParameterError, check_choice, check_int, check_scale
from reglab.easynet import initial_weights
from reglab.sweep_legacy import legacy_keras_active, run_in_legacy_process
from reglab.sweep_results import RunLog, SweepResult
from reglab.sweep_run import (
    ADAM_EPSILON,
    CONVENTION,
    HIDDEN,
    PENALTIES,
    EpochCallback,
    Run,
    check_split,
)
from reglab.sweep_tf import (
    keras_adam,
    keras_easynet,
    keras_epoch_end,
    keras_regularizer,
    slim_regularizer,
    tf,
    tf1_data_loss,
    tf1_dense,
    tf1_inputs,
    tf1_train,
)

__all__ = [
    "ADAM_EPSILON", "APPROACHES", "CONVENTION", "HIDDEN", "PENALTIES", "SUPPORTED_PENALTIES",
    "EpochCallback", "Run", "SourceCode", "SweepResult", "check_penalty", "get_variable",
    "keras_fit", "keras_loop", "l2_loss", "make_run", "source", "tf_layers", "tf_slim", "train",
    "variable_scope",
]


def get_variable(run: Run) -> SweepResult:
    """Answers 0, 2, 5: ``tf.compat.v1.get_variable(regularizer=...)`` on each kernel."""
    from reglab.tf1 import fresh_graph

    t, regularizer = tf(), slim_regularizer(run)
    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h = x
        for i, (k, b, last) in enumerate(run.layers()):
            kernel = t.compat.v1.get_variable(f"kernel_{i}", initializer=k, regularizer=regularizer)
            bias = t.compat.v1.get_variable(f"bias_{i}", initializer=b)  # no regularizer
            h = tf1_dense(h, kernel, bias, last)
        penalty = t.compat.v1.losses.get_regularization_loss()  # sum of REGULARIZATION_LOSSES
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


def variable_scope(run: Run) -> SweepResult:
    """Answers 0, 7: one ``variable_scope(regularizer=...)`` for all variables; biases opt out."""
    from reglab.tf1 import fresh_graph

    def no_penalty(_: Any) -> None:  # regularizer=None would inherit the scope's regularizer
        return None

    t = tf()
    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h = x
        with t.compat.v1.variable_scope("EasyNet", regularizer=slim_regularizer(run)):
            for i, (k, b, last) in enumerate(run.layers()):
                kernel = t.compat.v1.get_variable(f"kernel_{i}", initializer=k)  # scope's default
                bias = t.compat.v1.get_variable(f"bias_{i}", initializer=b, regularizer=no_penalty)
                h = tf1_dense(h, kernel, bias, last)
        penalty = t.compat.v1.losses.get_regularization_loss()
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


def tf_layers(run: Run) -> SweepResult:
    """Answers 2, 6: ``tf.compat.v1.layers.dense(kernel_regularizer=...)``.

    ``tf.layers`` needs ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is first imported, so unless
    this process was started that way, the run happens in a fresh Python process
    (``reglab._legacy_worker``) and its result comes back as JSON.
    """
    if not legacy_keras_active():
        return run_in_legacy_process(run)
    from reglab.tf1 import fresh_graph

    t, regularizer = tf(), slim_regularizer(run)
    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "tf.layers.dense is deprecated"
        x, y = tf1_inputs(run)
        h = x
        for k, b, last in run.layers():
            h = t.compat.v1.layers.dense(
                h, k.shape[1], activation=None if last else t.tanh,
                kernel_initializer=t.compat.v1.constant_initializer(k),
                bias_initializer=t.compat.v1.constant_initializer(b),
                kernel_regularizer=regularizer)
        data_loss = tf1_data_loss(y, h)
        penalty = t.compat.v1.losses.get_regularization_loss()
        total = t.add_n([data_loss] + t.compat.v1.losses.get_regularization_losses())
        return tf1_train(run, graph, x, y, data_loss, penalty, h, total=total)


def tf_slim(run: Run) -> SweepResult:
    """Answer 3 as written: ``tf_slim.fully_connected(weights_regularizer=...)`` in ``EasyNet``."""
    import tf_slim as slim

    from reglab.tf1 import fresh_graph

    t = tf()
    with fresh_graph(run.seed) as graph, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "layer.apply is deprecated"
        x, y = tf1_inputs(run)
        regularizer = slim_regularizer(run)
        with t.compat.v1.variable_scope("EasyNet"):
            out = x
            for k, b, last in run.layers():
                out = slim.fully_connected(
                    out, k.shape[1], activation_fn=None if last else t.nn.tanh,
                    weights_initializer=t.compat.v1.constant_initializer(k),
                    biases_initializer=t.compat.v1.constant_initializer(b),
                    weights_regularizer=regularizer)
        reg_ws = t.compat.v1.get_collection(t.compat.v1.GraphKeys.REGULARIZATION_LOSSES, "EasyNet")
        penalty = t.reduce_sum(reg_ws)  # answer 3: loss_fn = cross_entropy + tf.reduce_sum(reg_ws)
        return tf1_train(run, graph, x, y, tf1_data_loss(y, out), penalty, out)


def keras_fit(run: Run) -> SweepResult:
    """Answer 4: ``Dense(kernel_regularizer=...)`` and ``model.fit``, which adds the penalty itself."""
    import keras

    t = tf()
    model = keras_easynet(run, keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras_adam(run), loss=loss_fn, jit_compile=False)
    log = RunLog(run)
    xb, yb = next(run.batches(0))
    log.first_step(model.compute_loss(x=xb, y=yb, y_pred=model(xb)))  # data loss + model.losses
    for epoch in range(run.epochs):
        x_epoch, y_epoch = run.epoch_arrays(epoch)  # consecutive slices = run.batches(epoch)
        dataset = t.data.Dataset.from_tensor_slices((x_epoch, y_epoch)).batch(run.batch_size)
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        keras_epoch_end(log, model, loss_fn)
    return log.result(model(run.split.x_test), model.get_weights())


def keras_loop(run: Run) -> SweepResult:
    """Answer 4 in a custom loop: ``tf.GradientTape`` must add ``model.losses`` by hand."""
    import keras

    t = tf()
    model = keras_easynet(run, keras_regularizer(run))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras_adam(run)
    n_features = run.weights[0].shape[0]

    @t.function(input_signature=[t.TensorSpec([None, n_features], t.float32),
                                 t.TensorSpec([None], t.int64)])
    def train_step(x: Any, y: Any) -> Any:
        with t.GradientTape() as tape:
            total = loss_fn(y, model(x, training=True)) + t.add_n(model.losses)
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
    """Answer 8: ``weight_decay * tf.add_n([tf.nn.l2_loss(k) ...])`` written by hand (kernels only)."""
    from reglab.tf1 import fresh_graph

    t = tf()
    weight_decay = run.lam  # lam * sum(k**2) / 2 is the thread's convention already
    with fresh_graph(run.seed) as graph:
        x, y = tf1_inputs(run)
        h, kernels = x, []
        for i, (k, b, last) in enumerate(run.layers()):
            kernel, bias = t.Variable(k, name=f"kernel_{i}"), t.Variable(b, name=f"bias_{i}")
            h = tf1_dense(h, kernel, bias, last)
            kernels.append(kernel)  # answer 8 sums over tf.trainable_variables(): biases too
        penalty = weight_decay * t.add_n([t.nn.l2_loss(k) for k in kernels])
        return tf1_train(run, graph, x, y, tf1_data_loss(y, h), penalty, h)


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


# --------------------------------------------------------------------------- showing the code


class SourceCode:
    """Python source to show in a notebook: a highlighted code block, plain text elsewhere.

    ``text`` is the source itself; it is also the plain-text form (what ``repr`` and a strict
    output comparison see), so the shown code cannot silently differ from the code that runs.
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise InvalidParameterError(f"text must be a string, got {type(text).__name__}")
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        runs = re.findall(r"`+", self.text)
        fence = "`" * max(3, 1 + max(map(len, runs), default=0))
        return f"{fence}python\n{self.text.rstrip()}\n{fence}"


def source(function: str | Callable[..., Any]) -> SourceCode:
    """The source code of an approach (a key of ``APPROACHES``) or of a ``reglab`` function.

    It is read from the module with ``inspect.getsource``: the very code that runs, not a copy.
    """
    if isinstance(function, str):
        function = APPROACHES[check_choice("function", function, APPROACHES)]
    if not inspect.isfunction(function):
        raise InvalidParameterError(
            "function must be the name of an approach or a Python function of reglab, "
            f"got {type(function).__name__}")
    module = getattr(function, "__module__", "") or ""
    if module != "reglab" and not module.startswith("reglab."):
        raise InvalidParameterError(
            f"function must be defined in reglab, got {function.__qualname__} from {module!r}")
    return SourceCode(textwrap.dedent(inspect.getsource(function)))


# --------------------------------------------------------------------------- entry point


def check_penalty(approach: str, penalty: str) -> str:
    """Return ``penalty`` if it is one of ``PENALTIES`` and ``approach`` supports it."""
    approach = check_choice("approach", approach, APPROACHES)
    penalty = check_choice("penalty", penalty, PENALTIES)
    if penalty not in SUPPORTED_PENALTIES[approach]:
        raise InvalidParameterError(
            f"penalty={penalty!r} is not supported by approach {approach!r}; it supports "
            f"{', '.join(map(repr, SUPPORTED_PENALTIES[approach]))}"
        )
    return penalty


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
    """Validate the settings of ``train`` and load the data and EasyNet's start weights.

    ``lam`` follows the thread's (slim's) convention, ``CONVENTION[penalty]``:
    ``lam * sum(k**2) / 2`` per kernel for ``penalty="l2"`` (``keras.regularizers.l2(lam / 2)``,
    not ``l2(lam)``), ``lam * sum(|k|)`` for ``"l1"``.  ``epochs`` passes over the training set
    of ``dataset`` (one of ``reglab.data.DATASETS``) in batches of ``batch_size``, Adam with
    ``learning_rate``; ``seed`` fixes the start weights and the batch order.
    ``on_epoch(epoch, data_loss, penalty)`` is called after each epoch.
    """
    approach = check_choice("approach", approach, APPROACHES)
    lam = check_scale("lam", lam)
    epochs = check_int("epochs", epochs, minimum=1)
    dataset = check_choice("dataset", dataset, _data.DATASETS)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_scale("learning_rate", learning_rate, allow_zero=False)
    seed = check_int("seed", seed, minimum=0)
    penalty = check_penalty(approach, penalty)
    if on_epoch is not None and not callable(on_epoch):
        raise InvalidParameterError(
            f"on_epoch must be callable or None, got {type(on_epoch).__name__}")
    split = check_split(dataset, _load(dataset))
    sizes = (split.x_train.shape[1], *HIDDEN, split.num_classes)
    return Run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, penalty, split,
               initial_weights(seed, sizes=sizes), on_epoch)


def train(*args: Any, **kwargs: Any) -> SweepResult:
    """Train EasyNet with ``approach`` (a key of ``APPROACHES``) and return its ``SweepResult``.

    The arguments are those of ``make_run`` (the signature below): ``lam`` in the thread's
    (slim's) convention, ``lam * sum(k**2) / 2`` per kernel for L2.
    """
    run = make_run(*args, **kwargs)
    return APPROACHES[run.approach](run)


train.__signature__ = inspect.signature(make_run).replace(  # type: ignore[attr-defined]
    return_annotation="SweepResult")
