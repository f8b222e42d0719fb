"""The one error type of bad arguments: both a ValueError and a TypeError, naming the argument."""

import pytest

from reglab import _validate, plots
from reglab._validate import InvalidParameterError


def test_invalid_parameter_error_is_both_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize("call, message", [
    (lambda: _validate.check_scale("lam", "big"), "lam must be a real number"),
    (lambda: _validate.check_scale("lam", -1.0), "lam must be >= 0"),
    (lambda: _validate.check_int("steps", 1.5), "steps must be an integer"),
    (lambda: _validate.check_int("steps", 0, minimum=1), "steps must be >= 1"),
    (lambda: _validate.check_fraction("p", 1.0), "p must be strictly between 0 and 1"),
    (lambda: _validate.check_choice("penalty", "l3", ("l1", "l2")), "penalty must be one of 'l1', 'l2'"),
    (lambda: _validate.check_array("x", "abc"), "x must be an array of numbers"),
    (lambda: plots.plot_loss_and_penalty({}), "curves must be a non-empty mapping .* got an empty dict"),
    (lambda: plots.plot_weight_histograms([1, 2]), "weights must be a non-empty mapping .* got list"),
])
def test_every_check_raises_the_one_error_naming_the_argument(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()
