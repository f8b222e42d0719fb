"""Arguments declared once, checked once, at the public entry; one error type.

Every public ``reglab`` function or method that takes arguments from a user declares what it
accepts with ``@validated(name=Constraint, ...)``.  The decorator checks (and converts) the
arguments a caller passes, before the body runs; defaults are trusted, and internal calls
between ``reglab`` functions are not checked again.  A bad argument raises
``InvalidParameterError``, whose message names the argument, what is allowed and what came:

    >>> load_dataset("mnist-subset")
    InvalidParameterError: name must be one of 'mnist_subset', 'digits', 'toy2d', 'mnist'; got 'mnist-subset'

Like scikit-learn's ``InvalidParameterError`` (the model for this module, with its
``_param_validation.py``), the error is both a ``ValueError`` and a ``TypeError``: the line
between "wrong kind" and "wrong value" is often a matter of taste, and a caller that catches
either one is never surprised.

Each constraint knows a valid example and the invalid ones it refuses, so the tests of every
declared entry are generated from the declarations (``tests/test_params.py``); ``DECLARED``
lists the entries.  A check that spans several arguments (``test_size`` smaller than the
dataset) stays in the function's body and raises the same error.

Size: one short class per kind of argument (about 30 lines each, with its examples for the
generated tests); they are one vocabulary and are read together, so they stay in one file.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

#: Every function declared with ``@validated``, in import order (for the generated tests).
DECLARED: list[Callable[..., Any]] = []

#: True while a declared function runs: the declared functions it calls trust their arguments
#: (scikit-learn's ``prefer_skip_nested_validation``), so every argument is checked once.
_INSIDE = contextvars.ContextVar("reglab_validating", default=False)


class InvalidParameterError(ValueError, TypeError):
    """A public function was called with an argument it does not accept (names the argument)."""


class _Refused(Exception):
    """Raised by a constraint's ``_convert``; ``check`` turns it into the public error."""


class Constraint:
    """What one argument accepts: ``allowed`` in words, a valid ``example``, ``invalid`` ones."""

    allowed = "anything"

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` converted (``float``, ``int``, array, ``Path``), or raise."""
        try:
            return self._convert(value)
        except _Refused as refusal:
            detail = f" ({refusal})" if str(refusal) else ""
            raise InvalidParameterError(
                f"{name} must be {self.allowed}; got {_shown(value)}{detail}"
            ) from None

    def _convert(self, value: Any) -> Any:
        return value

    def example(self) -> Any:
        """A value the constraint accepts (``NotImplemented`` where none can be made)."""
        return NotImplemented

    def invalid(self) -> tuple[Any, ...]:
        """Values the constraint refuses."""
        return ()


def _shown(value: Any) -> str:
    """What came, in one short line: an array by its shape and dtype, anything else by its repr."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = " ".join(repr(value).split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


class Anything(Constraint):
    """Any value: declared so that the argument is listed, not checked."""

    def example(self) -> Any:
        return None


class Integer(Constraint):
    """An integer (not a bool) in ``[minimum, maximum]``; returns an ``int``."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        bounds = [f">= {minimum}"] * (minimum is not None) + [f"<= {maximum}"] * (maximum is not None)
        self.allowed = "an integer" + (" " + " and ".join(bounds) if bounds else "")

    def _convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _Refused()
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise _Refused()
        return int(value)

    def example(self) -> int:
        return self.minimum if self.minimum is not None else min(0, self.maximum or 0)

    def invalid(self) -> tuple[Any, ...]:
        bad: list[Any] = ["3", True, 1.5]
        if self.minimum is not None:
            bad.append(self.minimum - 1)
        if self.maximum is not None:
            bad.append(self.maximum + 1)
        return tuple(bad)


class Real(Constraint):
    """A finite real number (not a bool) in a range; returns a ``float``.

    ``minimum``/``maximum`` are inclusive unless ``open_minimum``/``open_maximum``.
    """

    def __init__(self, minimum: float | None = None, maximum: float | None = None, *,
                 open_minimum: bool = False, open_maximum: bool = False) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.open_minimum, self.open_maximum = open_minimum, open_maximum
        bounds = []
        if minimum is not None:
            bounds.append(f"{'>' if open_minimum else '>='} {minimum:g}")
        if maximum is not None:
            bounds.append(f"{'<' if open_maximum else '<='} {maximum:g}")
        self.allowed = "a finite real number" + (" " + " and ".join(bounds) if bounds else "")

    def _convert(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _Refused()
        value = float(value)
        if not math.isfinite(value):
            raise _Refused()
        low, high = self.minimum, self.maximum
        if low is not None and (value < low or (self.open_minimum and value == low)):
            raise _Refused()
        if high is not None and (value > high or (self.open_maximum and value == high)):
            raise _Refused()
        return value

    def example(self) -> float:
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return (low + high) / 2
        if low is not None:
            return low + 1.0 if self.open_minimum else float(low)
        if high is not None:
            return high - 1.0 if self.open_maximum else float(high)
        return 0.0

    def invalid(self) -> tuple[Any, ...]:
        bad: list[Any] = ["0.1", True, float("nan"), float("inf")]
        if self.minimum is not None:
            bad.append(self.minimum - 1.0 if not self.open_minimum else self.minimum)
        if self.maximum is not None:
            bad.append(self.maximum + 1.0 if not self.open_maximum else self.maximum)
        return tuple(bad)


class Options(Constraint):
    """One of the given values (strings, as a rule)."""

    def __init__(self, *values: Any) -> None:
        if not values:
            raise ValueError("Options needs at least one value")
        self.values = tuple(values)
        self.allowed = "one of " + ", ".join(map(repr, self.values))

    def _convert(self, value: Any) -> Any:
        try:
            if value in self.values and not isinstance(value, bool):
                return value
        except TypeError:  # unhashable or uncomparable
            pass
        raise _Refused()

    def example(self) -> Any:
        return self.values[0]

    def invalid(self) -> tuple[Any, ...]:
        return ("no-such-option", 3, None)


class Boolean(Constraint):
    """``True`` or ``False`` (not 0/1, not a string)."""

    allowed = "True or False"

    def _convert(self, value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise _Refused()
        return bool(value)

    def example(self) -> bool:
        return False

    def invalid(self) -> tuple[Any, ...]:
        return (1, "yes", None)


class Text(Constraint):
    """A string, non-empty unless ``empty=True``."""

    def __init__(self, *, empty: bool = False) -> None:
        self.empty = empty
        self.allowed = "a string" if empty else "a non-empty string"

    def _convert(self, value: Any) -> str:
        if not isinstance(value, str) or (not self.empty and not value.strip()):
            raise _Refused()
        return value

    def example(self) -> str:
        return "x"

    def invalid(self) -> tuple[Any, ...]:
        return (3, None) if self.empty else (3, None, "")


class PathLike(Constraint):
    """A ``str`` or ``os.PathLike`` path; returns a ``pathlib.Path``.  Existence is the body's."""

    allowed = "a path (str or pathlib.Path)"

    def _convert(self, value: Any) -> Path:
        if isinstance(value, bool) or not isinstance(value, (str, Path)) or value == "":
            raise _Refused()
        return Path(value)

    def example(self) -> Path:
        return Path("does-not-exist")

    def invalid(self) -> tuple[Any, ...]:
        return (3, None, b"bytes")


class Function(Constraint):
    """A callable."""

    allowed = "a callable"

    def _convert(self, value: Any) -> Any:
        if not callable(value):
            raise _Refused()
        return value

    def example(self) -> Any:
        return print

    def invalid(self) -> tuple[Any, ...]:
        return (3, "f")


class InstanceOf(Constraint):
    """An instance of a class, named ``"module:Class"`` (imported only when a check runs).

    ``example`` makes a valid instance for the generated tests (none if omitted).
    """

    def __init__(self, target: str, *, example: Callable[[], Any] | None = None) -> None:
        self.target, self._example = target, example
        self.allowed = f"a {target.split(':')[1]} ({target.replace(':', '.')})"

    def _convert(self, value: Any) -> Any:
        module, _, name = self.target.partition(":")
        if not isinstance(value, getattr(importlib.import_module(module), name)):
            raise _Refused()
        return value

    def example(self) -> Any:
        return NotImplemented if self._example is None else self._example()

    def invalid(self) -> tuple[Any, ...]:
        return (3, "x")


class Array(Constraint):
    """An array of real numbers (NumPy array, nested lists, or anything with ``.numpy()``).

    Returns a float64 NumPy array; ``ndim`` restricts the rank, ``finite`` refuses NaN and inf.
    """

    def __init__(self, *, ndim: int | tuple[int, ...] | None = None, finite: bool = True) -> None:
        self.ndim = (ndim,) if isinstance(ndim, int) else ndim
        self.finite = finite
        rank = f" with {' or '.join(map(str, self.ndim))} dimension(s)" if self.ndim else ""
        self.allowed = f"an array of {'finite ' if finite else ''}real numbers{rank}"

    def _convert(self, value: Any) -> np.ndarray:
        if hasattr(value, "numpy") and callable(value.numpy):
            value = value.numpy()
        if isinstance(value, (str, bytes)) or value is None:
            raise _Refused()
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as err:
            raise _Refused(str(err)) from None
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise _Refused(f"dtype {array.dtype}")
        if np.issubdtype(array.dtype, np.complexfloating):
            raise _Refused(f"dtype {array.dtype}")
        if self.ndim is not None and array.ndim not in self.ndim:
            raise _Refused(f"shape {array.shape}")
        array = array.astype(np.float64)
        if self.finite and not np.all(np.isfinite(array)):
            raise _Refused("NaN or inf inside")
        return array

    def example(self) -> np.ndarray:
        return np.ones((2,) * (self.ndim[0] if self.ndim else 1))

    def invalid(self) -> tuple[Any, ...]:
        bad: list[Any] = ["text", None, np.array(["a"])]
        if self.finite:
            bad.append(np.full((1,) * (self.ndim[0] if self.ndim else 1), np.nan))
        if self.ndim is not None:
            bad.append(np.ones((1,) * (max(self.ndim) + 1)))
        return tuple(bad)


class NoneOr(Constraint):
    """``None``, or what ``inner`` accepts."""

    def __init__(self, inner: Constraint) -> None:
        self.inner = inner
        self.allowed = f"None or {inner.allowed}"

    def _convert(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.check("", value)
        except InvalidParameterError:
            raise _Refused() from None

    def example(self) -> Any:
        return None

    def invalid(self) -> tuple[Any, ...]:
        return tuple(v for v in self.inner.invalid() if v is not None)


class Either(Constraint):
    """What any one of ``constraints`` accepts (the first that does converts)."""

    def __init__(self, *constraints: Constraint) -> None:
        self.constraints = constraints
        self.allowed = " or ".join(c.allowed for c in constraints)

    def _convert(self, value: Any) -> Any:
        for constraint in self.constraints:
            try:
                return constraint.check("", value)
            except InvalidParameterError:
                continue
        raise _Refused()

    def example(self) -> Any:
        return self.constraints[0].example()

    def invalid(self) -> tuple[Any, ...]:
        return tuple(v for c in self.constraints for v in c.invalid()
                     if not any(_accepts(other, v) for other in self.constraints))


class ListOf(Constraint):
    """A list or tuple of at least ``min_length`` items, each accepted by ``item``; returns a list."""

    def __init__(self, item: Constraint, *, min_length: int = 0) -> None:
        self.item, self.min_length = item, min_length
        least = f"at least {min_length} " if min_length else ""
        self.allowed = f"a list of {least}items, each {item.allowed}"

    def _convert(self, value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)) or len(value) < self.min_length:
            raise _Refused()
        converted = []
        for index, item in enumerate(value):
            try:
                converted.append(self.item.check("", item))
            except InvalidParameterError:
                raise _Refused(f"item {index} is {_shown(item)}") from None
        return converted

    def example(self) -> list[Any]:
        return [self.item.example()] * max(self.min_length, 1)

    def invalid(self) -> tuple[Any, ...]:
        bad: list[Any] = [3, "ab"]
        if self.item.invalid():
            bad.append([self.item.invalid()[0]] * max(self.min_length, 1))
        if self.min_length:
            bad.append([])
        return tuple(bad)


class MappingOf(Constraint):
    """A non-empty mapping (``dict``) whose values ``value`` accepts; returns a ``dict``."""

    def __init__(self, value: Constraint) -> None:
        self.value = value
        self.allowed = f"a non-empty mapping of label -> {value.allowed}"

    def _convert(self, mapping: Any) -> dict[Any, Any]:
        if not isinstance(mapping, Mapping) or not mapping:
            raise _Refused()
        converted = {}
        for key, item in mapping.items():
            try:
                converted[key] = self.value.check("", item)
            except InvalidParameterError:
                raise _Refused(f"the value of {key!r} is {_shown(item)}") from None
        return converted

    def example(self) -> dict[str, Any]:
        return {"a": self.value.example()}

    def invalid(self) -> tuple[Any, ...]:
        bad: list[Any] = [{}, [1.0], None]
        if self.value.invalid():
            bad.append({"a": self.value.invalid()[0]})
        return tuple(bad)


def _accepts(constraint: Constraint, value: Any) -> bool:
    try:
        constraint.check("", value)
    except InvalidParameterError:
        return False
    return True


def validated(**constraints: Constraint) -> Callable[[F], F]:
    """Declare what each named argument accepts; check it at every call, before the body.

    Only the arguments a caller passes are checked (defaults are trusted) and each is replaced
    by its converted value (``Integer`` gives ``int``, ``Real`` ``float``, ``Array`` a float64
    array, ``PathLike`` a ``Path``).  A wrong call signature (a missing or unknown argument)
    raises ``InvalidParameterError`` too.  A call made while another declared function runs
    (in the same thread) is not checked again: ``reglab`` trusts its own arguments.  The
    declarations are kept on the function as ``parameter_constraints`` and the function in
    ``DECLARED``.
    """

    def wrap(function: F) -> F:
        signature = inspect.signature(function)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{function.__qualname__} declares unknown arguments {sorted(unknown)}")

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if _INSIDE.get():
                return function(*args, **kwargs)
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                raise InvalidParameterError(f"{function.__qualname__}(): {err}") from None
            for name, constraint in constraints.items():
                if name in bound.arguments:
                    bound.arguments[name] = constraint.check(name, bound.arguments[name])
            token = _INSIDE.set(True)
            try:
                return function(*bound.args, **bound.kwargs)
            finally:
                _INSIDE.reset(token)

        checked.parameter_constraints = dict(constraints)  # type: ignore[attr-defined]
        DECLARED.append(checked)
        return checked  # type: ignore[return-value]

    return wrap
