"""The answer key: declared in each notebook's Solutions, collected when the notebooks run.

A Solutions cell sets ``answer`` as the exercise cell would, declares it, then checks it::

    answer = penalties.keras_l2_from_slim(5e-4)
    key.declare("Exercise 1: porting l2_loss to Keras", answer, rtol=1e-6,
                hints=["Which of the two conventions carries a 1/2?", "..."],
                wrong={"twice the key: l2_loss's 1/2 is missing": 2 * answer},
                forms=[np.float32(answer)])
    checks.check("Exercise 1: porting l2_loss to Keras", answer)

(``key`` is ``reglab.classroom.key``.) An exercise checked by ``check_that`` declares its hints
only: ``key.declare(label, hints=[...], fix="...")``.  ``declare`` registers the exercise's
feedback (``reglab.checks.commit``: hashes, never the value) in this process, so the check
below it works, and

* when ``REGLAB_KEY_RECORD`` names a file (``python3 tasks.py notebooks`` sets it), appends the
  declaration, plain values included, to that file; ``write`` then stores the key
  (``key/answers.json``, the instructor's: never in a student edition) and the feedback
  (``reglab/feedback.json``, shipped: hashes and hints);
* otherwise checks that the shipped feedback still fits: it accepts the answer (within its
  tolerance: a trained value may move in its last digits on another CPU), gives each known
  mistake its message and has the same hints; ``StaleKey`` when not (a solution changed and
  the notebook was not re-run with ``tasks.py notebooks``).

``wrong`` maps a message to a wrong answer that the check must refuse with that message (a
known mistake); ``forms`` lists other correct forms it must accept (a float32, a tensor, a
list for a set). Both are in the key, and ``tests/test_answer_key.py`` holds every check to
them; ``fix`` says in words what the fix of a find-the-bug exercise is.
"""

from __future__ import annotations

import json
import math
import os

try:
    import fcntl
except ImportError:  # Windows: one writer at a time is the user's business
    fcntl = None
from pathlib import Path
from typing import Any

import numpy as np

from reglab import checks
from reglab.files import staged
from reglab.params import (
    Anything,
    InvalidParameterError,
    ListOf,
    MappingOf,
    NoneOr,
    PathLike,
    Real,
    Text,
    validated,
)

#: The environment variable naming the file that declarations are appended to.
RECORD_VARIABLE = "REGLAB_KEY_RECORD"
#: The environment variable naming the notebook being recorded (set with ``RECORD_VARIABLE``).
NOTEBOOK_VARIABLE = "REGLAB_KEY_NOTEBOOK"
#: Where the key and the feedback live, relative to the workbook folder.
KEY_FILE = Path("key") / "answers.json"
FEEDBACK_FILE = Path("reglab") / "feedback.json"


class StaleKey(RuntimeError):
    """The Solutions declare another key than ``reglab/feedback.json`` holds."""


def _plain(value: Any) -> Any:
    logged = checks._as_json(value)  # one JSON form for answers: the log's
    if logged is None and value is not None:
        raise ValueError(f"an answer of type {type(value).__name__} cannot be stored in the key")
    return logged


@validated(exercise=Text(), answer=Anything(), rtol=Real(0.0, 0.5), atol=Real(0.0),
           hints=ListOf(Text()), wrong=NoneOr(MappingOf(Anything())), forms=ListOf(Anything()),
           fix=Text(empty=True), notebook=NoneOr(Text()))
def declare(exercise: str, answer: Any = None, *, rtol: float = 1e-5, atol: float = 0.0,
            hints: list[str] = (), wrong: dict[str, Any] | None = None, forms: list[Any] = (),
            fix: str = "", notebook: str | None = None) -> dict:
    """Declare the key of ``exercise``: its ``answer`` (None for a ``check_that`` exercise).

    Returns the feedback entry (hashes and hints) that ``reglab.checks`` now uses for it.
    """
    wrong = dict(wrong or {})
    record = os.environ.get(RECORD_VARIABLE)
    if not record:
        return _agrees(exercise, answer, list(hints), wrong)
    if answer is None:
        entry: dict[str, Any] = {"form": "spec"}
    else:
        entry = checks.commit(exercise, answer, rtol=float(rtol), atol=float(atol))
        entry["wrong"] = [{"message": message, "digests": _mistake(exercise, entry, value, rtol, atol)}
                          for message, value in wrong.items()]
    entry["hints"] = list(hints)
    checks.register(exercise, entry)
    line = {"exercise": exercise, "notebook": notebook or os.environ.get(NOTEBOOK_VARIABLE, ""),
            "answer": _plain(answer), "rtol": rtol, "atol": atol, "hints": list(hints),
            "wrong": {m: _plain(v) for m, v in wrong.items()},
            "forms": [_plain(f) for f in forms], "fix": fix, "entry": entry}
    with open(record, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    return entry


def _mistake(exercise: str, entry: dict, value: Any, rtol: float, atol: float) -> list[list[str]]:
    """The hashes of a known mistake, in the key's own form (a tuple for an array key becomes an
    array); ``InvalidParameterError`` for a mistake the check could never compare."""
    if entry["form"] in ("number", "array"):
        value = np.asarray(value, dtype=float)
        if entry["form"] == "number" and value.size == 1:
            value = float(value.reshape(-1)[0])
        elif list(np.shape(value)) != entry.get("shape", []):
            raise InvalidParameterError(
                f"wrong: a mistake of shape {np.shape(value)} cannot be compared with the key of "
                f"{exercise!r} (shape {tuple(entry.get('shape', ()))})")
    return checks.commit(exercise, value, rtol=float(rtol), atol=float(atol))["digests"]


def _agrees(exercise: str, answer: Any, hints: list[str], wrong: dict[str, Any]) -> dict:
    """The shipped entry of ``exercise``, after checking that it still fits the Solutions: it
    accepts ``answer``, recognizes each known mistake and has the same hints (``StaleKey``
    otherwise). Judged within the tolerance, not by the hashes themselves: an answer computed by
    training may move in its last digits on another CPU and the key stays valid."""
    shipped = checks._shipped().get(exercise)
    stale = (f"the key of {exercise!r} in reglab/feedback.json does not fit the Solutions "
             "({}): run `python3 tasks.py notebooks` on this notebook to store it")
    if shipped is None:
        raise StaleKey(stale.format("it has no entry"))
    if shipped.get("hints") != hints:
        raise StaleKey(stale.format("other hints"))
    if (answer is None) != (shipped["form"] == "spec"):
        raise StaleKey(stale.format("another kind of answer"))
    if answer is not None:
        verdict = checks.judge(exercise, answer, shipped)
        if verdict.status != "correct":
            raise StaleKey(stale.format(f"it calls the answer {verdict.status}"))
        messages = [m["message"] for m in shipped.get("wrong", [])]
        if messages != list(wrong) or any(
                checks.judge(exercise, value, shipped).message != f"not correct yet: {message}"
                for message, value in wrong.items()):
            raise StaleKey(stale.format("other known mistakes"))
    return shipped


@validated(records=PathLike(), notebook=Text(), workbook=PathLike())
def write(records: Path, notebook: str, workbook: Path) -> int:
    """Store the declarations recorded in ``records`` for ``notebook`` in the workbook's key.

    Replaces every entry of ``notebook`` in ``key/answers.json`` and ``reglab/feedback.json``
    (both written whole, beside and renamed: ``reglab.files.staged``). Returns the count.
    """
    lines = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines() if line]
    (workbook / KEY_FILE).parent.mkdir(parents=True, exist_ok=True)
    with open(workbook / KEY_FILE.parent / ".lock", "w") as lock:  # notebooks run side by side
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        return _write(lines, notebook, workbook)


def _write(lines: list[dict], notebook: str, workbook: Path) -> int:
    key = _load(workbook / KEY_FILE, "answers")
    feedback = _load(workbook / FEEDBACK_FILE, "exercises")
    for table in (key, feedback):
        for label in [k for k, v in table.items() if v.get("notebook") == notebook]:
            del table[label]
    choices: dict[str, dict] = {}  # per exercise the widest call (a notebook may also draw one option)
    for line in (line for line in lines if "variant" in line):
        kept = choices.get(line["variant"])
        if kept is None or _combinations(line["choices"]) > _combinations(kept):
            choices[line["variant"]] = line["choices"]
    lines = [line for line in lines if "variant" not in line]
    for line in lines:
        label = line.pop("exercise")
        entry = line.pop("entry")
        if label in key and key[label]["notebook"] != notebook:
            raise ValueError(f"exercise label {label!r} is used by two notebooks: "
                             f"{key[label]['notebook']} and {notebook}")
        line["notebook"] = notebook
        if label in choices:
            line["choices"] = choices.pop(label)
        key[label] = line
        feedback[label] = {"notebook": notebook, **entry}
    if choices:
        raise ValueError(f"variants without a declared key in {notebook}: {sorted(choices)}")
    _store(workbook / KEY_FILE, {"answers": key})
    _store(workbook / FEEDBACK_FILE, {"iterations": checks.ITERATIONS, "exercises": feedback})
    return len(lines)


def _combinations(choices: dict[str, list]) -> int:
    return math.prod(len(options) for options in choices.values())


def _load(path: Path, field: str) -> dict:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))[field]


def _store(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged(path, folder=False) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                       encoding="utf-8")


@validated(workbook=PathLike())
def load(workbook: Path) -> dict[str, dict]:
    """The key of the workbook at ``workbook``: label -> its declaration (plain values)."""
    path = workbook / KEY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no answer key at {KEY_FILE} in the workbook: run "
                                "`python3 tasks.py notebooks` to make it")
    return _load(path, "answers")

