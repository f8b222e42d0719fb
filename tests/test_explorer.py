"""The explorer without a browser: its TensorFlow engine, logic (reglab.explorer), widgets.

Correctness only: the engine against Keras itself (the penalty, one step of ``model.fit``), the
cache, tracing once, prefetch and its lock and failures, the drawing, bad input.  Speed is
measured by benchmarks/bench_speed.py, and tests/browser/ checks the picture in a real browser.
Each engine traces and compiles once (about 2 s), so the tests share one explorer.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from reglab import explorer as rx
from reglab import penalties
from reglab.easynet import initial_weights
from reglab.explorer import Engine, Explorer, TrainResult

STEPS = 60  # short runs: enough to see the effects, fast enough for a unit test


@pytest.fixture(scope="module")
def ex() -> Explorer:
    explorer = Explorer(steps=STEPS)
    yield explorer
    explorer.close()


@pytest.fixture(scope="module")
def toy_l2(ex: Explorer) -> dict[float, TrainResult]:
    return {lam: ex.result("toy2d", "l2", lam) for lam in (0.0, 1e-3, 1e-2, 1e-1)}


def test_modules_share_public_names_only() -> None:
    """One PENALTIES tuple; explorer_view's names are public; reglab.mlp is gone."""
    import importlib

    import reglab
    from reglab import explorer_view, widgets

    assert rx.PENALTIES is penalties.PENALTIES is widgets.PENALTIES
    assert penalties.PENALTIES == ("none", "l1", "l2")
    assert rx.FigureView is explorer_view.FigureView and rx.NEAR_ZERO == explorer_view.NEAR_ZERO
    for module in (rx, explorer_view):
        assert all(not name.startswith("_") for name in module.__all__)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("reglab.mlp")
    with pytest.raises(AttributeError):
        reglab.mlp  # noqa: B018


# ---- the engine against Keras itself -----------------------------------------------------------

@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_reported_penalty_is_keras_regularizer_on_the_kernels(ex: Explorer, penalty: str) -> None:
    import keras

    lam = 3e-3
    result = ex.result("toy2d", penalty, lam)
    regularizer = keras.regularizers.l1(lam) if penalty == "l1" else keras.regularizers.l2(lam)
    keras_penalty = sum(float(regularizer(k)) for k in result.kernels)
    assert result.penalty_curve[-1] == pytest.approx(keras_penalty, rel=1e-5)
    assert result.final_penalty == pytest.approx(keras_penalty, rel=1e-5)
    numpy_formula = penalties.keras_l1 if penalty == "l1" else penalties.keras_l2
    assert result.final_penalty == pytest.approx(
        sum(numpy_formula(k, lam) for k in result.kernels), rel=1e-12)
    # step 0 is the shared initial network, kernels only (the biases start at 0 anyway)
    kernels0 = initial_weights(0, rx.SIZES["toy2d"])[0::2]
    assert result.penalty_curve[0] == pytest.approx(
        sum(float(regularizer(k)) for k in kernels0), rel=1e-5)
    assert len(result.params) == 6 and [p.ndim for p in result.params] == [2, 1, 2, 1, 2, 1]


@pytest.mark.parametrize(("penalty", "steps"), [("l2", 1), ("l2", 4), ("l1", 4)])
def test_engine_steps_equal_keras_fit(penalty: str, steps: int) -> None:
    """``steps`` explorer steps == ``steps`` epochs of model.fit on the same full batch."""
    import keras

    lam = 1e-2
    engine = Engine("toy2d", steps=steps)
    split = engine.split
    result = engine.train(lam, penalty)

    regularizer = keras.regularizers.L2(lam) if penalty == "l2" else keras.regularizers.L1(lam)
    model = keras.Sequential([keras.Input((2,))])
    for width in (32, 32):
        model.add(keras.layers.Dense(width, activation="tanh", kernel_regularizer=regularizer))
    model.add(keras.layers.Dense(2, kernel_regularizer=regularizer))
    model.set_weights(initial_weights(0, rx.SIZES["toy2d"]))
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(rx.LEARNING_RATE, decay_steps=steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(split.x_train, split.y_train, batch_size=len(split.x_train),
                        epochs=steps, shuffle=False, verbose=0)
    for i, (ours, theirs) in enumerate(zip(result.params, model.get_weights(), strict=True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6,
                                   err_msg=f"params[{i}] after {steps} step(s)")
    # fit's loss is the total before each update: data loss + penalty
    np.testing.assert_allclose(result.train_loss[:-1] + result.penalty_curve[:-1],
                               history.history["loss"], rtol=1e-5)
    # the weights really moved: not a trivially equal pair
    assert not np.allclose(result.params[0], initial_weights(0, rx.SIZES["toy2d"])[0])


def test_one_trace_per_dataset_none_per_lambda_or_penalty(ex: Explorer) -> None:
    for penalty, lam in (("l2", 2e-4), ("l2", 5e-4), ("none", 0.0), ("l1", 2e-4), ("l2", 2e-4)):
        ex.result("toy2d", penalty, lam)
    engine = ex.engine("toy2d")
    assert engine.traces == 1
    assert ex.engine("toy2d") is engine and ex.engine("digits") is not engine


def test_each_training_starts_afresh(ex: Explorer) -> None:
    """Weights, Adam's slots and its step count are reset: the same lambda, the same numbers."""
    engine = ex.engine("toy2d")
    first = engine.train(1e-3, "l1")
    engine.train(1e-1, "l2")
    again = engine.train(1e-3, "l1")
    for a, b in zip(first.params, again.params, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.train_loss, again.train_loss)
    assert engine.optimizer.iterations.numpy() == STEPS


# ---- what the training shows ------------------------------------------------------------------

def test_step_zero_is_the_same_network_for_every_setting(toy_l2: dict[float, TrainResult]) -> None:
    for lam, result in toy_l2.items():
        assert result.train_loss[0] == pytest.approx(toy_l2[0.0].train_loss[0], rel=1e-6), lam
        assert result.penalty == ("l2" if lam else "none")


def test_training_lowers_the_loss(toy_l2: dict[float, TrainResult]) -> None:
    for lam, result in toy_l2.items():
        assert len(result.train_loss) == len(result.test_loss) == STEPS + 1
        total = result.train_loss + result.penalty_curve  # what Adam minimizes
        assert total[-1] < 0.5 * total[0], f"lambda {lam}: total {total[-1]:.3f} vs {total[0]:.3f}"
        if lam <= 1e-3:
            assert result.train_loss[-1] < 0.5 * result.train_loss[0], lam
    assert toy_l2[0.0].train_accuracy > 0.85


def test_larger_lambda_gives_smaller_weights(toy_l2: dict[float, TrainResult]) -> None:
    norms = [toy_l2[lam].sum_squares for lam in sorted(toy_l2)]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False)), norms


def test_l1_gives_more_near_zero_weights_than_l2(ex: Explorer) -> None:
    for lam in (1e-3, 1e-2):
        l1 = ex.result("toy2d", "l1", lam)
        l2 = ex.result("toy2d", "l2", lam)
        assert l1.near_zero_fraction > l2.near_zero_fraction + 0.2, lam


def test_digits_network_learns(ex: Explorer) -> None:
    result = ex.result("digits", "l2", 1e-4)
    assert result.params[0].shape == (64, 32)
    assert result.params[-1].shape == (10,)
    assert result.test_accuracy > 0.8
    proba = result.predict_proba(ex.data("digits").x_test)
    assert proba.shape == (360, 10) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.mean(proba.argmax(axis=1) == ex.data("digits").y_test) == pytest.approx(
        result.test_accuracy, abs=1e-6)


# ---- the explorer: cache, prefetch, lock, failures --------------------------------------------

def test_update_keeps_other_settings_and_caches(ex: Explorer) -> None:
    first = ex.update(dataset="toy2d", penalty="l2", lam=1e-2)
    assert ex.update(lam=1e-2) is first
    assert ex.update(penalty="l1").penalty == "l1"
    assert ex.lam == 1e-2 and ex.dataset == "toy2d"  # exact: copied
    # slider values with float noise hit the same entry; "none" ignores lambda
    assert ex.key("toy2d", "l2", 10**-2.5) == ex.key("toy2d", "l2", 0.0031622776601683794)
    assert ex.key("toy2d", "none", 0.5) == ex.key("toy2d", "l2", 0.0) == ("toy2d", "none", 0.0)
    assert ex.result("toy2d", "none", 0.5) is ex.result("toy2d", "l1", 0.0)
    assert not hasattr(ex, "last_seconds")


def test_prefetch_gives_the_same_result_as_training_now(ex: Explorer) -> None:
    direct = ex.engine("toy2d").train(7e-3, "l2")
    ex.prefetch_enabled = True
    try:
        assert ex.prefetch([("toy2d", "l2", 7e-3), ("toy2d", "l2", 7e-3)]) == 1
        fetched = ex.result("toy2d", "l2", 7e-3)
        assert ex.prefetch([("toy2d", "l2", 7e-3)]) == 0  # in the cache now
    finally:
        ex.prefetch_enabled = False
    for a, b in zip(fetched.params, direct.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ex.prefetch([("toy2d", "l2", 1e-3)]) == 0  # disabled


def test_new_explorer_with_prefetch_compiles_in_the_background() -> None:
    background = Explorer(steps=5, dataset="toy2d", penalty="l1", lam=1e-2, prefetch=True)
    try:
        with background._lock:
            queued = set(background._pending) | set(background._cache)
        assert queued == {("toy2d", "l1", 0.01), ("toy2d", "none", 0.0)}  # exact: the keys, copied
        result = background.update()
        assert result.penalty == "l1" and background.engine("toy2d").traces == 1
    finally:
        background.close()


def test_the_lock_keeps_two_trainings_apart(ex: Explorer) -> None:
    """A prefetch and a direct training of the same engine run one after the other."""
    engine = ex.engine("toy2d")
    inner = engine._train_loop
    inside, most = [0], [0]

    def spy():  # noqa: ANN202 - stands in for the compiled loop
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.2)  # long enough for the other thread to try
        try:
            return inner()
        finally:
            inside[0] -= 1

    engine._train_loop = spy
    ex.prefetch_enabled = True
    try:
        ex.prefetch([("toy2d", "l2", 4e-3)])
        direct = ex.result("toy2d", "l2", 6e-3)
        fetched = ex.result("toy2d", "l2", 4e-3)
    finally:
        engine._train_loop = inner
        ex.prefetch_enabled = False
    assert most[0] == 1, "two trainings ran on the same variables at once"
    for lam, result in ((6e-3, direct), (4e-3, fetched)):
        np.testing.assert_array_equal(result.params[0], engine.train(lam, "l2").params[0])


def test_a_failed_prefetch_is_forgotten(ex: Explorer, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ex.engine("toy2d")
    real = engine.train
    calls: list[float] = []
    go = threading.Event()

    def flaky(lam: float, penalty: str) -> TrainResult:
        calls.append(lam)
        if len(calls) == 1:
            go.wait(10)
            raise RuntimeError("out of memory, say")
        return real(lam, penalty)

    monkeypatch.setattr(engine, "train", flaky)
    monkeypatch.setattr(ex, "prefetch_enabled", True)
    key = ("toy2d", "l2", 9e-3)
    assert ex.prefetch([key]) == 1
    threading.Timer(0.5, go.set).start()
    with pytest.raises(RuntimeError, match="out of memory"):
        ex.result(*key)  # waits for the prefetch, which fails
    assert key not in ex._pending
    assert ex.result(*key).lam == 9e-3  # exact: copied; it trains again, not raising forever
    assert calls == [9e-3, 9e-3]  # exact: copied


def test_lambda_grid() -> None:
    grid = rx.lambda_grid(-5, 0, 4)
    assert len(grid) == 21
    assert grid[0] == pytest.approx(1e-5) and grid[-1] == pytest.approx(1.0)
    assert np.all(np.diff(np.log10(grid)) == pytest.approx(0.25))


@pytest.mark.parametrize("dataset", ["toy2d", "digits"])
def test_render_draws_four_panels_and_png_changes_with_lambda(ex: Explorer, dataset: str) -> None:
    fig = ex.render(ex.update(dataset=dataset, penalty="l2", lam=1e-3))
    assert len(fig.axes) == 4
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "data loss" in titles and "penalty" in titles and "weights" in titles
    assert ("decision boundary" in titles) == (dataset == "toy2d")
    png_a = ex.render_png()
    png_b = ex.render_png(ex.update(lam=1e-1))
    assert png_a[:8] == b"\x89PNG\r\n\x1a\n" and png_b[:8] == png_a[:8]
    assert png_a != png_b
    assert ex.render_png(ex.update(lam=1e-3)) == png_a  # same setting, same picture


def test_probability_grid(ex: Explorer) -> None:
    result = ex.result("toy2d", "l2", 1e-3)
    gx, gy, p = ex.probability_grid(result, size=30)
    assert gx.shape == gy.shape == p.shape == (30, 30)
    assert 0.0 <= p.min() < 0.1 and 0.9 < p.max() <= 1.0
    split = ex.data("toy2d")
    np.testing.assert_allclose(result.predict_proba(split.x_train).argmax(axis=1).mean(),
                               np.mean(result.predict_proba(split.x_train)[:, 1] > 0.5))


# ---- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"dataset": "mnist"}, ValueError, "dataset"),
        ({"dataset": 3}, TypeError, "dataset"),
        ({"penalty": "L2"}, ValueError, "penalty"),
        ({"penalty": None}, TypeError, "penalty"),
        ({"lam": -0.1}, ValueError, "lam"),
        ({"lam": "0.1"}, TypeError, "lam"),
        ({"lam": float("nan")}, ValueError, "lam"),
        ({"seed": -1}, ValueError, "seed"),
        ({"steps": 0}, ValueError, "steps"),
        ({"learning_rate": 0}, ValueError, "learning_rate"),
        ({"prefetch": "yes"}, TypeError, "prefetch"),
    ],
)
def test_explorer_rejects_bad_settings(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        Explorer(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        (("mnist",), {}, ValueError, "dataset"),
        ((2,), {}, TypeError, "dataset"),
        ((), {"steps": 0}, ValueError, "steps"),
        ((), {"steps": 2.0}, TypeError, "steps"),
        ((), {"learning_rate": -1.0}, ValueError, "learning_rate"),
        ((), {"seed": -3}, ValueError, "seed"),
        ((), {"split": "moons"}, TypeError, "split"),
    ],
)
def test_engine_rejects_bad_settings(args: tuple, kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        Engine(*args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"dataset": "cifar"}, ValueError, "dataset"),
        ({"penalty": "l3"}, ValueError, "penalty"),
        ({"lam": -1}, ValueError, "lam"),
        ({"lam": [0.1]}, TypeError, "lam"),
        ({"lam": True}, TypeError, "lam"),
    ],
)
def test_update_rejects_bad_settings_and_keeps_the_old_ones(
    kwargs: dict, error: type, name: str
) -> None:
    ex = Explorer(steps=5)
    with pytest.raises(error, match=name):
        ex.update(**kwargs)
    assert (ex.dataset, ex.penalty, ex.lam) == ("toy2d", "l2", 1e-3)  # exact: copied, unchanged


def test_other_functions_reject_bad_input(ex: Explorer) -> None:
    engine = ex.engine("toy2d")
    result = ex.result("toy2d", "l2", 1e-3)
    digits = ex.result("digits", "l2", 1e-4)
    with pytest.raises(ValueError, match="split must have 64 input columns"):
        Engine("digits", split=ex.data("toy2d"))
    with pytest.raises(ValueError, match="lam"):
        engine.train(-1.0)
    with pytest.raises(TypeError, match="lam"):
        engine.train("0.1")
    with pytest.raises(ValueError, match="penalty"):
        engine.train(0.1, "L1")
    with pytest.raises(ValueError, match="x must have 2 columns"):
        result.predict_proba(np.ones((3, 4)))
    with pytest.raises(TypeError, match="x"):
        result.predict_proba("points")
    with pytest.raises(ValueError, match="dataset"):
        ex.engine("mnist")
    with pytest.raises(ValueError, match="dataset"):
        ex.data("mnist")
    with pytest.raises(TypeError, match="result"):
        ex.render("the result")
    with pytest.raises(TypeError, match="result"):
        ex.render_png(result.params)
    with pytest.raises(ValueError, match="dpi"):
        ex.render_png(dpi=0)
    with pytest.raises(ValueError, match="result must be a toy2d result"):
        ex.probability_grid(digits)
    with pytest.raises(ValueError, match="size"):
        ex.probability_grid(result, size=1)
    with pytest.raises(TypeError, match="settings"):
        ex.prefetch("toy2d")
    with pytest.raises(TypeError, match=r"settings\[0\]"):
        ex.prefetch([("toy2d", "l2")])
    with pytest.raises(ValueError, match="dataset"):
        ex.prefetch([("mnist", "l2", 0.1)])
    with pytest.raises(TypeError, match="lams"):
        ex.precompute(0.1)
    with pytest.raises(ValueError, match="lam"):
        ex.precompute([-0.1])
    with pytest.raises(ValueError, match="high_exp"):
        rx.lambda_grid(0, -5)
    with pytest.raises(ValueError, match="per_decade"):
        rx.lambda_grid(-5, 0, 0)
    with pytest.raises(TypeError, match="low_exp"):
        rx.lambda_grid(-5.0, 0)


# ---- the widgets, driven without a browser ---------------------------------------------------

@pytest.fixture()
def app(ex: Explorer):
    widgets = pytest.importorskip("ipywidgets")
    assert widgets
    from reglab.widgets import ExplorerApp

    application = ExplorerApp(ex, dataset="toy2d", penalty="l2", lam=1e-3)
    yield application
    application.close()


def test_widget_controls_redraw_the_picture(app) -> None:
    first = app.image.value
    assert first[:4] == b"\x89PNG" and app.redraws == 1
    app.lam_slider.value = 10**-1.5
    assert app.redraws == 2 and app.image.value != first
    assert app.explorer.lam == pytest.approx(10**-1.5)
    app.penalty_buttons.value = "l1"
    assert app.explorer.penalty == "l1" and "sum|w|" in app.status.value
    app.penalty_buttons.value = "none"
    assert app.lam_slider.disabled and "no penalty" in app.status.value
    app.dataset_buttons.value = "digits"
    assert app.explorer.dataset == "digits" and app.redraws == 5
    # the status line names the conventions: keras l2(c) == slim l2_regularizer(2c)
    app.penalty_buttons.value = "l2"
    assert "keras.regularizers.l2(0.0316)" in app.status.value
    assert "tf_slim.l2_regularizer(0.0632)" in app.status.value


def test_widget_rejects_bad_settings(ex: Explorer) -> None:
    pytest.importorskip("ipywidgets")
    from reglab.widgets import ExplorerApp

    with pytest.raises(TypeError, match="explorer"):
        ExplorerApp("an explorer")
    with pytest.raises(ValueError, match="lam"):
        ExplorerApp(ex, lam=10.0)
    with pytest.raises(ValueError, match="lam"):
        ExplorerApp(ex, lam=0.0)
    with pytest.raises(ValueError, match="dataset"):
        ExplorerApp(ex, dataset="mnist")
