"""Auto-checks for the exercises: a short confirmation on success, a clear message on failure.

An exercise cell leaves ``answer = None`` for the student; the check cell then prints that the
exercise is still open instead of failing, so the notebook runs top to bottom either way::

    reglab.checks.check_close("ex1: keras l2 of w", answer, expected)

* ``answer is None``  -> prints ``[ ] ex1: ... not answered yet`` (and the hint)
* right answer        -> prints ``[x] ex1: ... correct``
* wrong answer        -> raises ``ExerciseFailed`` (an ``AssertionError``) saying what was
  expected, what was given, and the hint

When the environment variable ``REGLAB_CHECK_LOG`` names a file, every check also appends one
JSON line ``{"exercise": ..., "status": "correct" | "open" | "wrong", "message": ...}`` to it:
that is how ``python3 tasks.py check`` (``reglab.classroom.grading``) learns the result of each exercise
without reading printed text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from reglab.params import Anything, Array, Function, InvalidParameterError, Real, Text, validated

#: The environment variable naming the file that checks append their results to.
LOG_VARIABLE = "REGLAB_CHECK_LOG"


class ExerciseFailed(AssertionError):
    """An exercise answer was checked and is wrong."""


def _record(exercise: str, status: str, message: str = "") -> None:
    """Append the result to the file named by ``REGLAB_CHECK_LOG``, if that is set."""
    path = os.environ.get(LOG_VARIABLE)
    if path:
        line = json.dumps({"exercise": exercise, "status": status, "message": message})
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def _open(exercise: str, hint: str) -> None:
    _record(exercise, "open")
    print(f"[ ] {exercise}: not answered yet." + (f" Hint: {hint}" if hint else ""))


def _done(exercise: str) -> None:
    _record(exercise, "correct")
    print(f"[x] {exercise}: correct.")


def _wrong(exercise: str, message: str) -> ExerciseFailed:
    """Record a wrong answer and return the exception to raise."""
    _record(exercise, "wrong", message)
    return ExerciseFailed(message)


_ANY_ARRAY = Array(finite=False)


@validated(exercise=Text(), answer=Anything(), expected=_ANY_ARRAY, rtol=Real(0.0), atol=Real(0.0),
           hint=Text(empty=True))
def check_close(
    exercise: str,
    answer: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """Check that ``answer`` equals ``expected`` within ``|a - e| <= atol + rtol * |e|``.

    Works for scalars and arrays (shapes must match).  ``None`` means not answered yet.
    """
    if answer is None:
        return _open(exercise, hint)
    expected_arr = expected
    try:
        answer_arr = _ANY_ARRAY.check("answer", answer)
    except InvalidParameterError as err:
        raise _wrong(exercise, f"{exercise}: the answer must be a number or an array ({err})") from None
    if answer_arr.shape != expected_arr.shape:
        raise _wrong(
            exercise,
            f"{exercise}: expected shape {expected_arr.shape}, got {answer_arr.shape}."
            + (f" Hint: {hint}" if hint else "")
        )
    if not np.allclose(answer_arr, expected_arr, rtol=rtol, atol=atol):
        shown = lambda a: f"{float(a):.6g}" if a.ndim == 0 else f"array with sum {a.sum():.6g}"  # noqa: E731
        ratio = ""
        if expected_arr.ndim == 0 and float(expected_arr) != 0:
            ratio = f" (ratio answer/expected = {float(answer_arr) / float(expected_arr):.4g})"
        raise _wrong(
            exercise,
            f"{exercise}: expected {shown(expected_arr)}, got {shown(answer_arr)}{ratio}."
            + (f" Hint: {hint}" if hint else "")
        )
    return _done(exercise)


@validated(exercise=Text(), answer=Anything(), expected=Anything(), hint=Text(empty=True))
def check_equal(exercise: str, answer: Any, expected: Any, *, hint: str = "") -> None:
    """Check that ``answer == expected`` exactly (strings, ints, tuples, sets, lists)."""
    if answer is None:
        return _open(exercise, hint)
    if answer != expected:
        raise _wrong(
            exercise,
            f"{exercise}: expected {expected!r}, got {answer!r}." + (f" Hint: {hint}" if hint else "")
        )
    return _done(exercise)


@validated(exercise=Text(), answer=Anything(), predicate=Function(), requirement=Text(),
           hint=Text(empty=True))
def check_that(
    exercise: str,
    answer: Any,
    predicate: Callable[[Any], bool],
    *,
    requirement: str,
    hint: str = "",
) -> None:
    """Check that ``predicate(answer)`` holds; ``requirement`` says in words what it demands."""
    if answer is None:
        return _open(exercise, hint)
    try:
        holds = bool(predicate(answer))
    except Exception as err:  # the answer is of a kind the condition cannot even test
        raise _wrong(
            exercise,
            f"{exercise}: {requirement} cannot be tested on your answer "
            f"({type(err).__name__}: {err})." + (f" Hint: {hint}" if hint else ""),
        ) from None
    if not holds:
        raise _wrong(
            exercise,
            f"{exercise}: {requirement} does not hold for your answer."
            + (f" Hint: {hint}" if hint else "")
        )
    return _done(exercise)
