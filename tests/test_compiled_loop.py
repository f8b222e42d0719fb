"""reglab.sweep.compiled_loop: batches in the workbook's order, a compiled epoch, evaluation, restart."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from reglab.data import epoch_order
from reglab.params import InvalidParameterError
from reglab.sweep import compiled_loop


def _data(n=40, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype(np.float32), rng.integers(0, classes, n)


def _model(dropout=0.0):
    layers = [keras.Input((6,)), keras.layers.Dense(5, activation="tanh")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=1))
    layers.append(keras.layers.Dense(3))
    return keras.Sequential(layers)


def _step(model, optimizer):
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=yb, logits=model(xb, training=True)))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss
    return step


def test_epoch_batches_follow_the_workbook_order_and_drop_the_remainder():
    x, y = _data(n=23)
    xs, ys = compiled_loop.epoch_batches(x, y, 5, epoch=2, seed=3)
    assert xs.shape == (4, 5, 6) and ys.shape == (4, 5)
    order = epoch_order(23, 2, 3)[:20]
    np.testing.assert_array_equal(xs.reshape(20, 6), x[order])
    np.testing.assert_array_equal(ys.ravel(), y[order])


def test_epoch_batches_needs_matching_rows_and_a_full_batch():
    x, y = _data()
    with pytest.raises(InvalidParameterError, match="batch_size must be <= the number of samples 40"):
        compiled_loop.epoch_batches(x, y, 41, 0)
    with pytest.raises(InvalidParameterError, match="same number of rows"):
        compiled_loop.epoch_batches(x, y[:-1], 5, 0)


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
@pytest.mark.parametrize("jit", [True, False])
def test_compiled_epoch_equals_the_step_by_step_loop(jit):
    x, y = _data()
    weights = _model().get_weights()
    results = []
    for compiled in (True, False):
        model, optimizer = _model(), keras.optimizers.Adam(1e-2)
        model.set_weights(weights)
        step = _step(model, optimizer)
        xs, ys = compiled_loop.epoch_batches(x, y, 10, 0)
        if compiled:
            mean_loss = compiled_loop.compile_epoch(step, jit_compile=jit)(xs, ys)
        else:
            mean_loss = float(np.mean([float(step(tf.constant(a), tf.constant(b)))
                                       for a, b in zip(xs, ys, strict=True)]))
        results.append((mean_loss, model.get_weights()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_evaluate_counts_and_ignores_dropout():
    x, y = _data()
    model = _model(dropout=0.5)
    evaluate = compiled_loop.compile_evaluate(model)
    loss, accuracy = evaluate(x, y)
    logits = model(x).numpy()
    expected = np.mean(np.argmax(logits, axis=1) == y)
    assert accuracy == pytest.approx(expected)
    assert evaluate(x, y) == pytest.approx((loss, accuracy))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.mean(log_p[np.arange(len(y)), y]), rel=1e-5)
    model.set_weights([w * 0 for w in model.get_weights()])  # evaluate sees the model's new weights
    assert evaluate(x, y)[0] == pytest.approx(np.log(3), rel=1e-6)


def test_restart_gives_the_same_run_twice_and_keeps_the_learning_rate():
    x, y = _data()
    model, optimizer = _model(dropout=0.5), keras.optimizers.Adam(1e-2)
    start = [w.copy() for w in model.get_weights()]
    epoch = compiled_loop.compile_epoch(_step(model, optimizer), jit_compile=False)
    runs = []
    for _ in range(2):
        compiled_loop.restart(model, optimizer, start, seed=4)
        assert int(optimizer.iterations) == 0
        for e in range(2):
            epoch(*compiled_loop.epoch_batches(x, y, 10, e))
        runs.append(model.get_weights())
    assert float(optimizer.learning_rate) == pytest.approx(1e-2)
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_restart_gives_each_dropout_layer_its_own_masks():
    model = keras.Sequential([keras.Input((400,)), keras.layers.Dropout(0.5), keras.layers.Dropout(0.5)])
    optimizer = keras.optimizers.Adam(1e-2)
    compiled_loop.restart(model, optimizer, [], seed=0)
    first, second = (layer(np.ones((1, 400), "float32"), training=True).numpy() != 0
                     for layer in model.layers)
    assert 0.3 < (first == second).mean() < 0.7  # independent masks agree about half the time
