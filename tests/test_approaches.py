"""reglab.approaches: argument checks, and tiny runs that agree across APIs (toy2d, 1-2 epochs)."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from reglab import approaches, data, penalties
from reglab._validate import InvalidParameterError
from reglab.penalties import slim_l1, slim_l2

TINY = {"dataset": "toy2d", "batch_size": 50}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"approach": "nope"}, "approach"),
        ({"approach": 3}, "approach"),
        ({"lam": -1.0}, "lam"),
        ({"lam": math.nan}, "lam"),
        ({"lam": math.inf}, "lam"),
        ({"lam": "0.1"}, "lam"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"dataset": "cifar"}, "dataset"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"seed": -1}, "seed"),
        ({"penalty": "l3"}, "penalty"),
        ({"penalty": "none"}, "penalty"),
        ({"approach": "l2_loss", "penalty": "l1"}, "penalty"),
        ({"on_epoch": 3}, "on_epoch"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    settings = {"approach": "keras_loop", "lam": 0.1, "epochs": 1, **TINY, **kwargs}
    with pytest.raises(InvalidParameterError, match=name):
        approaches.train(**settings)


def test_empty_test_set_is_refused_not_nan(monkeypatch):
    full = data.load_dataset("toy2d")
    empty = data.Split(full.x_train, full.y_train, full.x_test[:0], full.y_test[:0])
    monkeypatch.setattr(approaches, "_load", lambda dataset: empty)
    with pytest.raises(InvalidParameterError, match="0 test examples"):
        approaches.make_run("keras_loop", 0.1, 1, dataset="toy2d")


def test_registry_penalties_and_convention():
    assert list(approaches.APPROACHES) == [
        "get_variable", "variable_scope", "tf_layers", "tf_slim", "keras_fit", "keras_loop",
        "l2_loss",
    ]
    # one tuple of penalty kinds: reglab.penalties', without "none" (lam=0 here)
    assert approaches.PENALTIES == tuple(p for p in penalties.PENALTIES if p != "none")
    assert set(approaches.PENALTIES) == {"l1", "l2"}
    assert approaches.SUPPORTED_PENALTIES["l2_loss"] == ("l2",)
    assert approaches.SUPPORTED_PENALTIES["keras_loop"] is approaches.PENALTIES
    # lam is slim's: the convention names the formula in reglab.penalties
    w = np.arange(6.0).reshape(2, 3)
    assert penalties.penalty(approaches.CONVENTION["l2"], w, 0.5) == pytest.approx(slim_l2(w, 0.5))
    keras_half = penalties.keras_l2(w, 0.25)
    assert penalties.penalty(approaches.CONVENTION["l2"], w, 0.5) == pytest.approx(keras_half)
    assert penalties.penalty(approaches.CONVENTION["l1"], w, 0.5) == pytest.approx(slim_l1(w, 0.5))
    assert "lam * sum(k**2) / 2" in approaches.train.__doc__
    assert inspect.signature(approaches.train).parameters == inspect.signature(
        approaches.make_run).parameters


def test_run_follows_the_data_and_compares_without_error():
    run = approaches.make_run("keras_loop", 0.0, 1, dataset="toy2d")
    assert [w.shape for w in run.weights] == [(2, 200), (200,), (200, 200), (200,), (200, 2), (2,)]
    batches = list(run.batches(0))
    x_epoch, _ = run.epoch_arrays(0)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x_epoch)
    other = approaches.make_run("keras_loop", 0.0, 1, dataset="toy2d")
    assert run == run and run != other  # no "truth value of an array is ambiguous"
    assert approaches.make_run(**run.settings()).settings() == run.settings()
    with pytest.raises(InvalidParameterError, match="weights must have the shapes"):
        run.with_weights(run.weights[:2])


def _numpy_logits(weights, x):
    h = x.astype(np.float64)
    for i in range(0, len(weights), 2):
        h = h @ weights[i].astype(np.float64) + weights[i + 1]
        if i < len(weights) - 2:
            h = np.tanh(h)
    return h


def _numpy_data_loss(weights, x, y):
    z = _numpy_logits(weights, x)
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def _biased_run(name, lam, penalty="l2"):
    """A tiny run whose start biases are not zero (a trainer that ignores them disagrees)."""
    run = approaches.make_run(name, lam, 1, penalty=penalty, **TINY)
    rng = np.random.default_rng(7)
    weights = [w if w.ndim == 2 else rng.normal(0.0, 0.5, w.shape).astype(np.float32)
               for w in run.weights]
    return run.with_weights(weights)


@pytest.fixture(scope="module")
def biased_l2():
    lam = 0.05
    return lam, {name: approaches.APPROACHES[name](_biased_run(name, lam))
                 for name in approaches.APPROACHES}


@pytest.mark.parametrize("name", list(approaches.APPROACHES))
def test_every_trainer_starts_at_the_given_weights_and_convention(biased_l2, name):
    lam, results = biased_l2
    run = _biased_run(name, lam)
    assert any(b.any() for b in run.weights[1::2])
    xb, yb = next(run.batches(0))
    data_loss0 = _numpy_data_loss(run.weights, xb, yb)
    result = results[name]
    assert result.convention == "tf_slim.l2_regularizer"
    expected = sum(penalties.penalty(result.convention, k, lam) for k in run.weights[0::2])
    assert expected == pytest.approx(sum(slim_l2(k, lam) for k in run.weights[0::2]))
    # the penalty is most of the step-0 loss: Keras' l2(lam), twice this, would be far off
    assert expected > 3 * data_loss0
    assert result.step0_total_loss - data_loss0 == pytest.approx(expected, abs=2e-5)
    assert result.final_penalty == pytest.approx(
        sum(penalties.penalty(result.convention, k, lam) for k in result.kernels), rel=1e-5)


def test_all_seven_agree_from_nonzero_biases(biased_l2):
    _, results = biased_l2
    reference = results["get_variable"]
    for name, result in results.items():
        assert result.approach == name
        assert result.step0_total_loss == pytest.approx(reference.step0_total_loss, abs=1e-5)
        assert result.final_data_loss == pytest.approx(reference.final_data_loss, abs=1e-5)
        assert result.final_penalty == pytest.approx(reference.final_penalty, abs=1e-4)
        assert result.predicted_class_counts == reference.predicted_class_counts
        for got, want in zip(result.weights, reference.weights, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)
        # the biases moved from their non-zero start the same way in every API
        assert not np.allclose(result.weights[1], _biased_run(name, 0.05).weights[1], atol=1e-4)


@pytest.mark.parametrize("name", [n for n, kinds in approaches.SUPPORTED_PENALTIES.items()
                                  if "l1" in kinds and n != "tf_layers"])
def test_l1_step0_penalty_is_slim_l1(name):
    lam = 0.01
    run = _biased_run(name, lam, penalty="l1")
    result = approaches.APPROACHES[name](run)
    xb, yb = next(run.batches(0))
    expected = sum(slim_l1(k, lam) for k in run.weights[0::2])
    assert result.convention == "tf_slim.l1_regularizer"
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
    assert reference.params is reference.weights
    assert reference.train_loss == reference.data_loss_curve


def test_results_compare_with_eq(tiny_l2):
    _, results, _ = tiny_l2
    a = results["keras_loop"]
    same = approaches.SweepResult(**a.to_dict(), weights=[w.copy() for w in a.weights])
    assert a == same  # no ValueError from the arrays inside
    moved = [w + 1 for w in a.weights]
    assert a != approaches.SweepResult(**a.to_dict(), weights=moved)
    assert a != results["keras_fit"]


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
    from reglab import sweep_tf

    shown = approaches.source("get_variable")
    assert isinstance(shown, approaches.SourceCode)
    assert shown.text == inspect.getsource(approaches.get_variable)
    assert repr(shown) == shown.text and shown.text.startswith("def get_variable(run: Run)")
    markdown = shown._repr_markdown_()
    assert markdown.startswith("```python\ndef get_variable(") and markdown.endswith("\n```")
    assert approaches.source(sweep_tf.tf1_train).text.startswith("def tf1_train(")
    # any reglab function, not only a trainer; a fence outgrows the backticks inside the text
    assert approaches.source(approaches.make_run).text.startswith("def make_run(")
    assert approaches.SourceCode("x = '```'\n")._repr_markdown_().startswith("````python\n")


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("nope", "function must be one of"),
        (3, "function must be the name of an approach or a Python function of reglab, got int"),
        (inspect.getsource, "function must be defined in reglab, got getsource from .inspect."),
        (len, "function must be the name of an approach"),
    ],
)
def test_source_names_the_argument(function, message):
    with pytest.raises(InvalidParameterError, match=message):
        approaches.source(function)


def test_source_code_wants_text():
    with pytest.raises(InvalidParameterError, match="text must be a string"):
        approaches.SourceCode(b"def f(): pass")
