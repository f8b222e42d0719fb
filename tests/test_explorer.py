"""The explorer without a browser: its network (reglab.mlp), logic (reglab.explorer), widgets.

Correctness only: the gradients, the penalty convention, what regularization does to the
weights, the cache, the drawing, bad input.  Speed is measured by benchmarks/bench_speed.py,
and tests/browser/ checks that the picture changes in a real browser.
"""

from __future__ import annotations

import numpy as np
import pytest

from reglab import explorer as rx
from reglab import mlp, penalties
from reglab.explorer import Explorer
from reglab.mlp import TrainResult

STEPS = 60  # short runs: enough to see the effects, fast enough for a unit test


@pytest.fixture(scope="module")
def ex() -> Explorer:
    return Explorer(steps=STEPS)


@pytest.fixture(scope="module")
def toy_l2(ex: Explorer) -> dict[float, TrainResult]:
    return {lam: ex.result("toy2d", "l2", lam) for lam in (0.0, 1e-3, 1e-2, 1e-1)}


def _small_problem(seed: int = 1) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = [w.astype(np.float64) + 0.1 * rng.standard_normal(w.shape)
              for w in mlp.initial_params((2, 5, 4, 3), seed=0)]
    return params, rng.standard_normal((7, 2)), rng.integers(0, 3, 7)


def test_module_split_keeps_the_explorer_names() -> None:
    """The network lives in reglab.mlp; reglab.explorer re-exports what it uses, unchanged."""
    import reglab
    from reglab import explorer_view

    for name in ("TrainResult", "train_mlp", "initial_params", "penalty_value", "PENALTIES",
                 "NEAR_ZERO"):
        assert getattr(rx, name) is getattr(mlp, name)
    assert rx._FigureView is explorer_view._FigureView
    assert reglab.mlp is mlp and reglab.explorer_view is explorer_view


# ---- the maths ---------------------------------------------------------------------------------

@pytest.mark.parametrize("penalty", ["none", "l1", "l2"])
def test_gradients_match_finite_differences(penalty: str) -> None:
    params, x, y = _small_problem()
    lam = 0.1
    _, _, grads = mlp.loss_and_gradients(params, x, y, penalty=penalty, lam=lam)
    eps = 1e-6
    for i, w in enumerate(params):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            total = []
            for sign in (1, -1):
                shifted = [a.copy() for a in params]
                shifted[i][idx] += sign * eps
                loss, pen, _ = mlp.loss_and_gradients(shifted, x, y, penalty=penalty, lam=lam)
                total.append(loss + pen)
            numeric[idx] = (total[0] - total[1]) / (2 * eps)
        np.testing.assert_allclose(grads[i], numeric, atol=1e-7, err_msg=f"params[{i}]")


def test_penalty_follows_the_keras_convention() -> None:
    kernels = [np.array([[1.0, -2.0], [0.5, 0.0]]), np.array([[3.0], [-1.0]])]
    lam = 0.01
    l2 = sum(penalties.keras_l2(k, lam) for k in kernels)
    l1 = sum(penalties.keras_l1(k, lam) for k in kernels)
    assert mlp.penalty_value(kernels, "l2", lam) == pytest.approx(l2)
    assert mlp.penalty_value(kernels, "l2", lam) == pytest.approx(lam * (1 + 4 + 0.25 + 9 + 1))
    assert mlp.penalty_value(kernels, "l1", lam) == pytest.approx(l1)
    assert mlp.penalty_value(kernels, "none", lam) == 0.0
    # twice the slim convention for the same constant: no factor 1/2
    slim = sum(penalties.slim_l2(k, lam) for k in kernels)
    assert mlp.penalty_value(kernels, "l2", lam) == pytest.approx(2 * slim)


def test_the_penalty_covers_kernels_only(toy_l2: dict[float, TrainResult]) -> None:
    result = toy_l2[1e-2]
    assert result.final_penalty == pytest.approx(
        sum(penalties.keras_l2(k, 1e-2) for k in result.kernels), rel=1e-6
    )
    assert result.penalty_curve[-1] == pytest.approx(result.final_penalty, rel=1e-6)


def test_step_zero_is_the_same_network_for_every_setting(
    ex: Explorer, toy_l2: dict[float, TrainResult]
) -> None:
    kernels0 = mlp.initial_params(rx.SIZES["toy2d"], seed=0)[0::2]
    for lam, result in toy_l2.items():
        assert result.train_loss[0] == pytest.approx(toy_l2[0.0].train_loss[0])
        penalty = "l2" if lam else "none"
        assert result.penalty_curve[0] == pytest.approx(
            mlp.penalty_value(kernels0, penalty, lam), rel=1e-6
        )


# ---- what the training shows ------------------------------------------------------------------

def test_training_lowers_the_loss(toy_l2: dict[float, TrainResult]) -> None:
    for lam, result in toy_l2.items():
        assert len(result.train_loss) == STEPS + 1
        total = result.train_loss + result.penalty_curve  # what Adam minimizes
        assert total[-1] < 0.5 * total[0], lam
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


def test_digits_network_learns() -> None:
    result = Explorer(steps=40).result("digits", "l2", 1e-4)
    assert result.params[0].shape == (64, 32)
    assert result.params[-1].shape == (10,)
    assert result.test_accuracy > 0.8


def test_training_is_deterministic(ex: Explorer) -> None:
    again = Explorer(steps=STEPS).result("toy2d", "l1", 1e-3)
    first = ex.result("toy2d", "l1", 1e-3)
    for a, b in zip(first.params, again.params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_mlp_on_its_own() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    result = mlp.train_mlp(x, y, x, y, sizes=(3, 8, 2), penalty="l2", lam=1e-3, steps=50)
    assert result.train_accuracy > 0.9
    assert mlp.data_loss(result.params, x, y) == pytest.approx(result.train_loss[-1], rel=1e-4)
    assert mlp.predict_proba(result.params, x).sum(axis=1) == pytest.approx(np.ones(40))


# ---- the explorer: cache, prefetch, drawing ---------------------------------------------------

def test_update_keeps_other_settings_and_caches(ex: Explorer) -> None:
    first = ex.update(dataset="toy2d", penalty="l2", lam=1e-2)
    assert ex.update(lam=1e-2) is first
    assert ex.update(penalty="l1").penalty == "l1"
    assert ex.lam == 1e-2 and ex.dataset == "toy2d"
    # slider values with float noise hit the same entry; "none" ignores lambda
    assert ex.key("toy2d", "l2", 10**-2.5) == ex.key("toy2d", "l2", 0.0031622776601683794)
    assert ex.key("toy2d", "none", 0.5) == ex.key("toy2d", "l2", 0.0) == ("toy2d", "none", 0.0)
    assert ex.result("toy2d", "none", 0.5) is ex.result("toy2d", "l1", 0.0)


def test_prefetch_gives_the_same_result_as_training_now() -> None:
    background = Explorer(steps=STEPS, prefetch=True)
    try:
        assert background.prefetch([("toy2d", "l2", 3e-3), ("toy2d", "l2", 3e-3)]) == 1
        fetched = background.result("toy2d", "l2", 3e-3)
    finally:
        background.close()
    direct = Explorer(steps=STEPS).result("toy2d", "l2", 3e-3)
    for a, b in zip(fetched.params, direct.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert Explorer(steps=STEPS).prefetch([("toy2d", "l2", 1e-3)]) == 0  # disabled by default


def test_lambda_grid() -> None:
    grid = rx.lambda_grid(-5, 0, 4)
    assert len(grid) == 21
    assert grid[0] == pytest.approx(1e-5) and grid[-1] == pytest.approx(1.0)
    assert np.all(np.diff(np.log10(grid)) == pytest.approx(0.25))


@pytest.mark.parametrize("dataset", ["toy2d", "digits"])
def test_render_draws_four_panels_and_png_changes_with_lambda(dataset: str) -> None:
    ex = Explorer(steps=30)
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
    assert (ex.dataset, ex.penalty, ex.lam) == ("toy2d", "l2", 1e-3)


def test_other_functions_reject_bad_input(ex: Explorer) -> None:
    params, x, y = _small_problem()
    with pytest.raises(ValueError, match="penalty"):
        mlp.penalty_value([np.ones((2, 2))], "l4", 0.1)
    with pytest.raises(TypeError, match="kernels"):
        mlp.penalty_value(np.ones((2, 2)), "l2", 0.1)
    with pytest.raises(ValueError, match="lam"):
        mlp.loss_and_gradients(params, x, y, penalty="l2", lam=-1)
    with pytest.raises(ValueError, match="x must have 2 columns"):
        mlp.logits(params, np.ones((3, 4)))
    with pytest.raises(ValueError, match="params"):
        mlp.logits(params[:3], x)
    with pytest.raises(TypeError, match="params"):
        mlp.logits("weights", x)
    with pytest.raises(ValueError, match="y must hold labels in 0..2"):
        mlp.data_loss(params, x, np.full(7, 5))
    with pytest.raises(ValueError, match="y must have 7 labels"):
        mlp.data_loss(params, x, np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="y must be a 1-D array of integer labels"):
        mlp.data_loss(params, x, np.zeros(7))
    with pytest.raises(ValueError, match="x_train and x_test"):
        mlp.train_mlp(x, y, x, y, sizes=(3, 4, 3), steps=2)
    with pytest.raises(TypeError, match="sizes"):
        mlp.train_mlp(x, y, x, y, sizes="2-4-3", steps=2)
    with pytest.raises(ValueError, match="steps"):
        mlp.train_mlp(x, y, x, y, sizes=(2, 4, 3), steps=0)
    with pytest.raises(TypeError, match="result"):
        ex.render("the result")
    with pytest.raises(ValueError, match="dpi"):
        ex.render_png(dpi=0)
    with pytest.raises(TypeError, match="settings"):
        ex.prefetch("toy2d")
    with pytest.raises(TypeError, match=r"settings\[0\]"):
        ex.prefetch([("toy2d", "l2")])
    with pytest.raises(ValueError, match="dataset"):
        ex.prefetch([("mnist", "l2", 0.1)])
    with pytest.raises(TypeError, match="lams"):
        ex.precompute(0.1)
    with pytest.raises(ValueError, match="high_exp"):
        rx.lambda_grid(0, -5)


# ---- the widgets, driven without a browser ---------------------------------------------------

@pytest.fixture()
def app():
    widgets = pytest.importorskip("ipywidgets")
    assert widgets
    from reglab.widgets import ExplorerApp

    application = ExplorerApp(Explorer(steps=20))
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


def test_widget_rejects_bad_settings() -> None:
    pytest.importorskip("ipywidgets")
    from reglab.widgets import ExplorerApp

    with pytest.raises(TypeError, match="explorer"):
        ExplorerApp("an explorer")
    with pytest.raises(ValueError, match="lam"):
        ExplorerApp(Explorer(steps=2), lam=10.0)
    with pytest.raises(ValueError, match="lam"):
        ExplorerApp(Explorer(steps=2), lam=0.0)
    with pytest.raises(ValueError, match="dataset"):
        ExplorerApp(Explorer(steps=2), dataset="mnist")
