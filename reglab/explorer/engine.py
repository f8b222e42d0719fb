"""The explorer's TensorFlow engine: its datasets and networks, and ``Engine``, which trains them.

TensorFlow Playground for regularization: pick a dataset, a penalty kind and its constant lam,
and see the decision boundary, the train/test curves and the weights change.  Each setting is
trained by the dataset's ``Engine``: a Keras model, ``keras.optimizers.Adam`` and a
``tf.GradientTape`` step whose loss is ``data_loss + penalty``, the penalty from
``keras.regularizers.L1`` / ``L2`` on the kernels, with every step of the training in ONE
XLA-compiled ``tf.function``.  The cache and the background prefetch are
``reglab.explorer.explorer``; the result, ``reglab.explorer.result``.

Network (``SIZES``), with ``h_0 = x``::

    a_l = h_{l-1} @ W_l + b_l,      h_l = tanh(a_l)  (hidden layers),     z = a_L  (logits)

``2 -> 32 (tanh) -> 32 (tanh) -> 2`` on ``toy2d`` (two half-moons, 100 train / 300 test
points), ``64 -> 32 (tanh) -> 10`` on ``digits`` (8x8 images, 1,437 / 360).  Every setting
starts from the same weights, ``reglab.easynet.initial_weights(seed, sizes)`` (Xavier uniform
kernels, zero biases).  The loss minimized is data loss + penalty, the penalty on the kernels
``W_l`` only (not the biases), in the **Keras convention**::

    data loss  = mean_i( -log softmax(z_i)[y_i] )      keras.losses.SparseCategoricalCrossentropy
    kind "l2"  : penalty = lam * sum_l sum(W_l**2)     sum_l keras.regularizers.L2(lam)(W_l)
    kind "l1"  : penalty = lam * sum_l sum(|W_l|)      sum_l keras.regularizers.L1(lam)(W_l)
    kind "none": penalty = 0                           (lam = 0)

So the explorer's ``("l2", lam)`` is ``tf_slim.l2_regularizer(2 * lam)`` and
``2 * lam * tf.nn.l2_loss(W)``: no factor 1/2.  Every step sees the whole training set (full
batch) and applies ``keras.optimizers.Adam`` with Keras' defaults ``b1=0.9, b2=0.999,
eps=1e-7``, which for step ``t = 1, 2, ...`` and every parameter ``p`` with gradient ``g``
computes (Keras' ``Adam.update_step``; note that ``eps`` is added to ``sqrt(v)``, not to the
bias-corrected ``sqrt(v / (1 - b2**t))``)::

    m = b1 * m + (1 - b1) * g,    v = b2 * v + (1 - b2) * g**2
    p = p - lr_t * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

with the rate of ``keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)``:
``lr_t = lr * (1 + cos(pi * (t - 1) / steps)) / 2``.  The decay lets the L1 weights that the
penalty drives towards zero settle near it instead of jittering by about ``lr`` around it.

Speed: lambda lives in a ``tf.Variable`` read by the regularizer, so a new lambda (or a switch
between L1 and L2) is an assignment, not a new trace: each engine traces and compiles once
(about 2 s), then trains a new setting in a few hundredths of a second.  Op determinism
(``reglab.setup()``) allows ``tf.function(jit_compile=True)`` on the CPU.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from reglab.easynet import initial_weights, keras_model
from reglab.explorer.result import TrainResult
from reglab.optimizers import reset_optimizer
from reglab.params import InstanceOf, Integer, InvalidParameterError, NoneOr, Options, Real, validated
from reglab.penalties import KINDS as ALL_KINDS

__all__ = ["DATASETS", "KINDS", "LEARNING_RATE", "SIZES", "STEPS", "TEST_SIZE", "Engine"]

#: Layer widths per dataset.
SIZES: dict[str, tuple[int, ...]] = {"toy2d": (2, 32, 32, 2), "digits": (64, 32, 10)}
#: The datasets the explorer offers (``reglab.data.load_dataset`` names).
DATASETS: tuple[str, ...] = tuple(SIZES)
#: The penalty kinds the explorer trains: "none", "l1", "l2" (not "l1l2").
KINDS: tuple[str, ...] = ALL_KINDS[:3]
#: Full-batch Adam steps per dataset (each step sees the whole training set).
STEPS: dict[str, int] = {"toy2d": 300, "digits": 150}
#: Test-set sizes passed to ``reglab.data.load_dataset``: toy2d keeps only 100 of its 400 points
#: for training, so that an unpenalized network overfits visibly, and 300 for a steady test loss;
#: digits keeps the default 1,437 train / 360 test.
TEST_SIZE: dict[str, int | None] = {"toy2d": 300, "digits": None}
#: The learning rate before the cosine decay.
LEARNING_RATE = 0.03


class Engine:
    """Trains the explorer's network on one dataset, for any penalty kind and lambda.

    >>> engine = Engine("toy2d")                              # doctest: +SKIP
    >>> result = engine.train(1e-3, "l2")                     # doctest: +SKIP

    ``train(lam, "l2")`` adds ``keras.regularizers.L2(lam)`` of every kernel to the loss
    (``lam * sum(W**2)``), ``train(lam, "l1")`` adds ``keras.regularizers.L1(lam)``
    (``lam * sum(|W|)``), and ``train(0.0)`` or ``kind="none"`` none.  ``steps`` defaults to
    ``STEPS[dataset]``; ``split`` (a ``reglab.data.Split``) to
    ``load_dataset(dataset, test_size=TEST_SIZE[dataset], seed=seed)``.

    The first ``train`` traces and XLA-compiles the loop (``traces`` counts it); later ones
    reset the weights and Adam (``reglab.optimizers.reset_optimizer``), assign the two lambdas
    and run the compiled loop again.  A lock makes trainings from several threads run one after
    the other.
    """

    @validated(dataset=Options(*DATASETS), steps=NoneOr(Integer(minimum=1)),
               learning_rate=Real(0.0, open_minimum=True), seed=Integer(minimum=0),
               split=NoneOr(InstanceOf("reglab.data:Split")))
    def __init__(
        self,
        dataset: str = "toy2d",
        *,
        steps: int | None = None,
        learning_rate: float = LEARNING_RATE,
        seed: int = 0,
        split: Any = None,
    ) -> None:
        from reglab.data import load_dataset

        if split is None:
            split = load_dataset(dataset, test_size=TEST_SIZE[dataset], seed=seed)
        elif split.x_train.shape[1] != SIZES[dataset][0]:
            raise InvalidParameterError(f"split must have {SIZES[dataset][0]} input columns for "
                                        f"{dataset!r}; got {split.x_train.shape[1]}")
        self.dataset = dataset
        self.steps = STEPS[dataset] if steps is None else steps
        self.learning_rate = learning_rate
        self.seed = seed
        self.split = split  #: the data it trains and tests on
        self.initial_weights = initial_weights(seed, SIZES[dataset])
        self._lock = threading.Lock()
        self._build(split)

    def _build(self, split: Any) -> None:
        from reglab.session import quiet_logs

        quiet_logs()
        import keras
        import tensorflow as tf

        model = keras_model(self.initial_weights)  # tanh hidden layers, logits last
        kernels = [layer.kernel for layer in model.layers]  # what the penalty sees: no biases

        # The penalty, Keras' regularizers on every kernel.  Their constants are variables, so
        # a new lambda is an assignment, not a new trace; the one not in use is 0.
        self.lam_l1 = tf.Variable(0.0, trainable=False, name="lam_l1")
        self.lam_l2 = tf.Variable(0.0, trainable=False, name="lam_l2")
        l1 = keras.regularizers.L1(0.0)  # l1(W) = lam_l1 * sum(|W|)
        l1.l1 = self.lam_l1
        l2 = keras.regularizers.L2(0.0)  # l2(W) = lam_l2 * sum(W**2)
        l2.l2 = self.lam_l2

        schedule = keras.optimizers.schedules.CosineDecay(self.learning_rate, self.steps)
        optimizer = keras.optimizers.Adam(learning_rate=schedule)
        optimizer.build(model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.model, self.optimizer = model, optimizer

        x_train = tf.constant(split.x_train, tf.float32)
        y_train = tf.constant(split.y_train, tf.int64)
        x_test = tf.constant(split.x_test, tf.float32)
        y_test = tf.constant(split.y_test, tf.int64)
        steps = self.steps
        variables = model.trainable_variables

        def accuracy(x: Any, y: Any) -> Any:
            return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(model(x), 1), y), tf.float32))

        @tf.function(jit_compile=True)
        def train_loop() -> Any:
            train_curve = tf.TensorArray(tf.float32, size=steps + 1)
            test_curve = tf.TensorArray(tf.float32, size=steps + 1)
            penalty_curve = tf.TensorArray(tf.float32, size=steps + 1)
            for t in tf.range(steps):
                with tf.GradientTape() as tape:
                    data_loss = loss_fn(y_train, model(x_train))
                    penalty = tf.add_n([l1(kernel) + l2(kernel) for kernel in kernels])
                    loss = data_loss + penalty
                gradients = tape.gradient(loss, variables)
                train_curve = train_curve.write(t, data_loss)
                test_curve = test_curve.write(t, loss_fn(y_test, model(x_test)))
                penalty_curve = penalty_curve.write(t, penalty)
                optimizer.apply(gradients, variables)
            train_curve = train_curve.write(steps, loss_fn(y_train, model(x_train)))
            test_curve = test_curve.write(steps, loss_fn(y_test, model(x_test)))
            penalty_curve = penalty_curve.write(steps, tf.add_n([l1(k) + l2(k) for k in kernels]))
            return (train_curve.stack(), test_curve.stack(), penalty_curve.stack(),
                    accuracy(x_train, y_train), accuracy(x_test, y_test))

        self._train_loop = train_loop

    @property
    def traces(self) -> int:
        """How many times the training loop was traced (and compiled): 0 or 1."""
        return self._train_loop.experimental_get_tracing_count()

    @validated(lam=Real(0.0), kind=Options(*KINDS))
    def train(self, lam: float, kind: str = "l2") -> TrainResult:
        """Train from the initial weights with the penalty ``kind`` of constant ``lam`` (Keras')."""
        return self._train(lam, kind)

    def _train(self, lam: float, kind: str) -> TrainResult:
        """``train`` for a caller that has checked ``lam`` and ``kind`` (the ``Explorer``)."""
        if kind == "none" or lam == 0.0:
            kind, lam = "none", 0.0
        started = time.perf_counter()
        with self._lock:
            for variable, value in zip(self.model.weights, self.initial_weights, strict=True):
                variable.assign(value)
            reset_optimizer(self.optimizer)
            self.lam_l1.assign(lam if kind == "l1" else 0.0)
            self.lam_l2.assign(lam if kind == "l2" else 0.0)
            curves = [out.numpy() for out in self._train_loop()]
            params = [w.numpy() for w in self.model.weights]
        train_loss, test_loss, penalty_curve, train_acc, test_acc = curves
        return TrainResult(
            dataset=self.dataset,
            kind=kind,
            lam=lam,
            weights=params,
            data_loss_curve=train_loss.astype(np.float64),
            test_data_loss_curve=test_loss.astype(np.float64),
            penalty_curve=penalty_curve.astype(np.float64),
            train_accuracy=float(train_acc),
            test_accuracy=float(test_acc),
            seconds=time.perf_counter() - started,
        )
