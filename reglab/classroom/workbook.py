"""The structure of a workbook notebook: its exercises, its Solutions section, its last cell.

Every notebook follows the template of CONTRIBUTING.md. The parts that the class tools
(``reglab.classroom.grading``, ``reglab.classroom.edition``, ``reglab.classroom.scaffold``) rely on are::

    ## Exercises                              markdown heading
    <prompt>                                  markdown
    answer = None  # ...                      the exercise cell (the student's code goes here)
    reglab.checks.check("Exercise 1: ...", answer)     the check cell (or check_that)
    ...                                       (one prompt, exercise cell, check cell per exercise)
    ## Solutions                              markdown heading
    answer = ...; key.declare("Exercise 1: ...", answer, ...); checks.check(...)  one per exercise
    ## Next                                   markdown: the link to the next notebook, last cell

An exercise is found by its check cell: a code cell that does not assign ``answer`` and calls
``checks.check``/``check_that`` (or ``reglab.checks...``) with a string literal as first argument, the
exercise's label. Its exercise cell is the nearest code cell above that assigns ``answer``.

Notebooks are read with ``nbformat`` (``read_notebook``); the functions that take a notebook
accept what ``nbformat.read`` gives and a plain dict from ``json.load`` alike.
``workbook_root`` finds the workbook folder the class commands work on.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from reglab.params import InstanceOf, InvalidParameterError, NoneOr, PathLike, Text, validated

#: The markdown headings that delimit the Solutions section.
SOLUTIONS_HEADING = "## Solutions"
NEXT_HEADING = "## Next"
#: What an exercise cell holds in the pristine workbook and in a student edition.
OPEN_ANSWER = re.compile(r"^answer\s*=\s*None\b.*$", re.M)
#: A notebook as ``nbformat`` reads it (a ``NotebookNode``) or as ``json.load`` does (a dict).
_NOTEBOOK = InstanceOf("builtins:dict", example=lambda: nbformat.v4.new_notebook())
_CELL = InstanceOf("builtins:dict", example=lambda: nbformat.v4.new_code_cell("x = 1"))


@dataclass(frozen=True)
class Exercise:
    """One exercise: its label and the indices (in ``nb["cells"]``) of its cells."""

    label: str
    exercise_cell: int  #: the cell that sets ``answer`` (the student's cell)
    check_cell: int  #: the cell that calls the check
    solution_cell: int | None  #: the cell of the Solutions section with the same label


@validated(start=NoneOr(PathLike()))
def workbook_root(start: Path | None = None) -> Path:
    """The workbook folder (the one that holds ``notebooks/`` and ``tasks.py``).

    Looked for in ``start`` (default: the current folder) and its parents, then in the
    checkout this package was imported from (an editable install).  ``FileNotFoundError``
    when neither is in a workbook (a wheel installed elsewhere, run from another folder).
    """
    here = (Path.cwd() if start is None else start).resolve()
    package_checkout = Path(__file__).resolve().parents[2]  # reglab/classroom/workbook.py
    for folder in (here, *here.parents, package_checkout):
        if (folder / "notebooks").is_dir() and (folder / "tasks.py").is_file():
            return folder
    raise FileNotFoundError(
        f"no reglab workbook in {str(here)!r} or its parents (a folder with notebooks/ and "
        "tasks.py): run the command from the workbook's folder"
    )


@validated(path=PathLike())
def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read the ``.ipynb`` file at ``path`` with ``nbformat`` (as version 4).

    ``InvalidParameterError`` if ``path`` is missing, a folder, not a ``.ipynb`` file or not a
    readable notebook.
    """
    if not path.exists():
        raise InvalidParameterError(f"path {str(path)!r} does not exist")
    if path.is_dir():
        raise InvalidParameterError(f"path {str(path)!r} is a directory, not a .ipynb file")
    if path.suffix != ".ipynb":
        raise InvalidParameterError(f"path {str(path)!r} is not a notebook (expected a .ipynb file)")
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, AttributeError, KeyError, nbformat.ValidationError) as err:
        # nbformat's errors: not JSON or not UTF-8 (ValueError), JSON that is no notebook
        raise InvalidParameterError(f"path {str(path)!r} is not a readable notebook: {err}") from None


@validated(cell=_CELL)
def source(cell: dict) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _heading_index(cells: list[dict], heading: str) -> int | None:
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown" and source(cell).lstrip().startswith(heading):
            first_line = source(cell).lstrip().splitlines()[0].strip()
            if first_line == heading:
                return index
    return None


@validated(nb=_NOTEBOOK)
def solutions_range(nb: dict) -> range:
    """The cell indices of the Solutions section: from its heading up to the ``## Next`` cell.

    Empty when the notebook has no ``## Solutions`` heading. Without a ``## Next`` cell the
    section runs to the end.
    """
    cells = nb["cells"]
    start = _heading_index(cells, SOLUTIONS_HEADING)
    if start is None:
        return range(0)
    end = _heading_index(cells[start:], NEXT_HEADING)
    return range(start, len(cells) if end is None else start + end)


@validated(code=Text(empty=True))
def exercise_labels(code: str) -> list[str]:
    """The exercise labels in ``code``: the string literals that start its ``checks.check`` and
    ``checks.check_that`` calls (``checks.check("Exercise 1: ...", answer)``), in order.

    Code that does not parse (a student's half-written cell) has no labels.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    labels = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        func = node.func
        owner = func.value
        is_checks = (isinstance(owner, ast.Name) and owner.id == "checks") or (
            isinstance(owner, ast.Attribute) and owner.attr == "checks"
        )
        if is_checks and (func.attr == "check" or func.attr.startswith("check_")) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                labels.append((node.lineno, node.col_offset, first.value))
    return [label for _, _, label in sorted(labels)]


def _assigns_answer(code: str) -> bool:
    """Whether ``code`` assigns the name ``answer`` (at any depth: inside a ``with`` too)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # a half-written cell: judge by its lines
        return re.search(r"^\s*answer\s*=", code, re.M) is not None
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        if any(isinstance(t, ast.Name) and t.id == "answer" for t in targets):
            return True
    return False


@validated(nb=_NOTEBOOK)
def find_exercises(nb: dict) -> list[Exercise]:
    """Every exercise of the notebook, in order (see the module docstring for the layout).

    ``InvalidParameterError`` when a check cell has no exercise cell above it.
    """
    cells = nb["cells"]
    solutions = solutions_range(nb)
    solution_of: dict[str, int] = {}
    for index in solutions:
        if cells[index].get("cell_type") == "code":
            for label in exercise_labels(source(cells[index])):
                solution_of.setdefault(label, index)
    exercises = []
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        code = source(cell)
        # a cell that sets `answer` is an exercise cell, even if it also calls a check
        if index in solutions or cell.get("cell_type") != "code" or _assigns_answer(code):
            continue
        for label in exercise_labels(code):
            if label in seen:
                continue
            seen.add(label)
            exercise_cell = next(
                (i for i in range(index - 1, -1, -1)
                 if cells[i].get("cell_type") == "code" and _assigns_answer(source(cells[i]))),
                None,
            )
            if exercise_cell is None:
                raise InvalidParameterError(
                    f"nb: the check of {label!r} (cell {index}) has no exercise cell above it that "
                    "sets `answer`"
                )
            exercises.append(Exercise(label, exercise_cell, index, solution_of.get(label)))
    return exercises
