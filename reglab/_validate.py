"""Argument checks shared by the public functions: clear errors that name the argument.

Every public ``reglab`` function validates its input with these helpers, so a bad call fails
with an ``InvalidParameterError`` whose message names the argument and what is allowed, in the
style of scikit-learn. Like scikit-learn's, the error is both a ``ValueError`` and a
``TypeError``: the line between "wrong kind" and "wrong value" is often a matter of taste (is
a list of one layer size the wrong kind of sizes, or a wrong value?), and a caller that
catches either one is never surprised.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A public function was called with an argument it does not accept (names the argument)."""


def check_scale(name: str, value: Any, *, allow_zero: bool = True) -> float:
    """Return ``value`` as a float if it is a finite real number >= 0 (> 0 if not ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"{name} must be a real number, got {type(value).__name__} {value!r}"
        )
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name} must be {bound}, got {value!r}")
    return value


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidParameterError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    """Return ``value`` if it is a real number strictly between 0 and 1."""
    value = check_scale(name, value)
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of the strings in ``allowed``."""
    allowed = tuple(allowed)
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"{name} must be a string, one of {', '.join(map(repr, allowed))}; "
            f"got {type(value).__name__} {value!r}"
        )
    if value not in allowed:
        raise InvalidParameterError(
            f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        )
    return value


def check_array(
    name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None, finite: bool = True
) -> np.ndarray:
    """Return ``value`` as a float64 NumPy array after checking its type, rank and values.

    Accepts NumPy arrays, nested lists of numbers and anything with a ``numpy()`` method
    (TensorFlow tensors and variables).
    """
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    if isinstance(value, (str, bytes)) or value is None:
        raise InvalidParameterError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"{name} must be an array of numbers: {err}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise InvalidParameterError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise InvalidParameterError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise InvalidParameterError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                f"got shape {array.shape}"
            )
    array = array.astype(np.float64)
    if finite and not np.all(np.isfinite(array)):
        raise InvalidParameterError(f"{name} must hold finite numbers (no NaN or inf)")
    return array
