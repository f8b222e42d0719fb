"""Bad arguments, generated from the declarations: every ``@validated`` entry of ``reglab``.

For each declared function or method and each declared argument, every value its constraint
refuses (``Constraint.invalid()``) is passed with the other required arguments at valid examples;
the call must raise ``InvalidParameterError`` naming that argument and what it allows, before
the body runs (methods are called with a bare ``object()`` as ``self``: the check comes first).
Cross-argument rules, which no declaration can hold, are tested beside their modules.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import reglab
from reglab import params
from reglab.params import InvalidParameterError


def _import_everything() -> list[Callable[..., Any]]:
    for module in pkgutil.walk_packages(reglab.__path__, "reglab."):
        if module.name != "reglab.sweep.worker":  # sets TF_USE_LEGACY_KERAS when imported
            importlib.import_module(module.name)
    return list(params.DECLARED)


DECLARED = _import_everything()


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _arguments(function: Callable[..., Any], testing: str | None = None) -> tuple[list[Any], dict[str, Any]]:
    """``self`` (if a method) and the required arguments at valid examples.

    A required argument whose constraint has no example is passed as None; that is an error only
    when another argument is the one under test (its check would come first or second by chance).
    """
    declared = function.parameter_constraints
    signature = inspect.signature(function)
    head, values = [], {}
    for name, parameter in signature.parameters.items():
        if name == "self":
            head.append(object())
        elif parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        elif parameter.default is parameter.empty:
            example = declared[name].example() if name in declared else None
            if example is NotImplemented and testing not in (None, name):
                raise AssertionError(f"{_name(function)}: required argument {name} needs an example")
            values[name] = None if example is NotImplemented else example
    return head, values


CASES = [
    pytest.param(function, name, value, id=f"{_name(function)}-{name}-{i}")
    for function in DECLARED
    for name, constraint in function.parameter_constraints.items()
    for i, value in enumerate(constraint.invalid())
]


def test_every_module_declares_something():
    assert len(DECLARED) >= 40, len(DECLARED)  # the generator below sees the whole package


@pytest.mark.parametrize(("function", "argument", "value"), CASES)
def test_a_refused_value_raises_the_one_error_naming_the_argument(function, argument, value):
    constraint = function.parameter_constraints[argument]
    head, values = _arguments(function, argument)
    values[argument] = value
    with pytest.raises(InvalidParameterError) as raised:
        function(*head, **values)
    message = str(raised.value)
    assert message.startswith(f"{argument} must be "), message
    assert constraint.allowed in message, message


@pytest.mark.parametrize("function", DECLARED, ids=_name)
def test_every_example_is_accepted_by_its_constraint(function):
    for name, constraint in function.parameter_constraints.items():
        example = constraint.example()
        if example is not NotImplemented:
            constraint.check(name, example)


def _takes_any_keyword(function) -> bool:  # noqa: ANN001
    """``variant(exercise, **choices)``: every keyword is a choice by design."""
    return any(p.kind is inspect.Parameter.VAR_KEYWORD
               for p in inspect.signature(function).parameters.values())


@pytest.mark.parametrize("function", [f for f in DECLARED if not _takes_any_keyword(f)], ids=_name)
def test_a_wrong_call_signature_raises_the_one_error(function):
    head, values = _arguments(function)
    with pytest.raises(InvalidParameterError, match="unexpected keyword argument 'no_such_argument'"):
        function(*head, **values, no_such_argument=1)


def test_the_error_is_both_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize(("constraint", "value", "converted"), [
    (params.Integer(minimum=0), np.int64(3), 3),
    (params.Real(0.0), 1, 1.0),
    (params.Real(0.0, 1.0, open_minimum=True, open_maximum=True), 0.5, 0.5),
    (params.Either(params.Integer(minimum=1), params.Real(0.0, 1.0, open_maximum=True)), 0.25, 0.25),
    (params.Either(params.Integer(minimum=1), params.Real(0.0, 1.0, open_maximum=True)), 7, 7),
    (params.ListOf(params.Integer(minimum=1), min_length=2), (3, 4), [3, 4]),
    (params.NoneOr(params.Text()), None, None),
    (params.Options("a", "b"), "b", "b"),
])
def test_accepted_values_are_converted(constraint, value, converted):
    got = constraint.check("x", value)
    assert got == converted and type(got) is type(converted)  # exact: converted copies


def test_arrays_are_converted_to_float64():
    got = params.Array(ndim=2).check("w", [[1, 2], [3, 4]])
    assert got.dtype == np.float64 and got.shape == (2, 2)


def test_a_declaration_of_an_unknown_argument_is_refused_at_import():
    with pytest.raises(TypeError, match="unknown arguments"):
        @params.validated(nope=params.Integer())
        def f(x: int) -> int:
            return x


def test_defaults_are_trusted_and_only_passed_arguments_are_checked():
    calls = []

    @params.validated(x=params.Integer(minimum=0))
    def f(x: int = -1) -> int:  # a default outside the range: not checked
        calls.append(x)
        return x

    assert f() == -1 and f(2) == 2 and calls == [-1, 2]
    params.DECLARED.remove(f)


def test_a_declared_function_called_by_another_trusts_its_arguments():
    @params.validated(x=params.Integer(minimum=0))
    def inner(x: int) -> int:
        return x

    @params.validated(x=params.Integer(minimum=0))
    def outer(x: int) -> int:
        return inner(x - 10)  # reglab's own call: not checked again

    assert outer(3) == -7
    with pytest.raises(InvalidParameterError, match="x must be an integer >= 0"):
        inner(-7)  # a user's call is checked
    params.DECLARED.remove(inner)
    params.DECLARED.remove(outer)
