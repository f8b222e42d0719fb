"""reglab.approaches: argument checks, and tiny runs that agree across APIs (toy2d, 1-2 epochs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reglab import approaches
from reglab.penalties import slim_l1, slim_l2

TINY = {"dataset": "toy2d", "batch_size": 50}


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"approach": "nope"}, ValueError, "approach"),
        ({"approach": 3}, TypeError, "approach"),
        ({"lam": -1.0}, ValueError, "lam"),
        ({"lam": math.nan}, ValueError, "lam"),
        ({"lam": math.inf}, ValueError, "lam"),
        ({"lam": "0.1"}, TypeError, "lam"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"epochs": True}, TypeError, "epochs"),
        ({"dataset": "cifar"}, ValueError, "dataset"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"seed": -1}, ValueError, "seed"),
        ({"penalty": "l3"}, ValueError, "penalty"),
        ({"approach": "l2_loss", "penalty": "l1"}, ValueError, "penalty"),
        ({"on_epoch": 3}, TypeError, "on_epoch"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    settings = {"approach": "keras_loop", "lam": 0.1, "epochs": 1, **TINY, **kwargs}
    with pytest.raises(error, match=name):
        approaches.train(**settings)


def test_registry_and_supported_penalties():
    assert list(approaches.APPROACHES) == [
        "get_variable", "variable_scope", "tf_layers", "tf_slim", "keras_fit", "keras_loop",
        "l2_loss",
    ]
    assert approaches.SUPPORTED_PENALTIES["l2_loss"] == ("l2",)
    assert approaches.SUPPORTED_PENALTIES["keras_loop"] == ("l2", "l1")


def test_run_follows_the_data():
    run = approaches.make_run("keras_loop", 0.0, 1, dataset="toy2d")
    assert [w.shape for w in run.weights] == [(2, 200), (200,), (200, 200), (200,), (200, 2), (2,)]
    batches = list(run.batches(0))
    x_epoch, _ = run.epoch_arrays(0)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x_epoch)


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
    start = approaches.make_run("keras_loop", lam, 1, **TINY).weights
    expected_step0_penalty = sum(slim_l2(k, lam) for k in start[0::2])
    assert expected_step0_penalty < reference.step0_total_loss
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


def test_l1_penalty_is_slim_l1():
    result = approaches.train("keras_loop", 0.01, 1, penalty="l1", **TINY)
    assert result.penalty == "l1"
    assert result.final_penalty == pytest.approx(
        sum(slim_l1(k, 0.01) for k in result.kernels), rel=1e-5)


def test_tf_layers_runs_in_its_own_process(tiny_l2):
    lam, results, _ = tiny_l2
    seen = []
    result = approaches.train("tf_layers", lam, 2, **TINY, on_epoch=lambda *a: seen.append(a))
    assert [epoch for epoch, _, _ in seen] == [1, 2]
    assert result.step0_total_loss == pytest.approx(results["get_variable"].step0_total_loss, abs=1e-5)
    assert result.final_penalty == pytest.approx(
        sum(slim_l2(k, lam) for k in result.kernels), rel=1e-5)
    assert [w.shape for w in result.weights] == [w.shape for w in results["get_variable"].weights]
