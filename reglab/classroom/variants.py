"""Per-student variants of an exercise: the same bug, other constants, for each student.

``variant("Exercise 4: ...", bug=["twice", "never added"], lam=[1e-4, 3e-4, 1e-3])`` returns a
namespace with one value per choice, drawn from ``sha256(student id, exercise, choice name)``:
the same student always gets the same variant, two neighbours most often another one.  The
student id is ``REGLAB_STUDENT`` (``reglab grade`` sets it from the submission's name), else the
first line of the file ``STUDENT`` in the workbook folder, else ``example``.  When the answer
key is being recorded, the choices are stored with it: ``variant_of`` gives the instructor any
student's variants.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from reglab.classroom.key import RECORD_VARIABLE, load
from reglab.params import Anything, InvalidParameterError, ListOf, NoneOr, PathLike, Text, validated

STUDENT_VARIABLE = "REGLAB_STUDENT"
STUDENT_FILE = "STUDENT"
DEFAULT_STUDENT = "example"
#: What a student id may hold: letters, digits and ``._@-``, 1 to 64 characters.
STUDENT_ID = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def student_id() -> str:
    """The student id (see the module docstring); ``InvalidParameterError`` for a bad one."""
    from reglab.classroom.workbook import workbook_root

    value = os.environ.get(STUDENT_VARIABLE, "").strip()
    if not value:
        try:
            path = workbook_root() / STUDENT_FILE
        except FileNotFoundError:
            path = None
        if path is not None and path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace")[:200].splitlines()
            value = lines[0].strip() if lines else ""
    value = value or DEFAULT_STUDENT
    if not STUDENT_ID.match(value):
        raise InvalidParameterError(f"student id {value!r}: use 1 to 64 letters, digits or ._@-")
    return value


def _pick(student: str, exercise: str, name: str, options: Sequence[Any]) -> Any:
    digest = hashlib.sha256(f"{student}\0{exercise}\0{name}".encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def draw(student: str, exercise: str, choices: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """The option of each choice for ``student`` (what ``variant`` returns, as a dict)."""
    return {name: _pick(student, exercise, name, list(options)) for name, options in choices.items()}


@validated(exercise=Text(), student=NoneOr(Text()), choices=Anything())
def variant(exercise: str, *, student: str | None = None, **choices: list[Any]) -> SimpleNamespace:
    """One value per choice for ``student`` (default: ``student_id()``), and ``student`` itself.

    Every choice is a non-empty list of options, e.g. ``lam=[1e-4, 3e-4]``.
    """
    student = student_id() if student is None else student
    for name, options in choices.items():
        ListOf(Anything(), min_length=1).check(name, options)
    picked = draw(student, exercise, choices)
    record = os.environ.get(RECORD_VARIABLE)
    if record:  # the key keeps the choices, to show any student's variant (key.variant_of)
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"variant": exercise, "choices": choices}) + "\n")
    return SimpleNamespace(student=student, **picked)


@validated(student=Text(), workbook=PathLike())
def variant_of(student: str, workbook: Path) -> dict[str, dict]:
    """Each varied exercise's variant for ``student``: label -> notebook, chosen options, fix.

    Drawn from the choices stored in the workbook's key, as ``variant`` draws them in the
    student's kernel; ``fix`` says in words what the fix is.
    """
    if not STUDENT_ID.match(student):
        raise InvalidParameterError(f"student {student!r}: use 1 to 64 letters, digits or ._@-")
    return {label: {"notebook": entry["notebook"], **draw(student, label, entry["choices"]),
                    "fix": entry.get("fix", "")}
            for label, entry in load(workbook).items() if "choices" in entry}
