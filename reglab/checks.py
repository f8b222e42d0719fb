"""Exercise checks: feedback for the student, never the answer.

Size: 300+ lines: the answer's encoding (numbers on two grids, exact values, arrays), the
judgement, the hints, the watch on the answer cell and the log are one mechanism.

An exercise cell leaves ``answer = None``; its check cell is one call with the exercise's label::

    reglab.checks.check("Exercise 1: porting l2_loss to Keras", answer)

* ``answer is None``  -> ``[ ] Exercise 1: ...: not answered yet.``
* right               -> ``[x] Exercise 1: ...: correct.``
* wrong               -> ``[!] Exercise 1: ...: not correct yet.`` and a hint that grows with each
  wrong attempt (the first hint, then the second, ...); a known mistake (twice the answer: the
  convention's 1/2) gets its own explanation. The check never raises: Run All goes on.

The check does not hold the answer. It holds, per exercise, **salted slow hashes**
(PBKDF2-HMAC-SHA256, ``ITERATIONS`` rounds) of the answer rounded onto two grids (``commit``),
in ``reglab/feedback.json`` (or the file ``REGLAB_FEEDBACK`` names); an answer is right when
its own rounding hashes to the same value on one grid. A number with relative tolerance
``rtol`` is rounded in ``log|x|`` on cells ``4 * log1p(rtol)`` wide, the second grid shifted by
half a cell: every answer within ``rtol`` of the key is accepted, none beyond about ``4 *
rtol``. With an absolute tolerance ``atol`` (answers that may be zero) the cells are ``4 *
atol`` wide in ``x``. Integers, strings, booleans, sets and sequences are hashed exactly (a set
may be given as a list; ``3.0`` counts as ``3``). Arrays: the shape, then each element as a
number. The file is made from the Solutions by the instructor's tools
(``reglab.classroom.key``).

``check_that(label, answer, predicate, requirement=...)`` checks a property instead (a fixed
model graded by the doctor): ``predicate(answer)`` returns a bool or raises ``Wrong(message)``
to say what is still wrong.

In IPython the check also watches the answer cell: after a cell that assigns ``answer``
raised an error, the check says so instead of judging what ``answer`` held before; an answer
already judged by another exercise's check is not judged again.

When ``REGLAB_CHECK_LOG`` names a file, every check appends one JSON line ``{"exercise",
"status", "message", "answer"}`` (``answer``: the value as JSON when it has one, else
``null``); ``reglab check`` and ``reglab grade`` read it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from reglab.params import Anything, Function, InstanceOf, Integer, Real, Text, validated

#: The environment variable naming the file that checks append their results to.
LOG_VARIABLE = "REGLAB_CHECK_LOG"
#: The environment variable naming the feedback file to use (default: the one in the package);
#: ``tasks.py`` sets it to its own workbook's.
FEEDBACK_VARIABLE = "REGLAB_FEEDBACK"
#: PBKDF2 rounds per hash: about 13 ms on a 2020s core.
ITERATIONS = 50_000
#: The statuses a check logs (``reglab check`` adds ``failed`` for checks that never ran).
STATUSES: tuple[str, ...] = ("correct", "open", "wrong", "failed")
#: Elements an array answer may have (each is hashed twice).
MAX_ELEMENTS = 64


class Wrong(Exception):
    """Raised by a ``check_that`` predicate to say what is still wrong with the answer."""


@dataclass(frozen=True)
class Verdict:
    """The judgement of one answer: a status of ``STATUSES`` and what to tell the student."""

    status: str
    message: str = ""


# ---------------------------------------------------------------------------------------------
# The encoding: an answer -> tokens -> salted slow hashes


def _digest(label: str, part: int, token: str) -> str:
    salt = hashlib.sha256(f"reglab\0{label}\0{part}".encode()).digest()[:16]
    return hashlib.pbkdf2_hmac("sha256", token.encode(), salt, ITERATIONS).hex()[:32]


def _number_tokens(x: float, scale: str, step: float) -> tuple[str, str]:
    """The cell of ``x`` on grid 0 and on grid 1 (shifted by half a cell)."""
    if not math.isfinite(x):
        return (f"nonfinite:{x}",) * 2
    if scale == "absolute":
        return tuple(f"{g}:{math.floor(x / step + g / 2)}" for g in (0, 1))
    if x == 0:  # exact: a zero cannot sit on a log grid
        return ("zero", "zero")
    sign = "+" if x > 0 else "-"
    return tuple(f"{g}:{sign}:{math.floor(math.log(abs(x)) / step + g / 2)}" for g in (0, 1))


def _canonical(value: Any, container: str = "") -> str | None:
    """The exact token of ``value`` (None when it has none)."""
    if isinstance(value, (bool, np.bool_)):
        return f"b:{bool(value)}"
    if isinstance(value, (int, np.integer)):
        return f"n:{int(value)}"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"n:{int(value)}"
    if isinstance(value, str):
        return f"s:{value.strip()}"
    if isinstance(value, (set, frozenset)) or (container == "set" and isinstance(value, (list, tuple))):
        items = [_canonical(v) for v in value]
        if None in items or len(set(items)) != len(items):
            return None
        return "set:" + json.dumps(sorted(items))
    if isinstance(value, (list, tuple)):
        items = [_canonical(v) for v in value]
        return None if None in items else "seq:" + json.dumps(items)
    return None


def _form_of(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return "array"
    if isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return "number"
    return "exact"


@validated(label=Text(), value=Anything(), rtol=Real(0.0, 0.5), atol=Real(0.0))
def commit(label: str, value: Any, *, rtol: float = 1e-5, atol: float = 0.0) -> dict:
    """The hashes by which a check recognizes ``value`` as the answer of ``label``.

    ``rtol`` (relative) or, when ``atol > 0``, ``atol`` (absolute) sets the tolerance of numbers
    and arrays; exact values ignore both. Returns the entry's ``form`` and what it needs.
    """
    form = _form_of(value)
    if form == "exact":
        token = _canonical(value)
        if token is None:
            raise ValueError(f"an answer of type {type(value).__name__} has no exact form")
        container = "set" if isinstance(value, (set, frozenset)) else ""
        return {"form": "exact", "container": container, "digests": [[_digest(label, 0, token)]]}
    scale, step = ("absolute", 4 * atol) if atol > 0 else ("relative", 4 * math.log1p(rtol))
    array = np.asarray(value, dtype=float)
    if array.size > MAX_ELEMENTS:
        raise ValueError(f"an array answer may have at most {MAX_ELEMENTS} elements")
    digests = [[_digest(label, i, t) for t in _number_tokens(float(x), scale, step)]
               for i, x in enumerate(array.reshape(-1))]
    entry = {"form": form, "scale": scale, "step": step, "digests": digests}
    if form == "array":
        entry["shape"] = list(array.shape)
    return entry


def _matches(label: str, entry: dict, answer: Any, digests: list[list[str]]) -> bool:
    """Whether ``answer``, encoded as ``entry`` says, has the hashes ``digests``."""
    if entry["form"] == "exact":
        token = _canonical(answer, entry.get("container", ""))
        return token is not None and _digest(label, 0, token) == digests[0][0]
    values = np.asarray(answer, dtype=float).reshape(-1)
    if len(values) != len(digests) or any(len(pair) != 2 for pair in digests):
        return False  # another form (a known mistake declared as an exact value): not this one
    for grid in (0, 1):
        if all(_digest(label, i, _number_tokens(float(x), entry["scale"], entry["step"])[grid])
               == pair[grid] for i, (x, pair) in enumerate(zip(values, digests, strict=True))):
            return True
    return False


def _shape_problem(entry: dict, answer: Any) -> str | None:
    """Why ``answer`` cannot be compared with the entry's form (None when it can)."""
    if entry["form"] == "exact":
        if _canonical(answer, entry.get("container", "")) is not None:
            return None
        if entry.get("container") == "set" and isinstance(answer, (list, tuple)):
            return "an item is repeated; a set holds each item once"
        return f"an answer of type {type(answer).__name__} cannot be checked here"
    try:
        array = np.asarray(answer, dtype=float)
    except Exception:  # noqa: BLE001 - a model, a symbolic TF1 tensor (run it in a Session first)
        return f"the answer must be a number{' array' if entry['form'] == 'array' else ''}, " \
               f"not {type(answer).__name__}"
    if entry["form"] == "number" and array.size != 1:
        return f"the answer must be one number, not an array of shape {array.shape}"
    if entry["form"] == "array" and list(array.shape) != entry["shape"]:
        return f"the answer must have shape {tuple(entry['shape'])}, not {array.shape}"
    return None


# ---------------------------------------------------------------------------------------------
# The feedback table: the shipped file, and what the Solutions declare in this process


@cache
def _shipped() -> dict[str, dict]:
    chosen = os.environ.get(FEEDBACK_VARIABLE)
    path = Path(chosen) if chosen else resources.files("reglab").joinpath("feedback.json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["exercises"]


_declared: dict[str, dict] = {}
_attempts: dict[str, int] = {}


@validated(label=Text(), entry=InstanceOf("builtins:dict", example=lambda: {"form": "spec", "hints": []}))
def register(label: str, entry: dict) -> None:
    """Use ``entry`` (``commit``'s, plus ``hints`` and ``wrong``) for ``label`` in this process."""
    _declared[label] = entry


@validated(label=Text())
def entry_of(label: str) -> dict | None:
    """The feedback entry of ``label``: declared in this process, else shipped, else None."""
    return _declared.get(label, _shipped().get(label))


def _hint(entry: dict, attempt: int) -> str:
    hints = entry.get("hints", [])
    if not hints:
        return ""
    k = min(attempt, len(hints))
    return f" Hint {k} of {len(hints)}: {hints[k - 1]}"


@validated(label=Text(), answer=Anything(), entry=InstanceOf("builtins:dict", example=lambda: {}),
           attempt=Integer(minimum=1))
def judge(label: str, answer: Any, entry: dict, attempt: int = 1) -> Verdict:
    """The verdict on ``answer`` for the exercise whose feedback entry is ``entry``.

    ``attempt`` (1, 2, ...) counts the wrong answers so far, this one included: it chooses the
    hint. Used by ``check`` in the student's kernel and by ``reglab grade`` outside it.
    """
    if answer is None:
        return Verdict("open", "not answered yet.")
    problem = _shape_problem(entry, answer)
    if problem is not None:
        return Verdict("wrong", f"not correct yet: {problem}.")
    if _matches(label, entry, answer, entry["digests"]):
        return Verdict("correct", "correct.")
    for mistake in entry.get("wrong", []):
        if _matches(label, entry, answer, mistake["digests"]):
            return Verdict("wrong", f"not correct yet: {mistake['message']}")
    return Verdict("wrong", "not correct yet." + _hint(entry, attempt))


# ---------------------------------------------------------------------------------------------
# The answer cell's watch (IPython only)

_watch: dict[str, Any] = {}


def _assigns_answer(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return re.search(r"^\s*answer\s*[:=]", code, re.M) is not None
    return any(isinstance(t, ast.Name) and t.id == "answer" and isinstance(t.ctx, ast.Store)
               for t in ast.walk(tree))


def _before_cell(info: Any) -> None:
    if _assigns_answer(info.raw_cell or ""):
        _watch.update(running=True, failed=False, judged_by=None)


def _after_cell(result: Any) -> None:
    if _watch.get("running"):
        _watch.update(running=False, failed=not result.success)


def _install_watch() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_reglab_answer_watch", False):
        return
    shell.events.register("pre_run_cell", _before_cell)
    shell.events.register("post_run_cell", _after_cell)
    shell._reglab_answer_watch = True
    _watch["active"] = True


def _stale(label: str) -> Verdict | None:
    """A verdict when ``answer`` is not this exercise's to judge (None when it is)."""
    if _watch.get("failed"):
        return Verdict("failed", "your answer cell raised an error: fix it and run it again, then "
                                 "this check.")
    judged_by = _watch.get("judged_by")
    if judged_by not in (None, label):
        return Verdict("open", f"`answer` still holds your answer to {judged_by.split(':')[0]}: "
                               "run this exercise's cell first.")
    return None


_install_watch()


# ---------------------------------------------------------------------------------------------
# Reporting


def _as_json(answer: Any) -> Any:
    """``answer`` as JSON (None when it has no JSON form)."""
    if answer is None:
        return None
    if isinstance(answer, (set, frozenset)):
        items = [_as_json(a) for a in answer]
        return None if None in items else {"set": sorted(items, key=repr)}
    if isinstance(answer, (list, tuple)):
        items = [_as_json(a) for a in answer]
        return None if None in items else items
    if isinstance(answer, (bool, np.bool_, str, int, np.integer)):
        return answer.item() if isinstance(answer, np.generic) else answer
    try:
        array = np.asarray(answer, dtype=float)
    except Exception:  # noqa: BLE001 - a model, a symbolic TF1 tensor: no JSON form
        return None
    if array.size > MAX_ELEMENTS:
        return None
    return {"array": array.tolist(), "shape": list(array.shape)} if array.ndim else float(array)


@validated(logged=Anything())
def from_json(logged: Any) -> Any:
    """The answer a log line holds (``_as_json``'s inverse): what ``reglab grade`` judges."""
    if isinstance(logged, dict) and "set" in logged:
        return set(from_json(v) for v in logged["set"])
    if isinstance(logged, dict) and "array" in logged:
        return np.asarray(logged["array"], dtype=float).reshape(logged["shape"])
    if isinstance(logged, list):
        return [from_json(v) for v in logged]
    return logged


_MARKS = {"correct": "[x]", "open": "[ ]", "wrong": "[!]", "failed": "[!]"}


def _report(label: str, verdict: Verdict, answer: Any) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        line = json.dumps({"exercise": label, "status": verdict.status, "message": verdict.message,
                           "answer": _as_json(answer) if verdict.status != "open" else None})
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    print(f"{_MARKS[verdict.status]} {label}: {verdict.message}")


def _settle(label: str, answer: Any, verdict: Verdict) -> None:
    if verdict.status == "wrong":
        _attempts[label] = _attempts.get(label, 0) + 1
    if verdict.status in ("correct", "wrong") and _watch.get("active"):
        _watch["judged_by"] = label
    return _report(label, verdict, answer)


@validated(exercise=Text(), answer=Anything())
def check(exercise: str, answer: Any) -> None:
    """Say whether ``answer`` is the answer of ``exercise`` (by its hashes; see the module doc).

    Prints one line (and logs it, see the module doc); never raises for a wrong answer.
    """
    if answer is None:
        return _report(exercise, Verdict("open", "not answered yet."), answer)
    entry = entry_of(exercise)
    if entry is None or entry.get("form") == "spec":
        return _report(exercise, Verdict("failed", "this exercise has no answer key here "
                                          "(run `python3 tasks.py notebooks` in the workbook)."), answer)
    stale = _stale(exercise)
    if stale is not None:
        return _report(exercise, stale, answer)
    verdict = judge(exercise, answer, entry, _attempts.get(exercise, 0) + 1)
    return _settle(exercise, answer, verdict)


@validated(exercise=Text(), answer=Anything(), predicate=Function(), requirement=Text())
def check_that(exercise: str, answer: Any, predicate: Callable[[Any], bool], *,
               requirement: str) -> None:
    """Say whether ``predicate(answer)`` holds; ``requirement`` says in words what it demands.

    The predicate returns a bool, or raises ``Wrong(message)`` to say what is still wrong.
    Hints come from the exercise's feedback entry, as for ``check``. Never raises.
    """
    if answer is None:
        return _report(exercise, Verdict("open", "not answered yet."), answer)
    stale = _stale(exercise)
    if stale is not None:
        return _report(exercise, stale, answer)
    entry = entry_of(exercise) or {}
    attempt = _attempts.get(exercise, 0) + 1
    try:
        holds = bool(predicate(answer))
        why = f"{requirement}: not yet."
    except Wrong as err:
        holds, why = False, str(err)
    except Exception as err:  # noqa: BLE001 - the answer is of a kind the predicate cannot test
        holds, why = False, f"{requirement}: cannot be tested on your answer ({type(err).__name__}: {err})."
    if holds:
        return _settle(exercise, answer, Verdict("correct", "correct."))
    why = why if why.rstrip().endswith((".", "!", "?")) else why.rstrip() + "."
    return _settle(exercise, answer, Verdict("wrong", f"not correct yet: {why}" + _hint(entry, attempt)))

