"""reglab.session, repro, tf1, easynet, data (batches), checks, plots: behaviour.

Bad arguments are tested from the declarations (tests/test_params.py)."""

import subprocess
import sys

import numpy as np
import pytest

from reglab import data, easynet, plots, repro, tf1


def test_import_reglab_does_not_import_tensorflow():
    code = "import sys, reglab, reglab.data, reglab.penalties; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_submodule_loads_on_first_use():
    import pkgutil

    import reglab

    names = sorted(m.name for m in pkgutil.iter_modules(reglab.__path__) if m.name != "__main__")
    code = f"import reglab; print(*[getattr(reglab, name).__name__ for name in {names!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [f"reglab.{name}" for name in names]


def test_seed_everything_repeats_random_draws():
    import random

    import tensorflow as tf

    def draws():
        return random.random(), np.random.rand(), float(tf.random.uniform(()))

    repro.seed_everything(5)
    first = draws()
    repro.seed_everything(5)
    assert draws() == first
    repro.seed_everything(6)
    assert all(a != b for a, b in zip(draws(), first, strict=True))  # each source is seeded
    from tensorflow.python.framework import config as tf_config

    assert tf_config.is_op_determinism_enabled()  # kept: set_random_seed does not do this


def test_fresh_graph_isolates_collections():
    import tensorflow as tf
    import tf_slim

    key = tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES
    for _ in range(2):  # re-running the same "cell" does not grow the collection
        with tf1.fresh_graph() as graph:
            tf.compat.v1.get_variable(
                "w", initializer=np.ones((2, 3), np.float32), regularizer=tf_slim.l2_regularizer(0.5)
            )
            with tf.compat.v1.Session(graph=graph) as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                table = tf1.collection_table(key, session=sess)
        assert len(table) == 1
        assert table[0].shape == () and table.total() == pytest.approx(1.5)
        assert "l2_regularizer" in str(table)
    assert tf1.collection_table(key, graph=tf.Graph()) == []
    assert str(tf1.collection_table(key, graph=tf.Graph())) == "(empty collection)"


def test_collection_table_without_session_has_no_values():
    import tensorflow as tf

    with tf1.fresh_graph() as graph:
        v = tf.compat.v1.get_variable("v", shape=[3])
        tf.compat.v1.add_to_collection("mine", v)
    table = tf1.collection_table("mine", graph=graph)
    assert table[0].shape == (3,) and table[0].value is None
    with pytest.raises(ValueError, match="total\\(\\) needs values"):
        table.total()



def test_initial_weights_are_xavier_uniform_and_repeatable():
    weights = easynet.initial_weights(0)
    assert [w.shape for w in weights] == [(784, 200), (200,), (200, 200), (200,), (200, 10), (10,)]
    assert all(w.dtype == np.float32 for w in weights)
    assert np.abs(weights[0]).max() <= np.sqrt(6 / 984)
    assert not weights[1].any()
    np.testing.assert_array_equal(weights[0], easynet.initial_weights(0)[0])
    assert not np.array_equal(weights[0], easynet.initial_weights(1)[0])
    assert [k.shape for k in easynet.kernels(weights)] == [(784, 200), (200, 200), (200, 10)]


def test_logits_float64_is_the_tanh_network_in_float64():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (4,), (4, 2), (2,)]]
    x = rng.normal(size=(5, 3)).astype(np.float32)
    w = [a.astype(np.float64) for a in weights]
    expected = np.tanh(x.astype(np.float64) @ w[0] + w[1]) @ w[2] + w[3]
    got = easynet.logits_float64(weights, x)
    assert got.dtype == np.float64 and got.shape == (5, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_minibatches_cover_each_index_once_per_epoch():
    batches = list(data.minibatches(10, 4, epoch=0, seed=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    assert len(list(data.minibatches(10, 4, drop_remainder=True))) == 2
    assert not np.array_equal(data.epoch_order(10, 0), data.epoch_order(10, 1))
    np.testing.assert_array_equal(data.epoch_order(10, 1), data.epoch_order(10, 1))



def test_plots_draw_the_given_data():
    import matplotlib

    matplotlib.use("Agg")
    fig = plots.plot_loss_and_penalty({"a": [3, 2, 1], "b": [5, 4]},
                                      penalty_curves={"a": [0.1, 0.2, 0.3]}, xlabel="epoch")
    loss_ax, penalty_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["a", "b"]
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), [3, 2, 1])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [5, 4])
    np.testing.assert_array_equal(penalty_ax.lines[0].get_ydata(), [0.1, 0.2, 0.3])
    assert loss_ax.get_title() == "data loss" and penalty_ax.get_xlabel() == "epoch"
    fig = plots.plot_weight_histograms({"a": np.arange(10.0), "b": np.ones(4)}, bins=5, log=False)
    (ax,) = fig.axes
    a_hist, b_hist = ax.patches  # one step outline per key
    assert [a_hist.get_label(), b_hist.get_label()] == ["a", "b"]
    # the outline's heights are the counts: 0..9 in 5 equal bins is 2 each; the 4 ones fall in bin 0
    a_heights = sorted({round(y, 9) for _, y in a_hist.get_xy()})
    assert a_heights == [0.0, 2.0]  # exact: counts
    assert max(y for _, y in b_hist.get_xy()) == 4.0  # exact: a count

