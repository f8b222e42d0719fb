"""reglab.penalties: the formulas, checked by hand and against the real APIs."""

import math

import numpy as np
import pytest

from reglab import penalties
from reglab.params import InvalidParameterError

W = np.array([[1.0, -2.0], [3.0, 0.5]])  # sum(w**2) = 14.25, sum|w| = 6.5


def test_formulas_by_hand():
    assert penalties.sum_squares(W) == pytest.approx(14.25)
    assert penalties.l2_loss(W) == pytest.approx(7.125)
    assert penalties.slim_l2(W, 0.1) == pytest.approx(0.7125)
    assert penalties.slim_l1(W, 0.1) == pytest.approx(0.65)
    assert penalties.keras_l2(W, 0.1) == pytest.approx(1.425)
    assert penalties.keras_l1(W, 0.1) == pytest.approx(0.65)
    assert penalties.keras_l1l2(W, 0.1, 0.2) == pytest.approx(0.65 + 2.85)


def test_keras_l2_is_twice_slim_for_the_same_constant():
    assert penalties.keras_l2(W, 0.3) == pytest.approx(2 * penalties.slim_l2(W, 0.3))
    assert penalties.keras_l2(W, penalties.keras_l2_from_slim(0.3)) == pytest.approx(
        penalties.slim_l2(W, 0.3)
    )
    assert penalties.slim_from_keras_l2(0.15) == pytest.approx(0.3)


def test_activity_divides_by_batch_size():
    outputs = np.ones((4, 3))
    assert penalties.keras_activity(outputs, lambda y: penalties.keras_l2(y, 0.5)) == pytest.approx(1.5)


def test_sgd_weight_decay_step_and_l2_gradient():
    grad = np.zeros_like(W)
    step = penalties.sgd_weight_decay_step(W, grad, learning_rate=0.1, weight_decay=0.2)
    np.testing.assert_allclose(step, W * (1 - 0.02))
    # plain SGD with decay d equals l2(d / 2): the gradient of l2(c) is 2 c w
    np.testing.assert_allclose(
        W - 0.1 * penalties.keras_l2_gradient(W, 0.2 / 2), step
    )


def test_penalty_registry_matches_functions():
    assert set(penalties.APIS) >= {"tf.nn.l2_loss", "keras.regularizers.l2"}
    assert penalties.penalty("tf_slim.l2_regularizer", W, 0.1) == pytest.approx(penalties.slim_l2(W, 0.1))
    assert penalties.penalty("tf.nn.l2_loss", W, 1.0) == pytest.approx(penalties.l2_loss(W))


def test_xavier_limit():
    assert penalties.xavier_uniform_limit(784, 200) == pytest.approx(math.sqrt(6 / 984))


def test_formulas_match_tensorflow_keras_and_slim():
    import keras
    import tensorflow as tf
    import tf_slim

    w = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
    t = tf.constant(w)
    assert float(tf.nn.l2_loss(t)) == pytest.approx(penalties.l2_loss(w), rel=1e-6)
    assert float(tf_slim.l2_regularizer(0.01)(t)) == pytest.approx(penalties.slim_l2(w, 0.01), rel=1e-6)
    assert float(tf_slim.l1_regularizer(0.01)(t)) == pytest.approx(penalties.slim_l1(w, 0.01), rel=1e-6)
    assert float(keras.regularizers.l2(0.01)(t)) == pytest.approx(penalties.keras_l2(w, 0.01), rel=1e-6)
    assert float(keras.regularizers.l1(0.01)(t)) == pytest.approx(penalties.keras_l1(w, 0.01), rel=1e-6)
    assert float(keras.regularizers.L1L2(0.01, 0.02)(t)) == pytest.approx(
        penalties.keras_l1l2(w, 0.01, 0.02), rel=1e-6
    )


# ---- rules across arguments (single bad arguments: tests/test_params.py) ------------------


def test_rules_across_arguments():
    with pytest.raises(InvalidParameterError, match="outputs must have a non-empty batch axis"):
        penalties.keras_activity(np.ones((0, 3)), np.sum)
    with pytest.raises(InvalidParameterError, match="grad must have the shape of w"):
        penalties.sgd_weight_decay_step(W, np.ones(3), learning_rate=0.1, weight_decay=0.1)
