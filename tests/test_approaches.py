"""reglab.sweep: tiny runs (toy2d, 1-2 epochs) that agree across APIs and follow the slim convention."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

from reglab import data, easynet
from reglab.params import InvalidParameterError
from reglab.penalties import slim_l1, slim_l2
from reglab.sweep import approaches, shared
from reglab.sweep import run as sweep_run

TINY = {"dataset": "toy2d", "batch_size": 50}


def test_a_kind_the_approach_does_not_support_is_refused():
    with pytest.raises(InvalidParameterError, match="kind='l1' is not supported by approach 'l2_loss'"):
        approaches.train("l2_loss", 0.1, 1, kind="l1", **TINY)


def test_empty_test_set_is_refused_not_nan(monkeypatch):
    full = data.load_dataset("toy2d")
    empty = data.Split(full.x_train, full.y_train, full.x_test[:0], full.y_test[:0])
    monkeypatch.setattr(sweep_run, "_load", lambda dataset: empty)
    with pytest.raises(InvalidParameterError, match="0 test examples"):
        approaches.make_run("keras_loop", 0.1, 1, dataset="toy2d")


def test_every_declared_approach_has_a_trainer():
    assert list(approaches.APPROACHES) == list(approaches.SUPPORTED_KINDS) == [
        "get_variable", "variable_scope", "tf_layers", "tf_slim", "keras_fit", "keras_loop",
        "l2_loss",
    ]
    assert approaches.SUPPORTED_KINDS["l2_loss"] == ("l2",)
    assert approaches.CONVENTION == "slim"


def test_run_follows_the_data_and_compares_without_error():
    run = approaches.make_run("keras_loop", 0.0, 1, dataset="toy2d")
    assert [w.shape for w in run.weights] == [(2, 200), (200,), (200, 200), (200,), (200, 2), (2,)]
    batches = list(run.batches(0))
    x_epoch, _ = run.epoch_arrays(0)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x_epoch)
    other = approaches.make_run("keras_loop", 0.0, 1, dataset="toy2d")
    assert run == run and run != other  # no "truth value of an array is ambiguous"
    again = approaches.make_run(**run.settings()).settings()
    assert again == run.settings()  # exact: the same values passed through
    with pytest.raises(InvalidParameterError, match="weights must have the shapes"):
        run.with_weights(run.weights[:2])


def _numpy_data_loss(weights, x, y):
    z = easynet.logits_float64(weights, x)
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def _biased_run(name, lam, kind="l2"):
    """A tiny run whose start biases are not zero (a trainer that ignores them disagrees)."""
    run = approaches.make_run(name, lam, 1, kind=kind, **TINY)
    rng = np.random.default_rng(7)
    weights = [w if w.ndim == 2 else rng.normal(0.0, 0.5, w.shape).astype(np.float32)
               for w in run.weights]
    return run.with_weights(weights)


LAM = 0.05
#: Every trainer; tf_layers starts a process of its own (5 s): left out of the fast loop.
TRAINERS = [pytest.param(name, marks=pytest.mark.slow) if name == "tf_layers" else name
            for name in approaches.APPROACHES]


@functools.cache
def _biased_result(name):
    return approaches.APPROACHES[name](_biased_run(name, LAM))


@pytest.mark.parametrize("name", TRAINERS)
def test_every_trainer_starts_at_the_given_weights_and_convention(name):
    lam = LAM
    run = _biased_run(name, lam)
    assert any(b.any() for b in run.weights[1::2])
    xb, yb = next(run.batches(0))
    data_loss0 = _numpy_data_loss(run.weights, xb, yb)
    result = _biased_result(name)
    assert (result.kind, result.lam, result.convention) == ("l2", lam, "slim")  # exact: copied
    expected = sum(slim_l2(k, lam) for k in run.weights[0::2])
    # the penalty is most of the step-0 loss: Keras' l2(lam), twice this, would be far off
    assert expected > 3 * data_loss0
    assert result.step0_total_loss - data_loss0 == pytest.approx(expected, abs=2e-5)
    assert result.final_penalty == pytest.approx(
        sum(slim_l2(k, lam) for k in result.kernels), rel=1e-5)


@pytest.mark.parametrize("name", TRAINERS)
def test_every_trainer_agrees_with_get_variable_from_nonzero_biases(name):
    reference, result = _biased_result("get_variable"), _biased_result(name)
    assert result.approach == name
    assert result.step0_total_loss == pytest.approx(reference.step0_total_loss, abs=1e-5)
    assert result.final_data_loss == pytest.approx(reference.final_data_loss, abs=1e-5)
    assert result.final_penalty == pytest.approx(reference.final_penalty, abs=1e-4)
    assert result.predicted_class_counts == reference.predicted_class_counts
    for got, want in zip(result.weights, reference.weights, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)
    # the biases moved from their non-zero start the same way in every API
    assert not np.allclose(result.weights[1], _biased_run(name, LAM).weights[1], atol=1e-4)


@pytest.mark.parametrize("name", [n for n, kinds in approaches.SUPPORTED_KINDS.items()
                                  if "l1" in kinds and n != "tf_layers"])
def test_l1_step0_penalty_is_slim_l1(name):
    lam = 0.01
    run = _biased_run(name, lam, kind="l1")
    result = approaches.APPROACHES[name](run)
    xb, yb = next(run.batches(0))
    expected = sum(slim_l1(k, lam) for k in run.weights[0::2])
    assert (result.kind, result.convention) == ("l1", "slim")
    assert result.step0_total_loss - _numpy_data_loss(run.weights, xb, yb) == pytest.approx(
        expected, abs=2e-5)
    assert result.final_penalty == pytest.approx(
        sum(slim_l1(k, lam) for k in result.kernels), rel=1e-5)


@pytest.fixture(scope="module")
def tiny_l2():
    lam = 0.05
    seen = []
    results = {name: approaches.train(name, lam, 2, **TINY) for name in ("get_variable", "keras_fit")}
    results["keras_loop"] = approaches.train(
        "keras_loop", lam, 2, **TINY, on_epoch=lambda *a: seen.append(a))
    return lam, results, seen


def test_tiny_runs_agree_and_follow_the_convention(tiny_l2):
    lam, results, seen = tiny_l2
    reference = results["keras_loop"]
    for name, result in results.items():
        assert result.approach == name and result.epochs == 2
        assert result.step0_total_loss == pytest.approx(reference.step0_total_loss, abs=1e-5)
        assert result.final_data_loss == pytest.approx(reference.final_data_loss, abs=1e-4)
        assert result.test_accuracy == pytest.approx(reference.test_accuracy, abs=0.02)
        assert len(result.data_loss_curve) == len(result.penalty_curve) == 2
        assert sum(result.predicted_class_counts) == 100
        assert len(result.predicted_class_counts) == 2
        # the penalty each API reports is the thread's lam * sum(k**2) / 2 of its final kernels
        assert result.final_penalty == pytest.approx(
            sum(slim_l2(k, lam) for k in result.kernels), rel=1e-5)
        assert [k.shape for k in result.kernels] == [(2, 200), (200, 200), (200, 2)]
    assert [epoch for epoch, _, _ in seen] == [1, 2]
    assert "weights" not in reference.to_dict()


def test_results_compare_with_eq(tiny_l2):
    _, results, _ = tiny_l2
    a = results["keras_loop"]
    same = approaches.SweepResult(**a.to_dict(), weights=[w.copy() for w in a.weights])
    assert a == same  # no ValueError from the arrays inside
    moved = [w + 1 for w in a.weights]
    assert a != approaches.SweepResult(**a.to_dict(), weights=moved)
    assert a != results["keras_fit"]


@pytest.mark.slow
def test_tf_layers_runs_in_its_own_process(tiny_l2):
    lam, results, _ = tiny_l2
    seen = []
    result = approaches.train("tf_layers", lam, 2, **TINY, on_epoch=lambda *a: seen.append(a))
    assert [epoch for epoch, _, _ in seen] == [1, 2]
    assert result.step0_total_loss == pytest.approx(results["get_variable"].step0_total_loss, abs=1e-5)
    assert result.final_penalty == pytest.approx(
        sum(slim_l2(k, lam) for k in result.kernels), rel=1e-5)
    assert [w.shape for w in result.weights] == [w.shape for w in results["get_variable"].weights]


def test_source_shows_the_code_that_runs():
    shown = approaches.source("get_variable")
    assert shown.data == inspect.getsource(approaches.get_variable)
    assert shown.data.startswith("def get_variable(run: Run)")
    assert "tf.compat.v1.get_variable(" in shown.data  # plain `tf`, as a student writes it
    assert 'class="highlight"' in shown._repr_html_()
    # any reglab function, not only a trainer
    assert approaches.source(shared.tf1_train).data.startswith("def tf1_train(")
    assert "def make_run(" in approaches.source(approaches.make_run).data


@pytest.mark.parametrize("function", [inspect.getsource, len])
def test_source_is_only_for_reglab_functions(function):
    with pytest.raises(InvalidParameterError, match="function must be an approach's name or a Python "
                       "function of reglab"):
        approaches.source(function)
