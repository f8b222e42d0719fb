"""The explorer without a browser: its TensorFlow engine, its logic, its widgets; reglab.optimizers.

Correctness only: the engine against Keras itself (the penalty, steps of ``model.fit``), the
cache, tracing once, prefetch, concurrent trainings and failures, the drawing (one colour scale
per dataset, one name per dataset), the status line (what is being trained, a busy kernel), the
widget's text before it runs, the rules between arguments.  Bad single arguments are tested from
the declarations (tests/test_params.py).  Speed is measured by benchmarks/bench_speed.py, and
tests/browser/ checks the picture in a real browser.  Each engine traces and compiles once (about
2 s), so the tests share one explorer.
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from reglab import explorer as rx
from reglab import penalties
from reglab.easynet import initial_weights, logits_float64
from reglab.explorer import Engine, Explorer, TrainResult
from reglab.explorer.controls import (
    CAPTIONS,
    DATASET_LABELS,
    KERNEL_BUSY,
    KIND_LABELS,
    LAM_CAPTIONS,
    NOT_RUNNING,
    lam_text,
    setting_text,
    status_text,
)
from reglab.optimizers import reset_optimizer
from reglab.params import InvalidParameterError

STEPS = 60  # short runs: enough to see the effects, fast enough for a unit test


@pytest.fixture(scope="module")
def ex() -> Explorer:
    explorer = Explorer(steps=STEPS)
    yield explorer
    explorer.close()


@pytest.fixture(scope="module")
def toy_l2(ex: Explorer) -> dict[float, TrainResult]:
    return {lam: ex.result("toy2d", "l2", lam) for lam in (0.0, 1e-3, 1e-2, 1e-1)}


def _wait_until(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_dataset_and_kind_has_a_label() -> None:
    assert set(DATASET_LABELS) == set(rx.DATASETS)
    assert set(KIND_LABELS) == set(rx.KINDS) == {"none", "l1", "l2"}


# ---- the engine against Keras itself -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_reported_penalty_is_keras_regularizer_on_the_kernels(ex: Explorer, kind: str) -> None:
    import keras

    lam = 3e-3
    result = ex.result("toy2d", kind, lam)
    regularizer = keras.regularizers.l1(lam) if kind == "l1" else keras.regularizers.l2(lam)
    keras_penalty = sum(float(regularizer(k)) for k in result.kernels)
    assert result.convention == "keras"
    assert result.penalty_curve[-1] == pytest.approx(keras_penalty, rel=1e-5)
    assert result.final_penalty == pytest.approx(keras_penalty, rel=1e-5)
    numpy_formula = penalties.keras_l1 if kind == "l1" else penalties.keras_l2
    assert result.final_penalty == pytest.approx(
        sum(numpy_formula(k, lam) for k in result.kernels), rel=1e-12)
    # step 0 is the shared initial network, kernels only (the biases start at 0 anyway)
    kernels0 = initial_weights(0, rx.SIZES["toy2d"])[0::2]
    assert result.penalty_curve[0] == pytest.approx(
        sum(float(regularizer(k)) for k in kernels0), rel=1e-5)
    assert len(result.weights) == 6 and [p.ndim for p in result.weights] == [2, 1, 2, 1, 2, 1]


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
@pytest.mark.parametrize(("kind", "steps"), [("l2", 1), ("l2", 4), ("l1", 4)])
def test_engine_steps_equal_keras_fit(kind: str, steps: int) -> None:
    """``steps`` explorer steps == ``steps`` epochs of model.fit on the same full batch."""
    import keras

    lam = 1e-2
    engine = Engine("toy2d", steps=steps)
    split = engine.split
    result = engine.train(lam, kind)

    regularizer = keras.regularizers.L2(lam) if kind == "l2" else keras.regularizers.L1(lam)
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
    for i, (ours, theirs) in enumerate(zip(result.weights, model.get_weights(), strict=True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6,
                                   err_msg=f"params[{i}] after {steps} step(s)")
    # fit's loss is the total before each update: data loss + penalty
    np.testing.assert_allclose(result.data_loss_curve[:-1] + result.penalty_curve[:-1],
                               history.history["loss"], rtol=1e-5)
    # the weights really moved: not a trivially equal pair
    assert not np.allclose(result.weights[0], initial_weights(0, rx.SIZES["toy2d"])[0])


def test_one_trace_per_dataset_none_per_lambda_or_kind(ex: Explorer) -> None:
    for kind, lam in (("l2", 2e-4), ("l2", 5e-4), ("none", 0.0), ("l1", 2e-4), ("l2", 2e-4)):
        ex.result("toy2d", kind, lam)
    assert ex.engine("toy2d").traces == 1


def test_each_training_starts_afresh(ex: Explorer) -> None:
    """Weights, Adam's slots and its step count are reset: the same lambda, the same numbers."""
    engine = ex.engine("toy2d")
    first = engine.train(1e-3, "l1")
    engine.train(1e-1, "l2")
    again = engine.train(1e-3, "l1")
    for a, b in zip(first.weights, again.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.data_loss_curve, again.data_loss_curve)
    assert engine.optimizer.iterations.numpy() == STEPS


def test_concurrent_trainings_give_the_numbers_of_sequential_ones(ex: Explorer) -> None:
    """Trainings started at once from several threads on one engine do not mix their variables."""
    engine = ex.engine("toy2d")
    lams = (1.5e-3, 2.5e-3, 3.5e-3)
    alone = {lam: engine.train(lam, "l2") for lam in lams}
    start = threading.Barrier(len(lams))
    together: dict[float, TrainResult] = {}

    def train(lam: float) -> None:
        start.wait()
        together[lam] = engine.train(lam, "l2")

    threads = [threading.Thread(target=train, args=(lam,)) for lam in lams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for lam in lams:
        for a, b in zip(together[lam].weights, alone[lam].weights, strict=True):
            np.testing.assert_array_equal(a, b)


# ---- what the training shows ------------------------------------------------------------------

def test_step_zero_is_the_same_network_for_every_setting(toy_l2: dict[float, TrainResult]) -> None:
    for lam, result in toy_l2.items():
        assert result.data_loss_curve[0] == pytest.approx(toy_l2[0.0].data_loss_curve[0], rel=1e-6), lam
        assert result.kind == ("l2" if lam else "none")


def test_training_lowers_the_loss(toy_l2: dict[float, TrainResult]) -> None:
    for lam, result in toy_l2.items():
        curves = (result.data_loss_curve, result.test_data_loss_curve, result.penalty_curve)
        assert [len(c) for c in curves] == [STEPS + 1] * 3
        total = result.data_loss_curve + result.penalty_curve  # what Adam minimizes
        assert total[-1] < 0.5 * total[0], f"lambda {lam}: total {total[-1]:.3f} vs {total[0]:.3f}"
        if lam <= 1e-3:
            assert result.data_loss_curve[-1] < 0.5 * result.data_loss_curve[0], lam
    assert toy_l2[0.0].train_accuracy > 0.85


def test_larger_lambda_gives_smaller_weights(toy_l2: dict[float, TrainResult]) -> None:
    norms = [toy_l2[lam].sum_squares for lam in sorted(toy_l2)]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False)), norms


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_l1_gives_more_near_zero_weights_than_l2(ex: Explorer) -> None:
    for lam in (1e-3, 1e-2):
        l1 = ex.result("toy2d", "l1", lam)
        l2 = ex.result("toy2d", "l2", lam)
        assert l1.near_zero_fraction > l2.near_zero_fraction + 0.2, lam


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_digits_network_learns(ex: Explorer) -> None:
    result = ex.result("digits", "l2", 1e-4)
    assert result.weights[0].shape == (64, 32)
    assert result.weights[-1].shape == (10,)
    assert result.test_accuracy > 0.8
    x_test = ex.data("digits").x_test
    proba = result.predict_proba(x_test)
    assert proba.shape == (360, 10) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(proba.argmax(axis=1), logits_float64(result.weights, x_test).argmax(axis=1))
    assert np.mean(proba.argmax(axis=1) == ex.data("digits").y_test) == pytest.approx(
        result.test_accuracy, abs=1e-6)


# ---- the explorer: settings, cache, prefetch, failures ----------------------------------------

def test_update_keeps_other_settings_and_caches(ex: Explorer) -> None:
    first = ex.update(dataset="toy2d", kind="l2", lam=1e-2)
    assert ex.update(lam=1e-2) is first
    assert ex.update(kind="l1").kind == "l1"
    assert ex.lam == 1e-2 and ex.dataset == "toy2d"  # exact: copied
    assert ex.reference.kind == "none" and ex.reference.dataset == "toy2d"
    # slider values with float noise hit the same entry; "none" ignores lambda
    trained = ex.cache_size
    ex.result("toy2d", "l2", 10**-2.5)
    ex.result("toy2d", "l2", 0.0031622776601683794)
    ex.result("toy2d", "none", 0.5)
    ex.result("toy2d", "l1", 0.0)
    assert ex.cache_size == trained + 1
    assert ex.result("toy2d", "none", 0.5).lam == 0.0  # exact: "none" stores lambda 0


def test_a_refused_update_changes_nothing() -> None:
    refused = Explorer(steps=5)
    with pytest.raises(InvalidParameterError, match="lam"):
        refused.update(dataset="digits", kind="l1", lam=-1.0)
    assert (refused.dataset, refused.kind, refused.lam) == ("toy2d", "l2", 1e-3)  # exact: copied


def test_precompute_and_prefetch_give_the_same_results(ex: Explorer) -> None:
    direct = ex.engine("toy2d").train(7e-3, "l2")
    assert ex.prefetch([7e-3], dataset="toy2d", kind="l2") == 0  # prefetch is off
    ex.prefetch_enabled = True
    try:
        assert ex.prefetch([7e-3, 7e-3], dataset="toy2d", kind="l2") == 1
        fetched = ex.result("toy2d", "l2", 7e-3)
        assert ex.prefetch([7e-3], dataset="toy2d", kind="l2") == 0  # in the cache now
    finally:
        ex.prefetch_enabled = False
    [computed] = ex.precompute([7e-3], dataset="toy2d", kind="l2")
    for a, b, c in zip(fetched.weights, direct.weights, computed.weights, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_prefetch_neighbours_trains_the_next_slider_steps(ex: Explorer) -> None:
    ex.update(dataset="toy2d", kind="l1", lam=10**-3.5)
    assert ex.prefetch_neighbours() == 0  # prefetch is off
    ex.prefetch_enabled = True
    try:
        before = ex.cache_size
        assert ex.prefetch_neighbours() == 2
        _wait_until(lambda: ex.cache_size == before + 2)
        ex.result("toy2d", "l1", 10**-3.25)
        ex.result("toy2d", "l1", 10**-3.75)
        assert ex.cache_size == before + 2  # both were trained ahead
        ex.update(lam=1.0)  # the slider's end: one neighbour only
        assert ex.prefetch_neighbours() == 1
        ex.update(kind="none")
        assert ex.prefetch_neighbours() == 0
    finally:
        ex.prefetch_enabled = False


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_new_explorer_with_prefetch_trains_in_the_background() -> None:
    background = Explorer(steps=5, dataset="toy2d", kind="l1", lam=1e-2, prefetch=True)
    try:
        _wait_until(lambda: background.cache_size == 2)  # the setting and its reference
        assert background.update().kind == "l1" and background.reference.kind == "none"
        assert background.cache_size == 2 and background.engine("toy2d").traces == 1
    finally:
        background.close()


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_a_failed_prefetch_is_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    import reglab.data

    real = reglab.data.load_dataset
    calls: list[str] = []
    go = threading.Event()

    def flaky(name: str, **kwargs):  # noqa: ANN202 - stands in for load_dataset
        calls.append(name)
        if len(calls) == 1:
            go.wait(10)
            raise RuntimeError("out of memory, say")
        return real(name, **kwargs)

    monkeypatch.setattr(reglab.data, "load_dataset", flaky)
    failing = Explorer(steps=5, lam=9e-3, prefetch=True)  # prefetches its setting at once
    try:
        threading.Timer(0.5, go.set).start()
        with pytest.raises(RuntimeError, match="out of memory"):
            failing.result("toy2d", "l2", 9e-3)  # waits for the prefetch, which fails
        assert failing.result("toy2d", "l2", 9e-3).lam == 9e-3  # exact: copied; trained again
    finally:
        failing.close()


def test_lambda_grid() -> None:
    grid = rx.lambda_grid()
    assert len(grid) == 21
    assert grid[0] == pytest.approx(1e-5) and grid[-1] == pytest.approx(1.0)
    assert grid[8] == pytest.approx(1e-3)
    assert np.diff(np.log10(grid)) == pytest.approx(np.full(20, 0.25))
    assert rx.lambda_grid(-5, 0, 2) == pytest.approx([10.0**(k / 2) for k in range(-10, 1)])
    with pytest.raises(InvalidParameterError, match="high_exp must be > low_exp"):
        rx.lambda_grid(0, -5)


# ---- drawing and the status line ----------------------------------------------------------------

@pytest.mark.parametrize("dataset", ["toy2d", "digits"])
def test_render_png_changes_with_lambda_only(ex: Explorer, dataset: str) -> None:
    from PIL import Image

    png_a = ex.render_png(ex.update(dataset=dataset, kind="l2", lam=1e-3))
    png_b = ex.render_png(ex.update(lam=1e-1))
    assert png_a[:8] == b"\x89PNG\r\n\x1a\n" and png_b[:8] == png_a[:8]
    assert Image.open(io.BytesIO(png_a)).size == (int(13.5 * 72), int(3.4 * 72))  # inches x dpi
    assert png_a != png_b
    assert ex.render_png(ex.update(lam=1e-3)) == png_a  # same setting, same picture
    assert ex.render_png() == png_a  # the current setting by default
    assert Image.open(io.BytesIO(ex.render_png(dpi=36))).size == (int(13.5 * 36), int(3.4 * 36))


def test_probability_grid(ex: Explorer) -> None:
    result = ex.result("toy2d", "l2", 1e-3)
    gx, gy, p = ex.probability_grid(result, size=30)
    assert gx.shape == gy.shape == p.shape == (30, 30)
    assert 0.0 <= p.min() < 0.1 and 0.9 < p.max() <= 1.0
    split = ex.data("toy2d")
    np.testing.assert_allclose(result.predict_proba(split.x_train).argmax(axis=1).mean(),
                               np.mean(result.predict_proba(split.x_train)[:, 1] > 0.5))
    with pytest.raises(InvalidParameterError, match="result must be a toy2d result"):
        ex.probability_grid(ex.result("digits", "l2", 1e-4))


def test_engine_refuses_a_split_of_another_dataset(ex: Explorer) -> None:
    with pytest.raises(InvalidParameterError, match="split must have 64 input columns"):
        Engine("digits", split=ex.data("toy2d"))


def test_status_text_writes_the_penalty_in_every_api(ex: Explorer) -> None:
    assert status_text(ex.result("toy2d", "l2", 0.001)) == (
        "penalty = 0.001 * sum(w\u00b2) = keras.regularizers.l2(0.001) = tf_slim.l2_regularizer(0.002)")
    assert status_text(ex.result("toy2d", "l1", 0.01)) == (
        "penalty = 0.01 * sum|w| = keras.regularizers.l1(0.01) = tf_slim.l1_regularizer(0.01)")
    assert status_text(ex.result("toy2d", "none", 0.0)) == "no penalty (λ = 0)"


def test_settings_are_written_as_the_controls_show_them() -> None:
    # the readout's format (d3 ".1e"): no zero padding, a sign on positive exponents
    assert [lam_text(lam) for lam in rx.lambda_grid()[[0, 9, 20]]] == ["1.0e-5", "1.8e-3", "1.0e+0"]
    shown = setting_text("toy2d", "l2", 10**-2.75)
    assert shown == "moons, L2 λ = 1.8e-3"  # exact: text; 1.778e-3 is far from a rounding edge
    assert setting_text("digits", "l1", 1e-2) == "digits, L1 λ = 1.0e-2"
    assert setting_text("toy2d", "none", 0.0) == setting_text("toy2d", "l2", 0.0) == "moons, no penalty"


# ---- one colour scale and one name in the pictures ----------------------------------------------

@pytest.fixture(scope="module")
def digits_view(ex: Explorer):
    from reglab.explorer.figure import FigureView

    reference = ex.result("digits", "none", 0.0)
    return FigureView(ex.data("digits"), "digits", reference, 72, blit=True), reference


def test_digits_weight_images_share_one_colour_scale(ex: Explorer, digits_view) -> None:
    view, reference = digits_view
    limit = float(np.abs(reference.weights[0]).max())
    weak, strong = ex.result("digits", "l2", 1e-5), ex.result("digits", "l2", 1.0)
    view.png(weak)
    clim_weak = view.image.get_clim()
    view.png(strong)
    assert view.image.get_clim() == clim_weak  # exact: the same numbers, never recomputed
    assert clim_weak == pytest.approx((-limit, limit))
    # so a strong penalty fades the images: L2 lambda = 1 stays within 1% of the scale's middle
    shown = view.image.norm(view.image.get_array().compressed())
    assert np.all(np.abs(shown - 0.5) < 0.01)
    # the colour bar shows that scale
    assert view.colorbar.mappable is view.image
    assert (view.colorbar.vmin, view.colorbar.vmax) == pytest.approx((-limit, limit))


@pytest.mark.parametrize("dataset", ["toy2d", "digits"])
def test_pictures_name_the_dataset_as_the_buttons_do(ex: Explorer, dataset: str) -> None:
    from matplotlib.text import Text

    ex.render_png(ex.update(dataset=dataset, kind="l2", lam=10**-2.75))
    view = ex._views[dataset, 72]  # the one render_png just drew
    texts = [t.get_text() for t in view.fig.findobj(Text) if t.get_text()]
    assert view.title.get_text().startswith(f"{DATASET_LABELS[dataset]}, L2 λ = 1.8e-3")
    assert not any("toy2d" in text for text in texts), texts  # the code's name, not the people's


# ---- the static page of the book ---------------------------------------------------------------

@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_static_explorer_writes_every_setting_and_the_controls(ex: Explorer, tmp_path) -> None:
    import json
    import re

    from reglab.explorer.static import settings, write_static_explorer

    assert len(settings()) == 2 * (1 + 2 * len(rx.lambda_grid())) == 86
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "old.txt").write_text("replaced")
    written = write_static_explorer(tmp_path / "site", explorer=ex, dpi=20, progress=False)
    assert written.frames == 86 and sorted(p.name for p in (tmp_path / "site").iterdir()) == [
        "frames", "index.html"]
    assert len(list((tmp_path / "site" / "frames").glob("*.png"))) == 86
    assert list(tmp_path.iterdir()) == [tmp_path / "site"]  # no staging folder left behind
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for name, label in {**DATASET_LABELS, **KIND_LABELS}.items():
        assert re.search(f'<button type="button" data-(dataset|kind)="{name}">{label}</button>', page)
    assert "toy2d</button>" not in page and f">{CAPTIONS['lam']}</label>" in page
    table = json.loads(re.search(r'<script id="settings" type="application/json">(.*?)</script>',
                                 page, re.S).group(1))
    assert table["start"] == ["toy2d", "l2", 8] and len(table["frames"]) == 86
    frame = table["frames"]["toy2d/l2/8"]
    assert {key: frame[key] for key in ("src", "status")} == {
        "src": "frames/toy2d-l2-08.png", "status": status_text(ex.result("toy2d", "l2", 1e-3))}
    assert table["frames"]["digits/none/-1"]["status"] == "no penalty (λ = 0)"


def test_static_explorer_refuses_a_start_the_controls_cannot_reach(tmp_path) -> None:
    from reglab.explorer.static import write_static_explorer

    with pytest.raises(InvalidParameterError, match="start must be a"):
        write_static_explorer(tmp_path / "site", start=("toy2d", "l2", 99))
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidParameterError, match="exists and is not a directory"):
        write_static_explorer(tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# ---- the widgets, driven without a browser ---------------------------------------------------

@pytest.fixture()
def app(ex: Explorer):
    pytest.importorskip("ipywidgets")
    from reglab.explorer.widgets import ExplorerApp

    application = ExplorerApp(ex, dataset="toy2d", kind="l2", lam=1e-3)
    yield application
    application.close()


def test_widget_controls_redraw_the_picture(app) -> None:
    first = app.image.value
    assert first[:4] == b"\x89PNG" and app.redraws == 1
    app.lam_slider.value = 10**-1.5
    assert app.redraws == 2 and app.image.value != first
    assert app.explorer.lam == pytest.approx(10**-1.5)
    app.kind_buttons.value = "l1"
    assert app.explorer.kind == "l1" and "sum|w|" in app.status.value
    app.kind_buttons.value = "none"
    assert app.lam_slider.disabled and "no penalty" in app.status.value
    app.dataset_buttons.value = "digits"
    assert app.explorer.dataset == "digits" and app.redraws == 5
    # the status line names the conventions: keras l2(c) == slim l2_regularizer(2c)
    app.kind_buttons.value = "l2"
    assert "keras.regularizers.l2(0.0316)" in app.status.value
    assert "tf_slim.l2_regularizer(0.0632)" in app.status.value


def test_widget_shows_the_labels_of_the_controls(app) -> None:
    assert [label for label, _ in app.dataset_buttons.options] == ["moons", "digits"]
    assert [label for label, _ in app.kind_buttons.options] == ["none", "L1", "L2"]
    assert (app.lam_slider.min, app.lam_slider.max, app.lam_slider.step) == (-5, 0, 0.25)  # exact: copied


def test_the_lambda_caption_states_the_keras_convention(app) -> None:
    assert app.lam_slider.description == LAM_CAPTIONS["l2"] == "λ (Keras: λ·Σw²)"
    app.kind_buttons.value = "l1"
    assert app.lam_slider.description == "λ (Keras: λ·Σ|w|)"
    app.kind_buttons.value = "none"
    assert app.lam_slider.description == LAM_CAPTIONS["none"]
    assert CAPTIONS["lam"] == "λ (Keras convention)"  # the static page's, for any kind


def test_before_it_runs_the_notebook_shows_how_to_start_the_explorer(app) -> None:
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(app)  # what the notebook stores for `app`
    assert data["text/plain"] == NOT_RUNNING == "Run the cells above to start the explorer."
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == app.widget.model_id


def _record(app) -> list[tuple[str, object]]:
    """The status line's values and the picture's changes, in the order the front-end gets them."""
    events: list[tuple[str, object]] = []
    app.status.observe(lambda change: events.append(("status", change["new"])), names="value")
    app.image.observe(lambda change: events.append(("image", len(change["new"]))), names="value")
    return events


def test_the_status_line_says_what_is_trained_until_the_picture_arrives(app) -> None:
    events = _record(app)
    app.lam_slider.value = 0.05  # off the slider's grid: not trained before by these tests
    statuses = [value for kind, value in events if kind == "status"]
    working = [i for i, (kind, value) in enumerate(events)
               if kind == "status" and "⏳ training moons, L2 λ = 5.0e-2 (1 of 1)" in value]
    [picture] = [i for i, (kind, _) in enumerate(events) if kind == "image"]
    assert working and working[0] < picture, events
    assert "reglab-busy" in statuses[working[0]]
    assert "⏳" not in statuses[-1] and not app.busy  # cleared when the picture arrives
    assert "keras.regularizers.l2(0.05)" in statuses[-1] and "trained in" in statuses[-1]
    events.clear()
    app.lam_slider.value = 10**-3  # cached: no training line
    assert not any("⏳" in value for kind, value in events if kind == "status")


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
def test_a_first_digits_setting_says_it_compiles_and_counts_two_trainings() -> None:
    pytest.importorskip("ipywidgets")
    from reglab.explorer.widgets import ExplorerApp

    fresh = ExplorerApp(Explorer(steps=5), dataset="toy2d", kind="l2", lam=1e-3)
    try:
        events = _record(fresh)
        fresh.dataset_buttons.value = "digits"
        lines = [value for kind, value in events if kind == "status" and "⏳" in value]
        assert "⏳ training digits, L2 λ = 1.0e-3 (1 of 2); the first digits setting compiles" in lines[0]
        assert "⏳ training digits, no penalty (2 of 2) ..." in lines[-1]
        assert not fresh.busy and fresh.redraws == 2
    finally:
        fresh.close()


def test_the_status_line_says_when_the_kernel_runs_other_cells(app) -> None:
    app.BUSY_GRACE_S = 0.05
    events = _record(app)
    app._cell_started(None)  # IPython's pre_run_cell: e.g. the next cell of "Run All"
    assert app.busy and KERNEL_BUSY in app.status.value
    app._cell_finished(None)  # post_run_cell, and at once the next cell: the note stays on
    app._cell_started(None)
    time.sleep(0.2)
    assert app.busy and all(KERNEL_BUSY in value for kind, value in events if kind == "status")
    app._cell_finished(None)  # the last cell: the note goes once no cell follows
    _wait_until(lambda: not app.busy, 5)
    assert KERNEL_BUSY not in app.status.value and "penalty = " in app.status.value


def test_the_widget_watches_the_kernels_cells_until_closed(ex: Explorer, monkeypatch) -> None:
    pytest.importorskip("ipywidgets")
    from IPython.core.events import EventManager, available_events

    from reglab.explorer import widgets

    shell = type("Shell", (), {})()
    shell.events = EventManager(shell, available_events)
    monkeypatch.setattr(widgets, "_ipython", lambda: shell)
    watched = widgets.ExplorerApp(ex, dataset="toy2d", kind="l2", lam=1e-3)
    try:
        shell.events.trigger("pre_run_cell", None)
        assert watched.busy
    finally:
        watched.close()
    assert shell.events.callbacks["pre_run_cell"] == shell.events.callbacks["post_run_cell"] == []


# ---- reglab.optimizers -------------------------------------------------------------------------

def test_reset_optimizer_restarts_adam_but_keeps_its_learning_rate() -> None:
    import keras

    weights = keras.Variable(np.ones((3, 2), dtype="float32"))
    optimizer = keras.optimizers.Adam(0.01)
    optimizer.build([weights])
    start = [np.array(v) for v in optimizer.variables]
    optimizer.apply([np.ones((3, 2), dtype="float32")], [weights])
    assert optimizer.iterations.numpy() == 1
    reset_optimizer(optimizer)
    for variable, value in zip(optimizer.variables, start, strict=True):
        np.testing.assert_array_equal(np.array(variable), value)
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_reset_optimizer_refuses_an_optimizer_that_does_not_start_at_zero() -> None:
    import keras

    with pytest.raises(InvalidParameterError, match="Adagrad"):
        reset_optimizer(keras.optimizers.Adagrad())
