"""``reglab student-edition DIR``: the workbook as a class receives it.

The edition is a copy of the workbook (the package, the data, the notebooks, ``tasks.py`` and
the set-up files; not the tests, the tools or git) in which every notebook

* has lost its Solutions section (from ``## Solutions`` up to the ``## Next`` cell);
* has every exercise cell back to ``answer = None``, and the outputs of the exercise and check
  cells cleared (the lessons keep theirs, so the notebook reads well before it is run).

A file ``STUDENT_EDITION`` marks the copy: there, ``tasks.py test`` (strict output comparison,
which the students' edits would break) is replaced by ``tasks.py check``. The copy is built in
a temporary folder beside ``DIR`` and renamed into place only when complete
(``reglab.files.staged``); its folders are readable by all, like the workbook's.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat

from reglab.classroom.workbook import OPEN_ANSWER, find_exercises, read_notebook, solutions_range, source
from reglab.files import staged
from reglab.params import InstanceOf, InvalidParameterError, PathLike, validated

#: What a student edition holds of the workbook (files and folders at its root).
INCLUDED: tuple[str, ...] = (
    "README.md", "CONTRIBUTING.md", "LICENSE", "tasks.py", "requirements.txt", "pyproject.toml",
    "postBuild", "runtime.txt", "start", ".gitignore", "reglab", "data", "notebooks",
)
MARKER = "STUDENT_EDITION"
MARKER_TEXT = (
    "This is a student edition of the reglab workbook: the Solutions sections are removed.\n"
    "Open it with `python3 tasks.py lab`; see where you stand with `python3 tasks.py check`.\n"
)


@validated(nb=InstanceOf("builtins:dict", example=lambda: nbformat.v4.new_notebook()))
def student_notebook(nb: dict) -> dict:
    """A copy of ``nb`` without its Solutions section and with its exercises reset."""
    exercises = find_exercises(nb)
    result = copy.deepcopy(nb)
    cells = result["cells"]
    for ex in exercises:
        cell = cells[ex.exercise_cell]
        text = source(cell)
        match = OPEN_ANSWER.search(text)
        cell["source"] = match.group(0) if match else "answer = None  # your answer"
        for index in (ex.exercise_cell, ex.check_cell):
            cells[index]["outputs"] = []
            cells[index]["execution_count"] = None
    removed = solutions_range(nb)
    result["cells"] = [cell for index, cell in enumerate(cells) if index not in removed]
    return result


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.startswith(".run-")
            or n.endswith(".egg-info")}


@validated(workbook=PathLike(), destination=PathLike())
def make_student_edition(workbook: Path, destination: Path) -> list[Path]:
    """Write the student edition of ``workbook`` (a folder) into ``destination``.

    ``destination`` must not exist yet, or be an empty folder, and must lie outside the
    workbook (``InvalidParameterError`` otherwise). Returns the notebooks written.
    """
    workbook, destination = workbook.resolve(), destination.resolve()
    if not (workbook / "notebooks").is_dir() or not (workbook / "reglab").is_dir():
        raise InvalidParameterError(
            f"workbook {str(workbook)!r} is not the reglab workbook (no notebooks/)")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InvalidParameterError(
            f"destination {str(destination)!r} already exists and is not an empty folder; "
            "choose a new folder"
        )
    if destination == workbook or workbook in destination.parents:
        raise InvalidParameterError("destination must lie outside the workbook")
    with staged(destination, folder=True) as staging:
        for name in INCLUDED:
            source_path = workbook / name
            if source_path.is_dir():
                shutil.copytree(source_path, staging / name, ignore=_ignore)
            elif source_path.is_file():
                shutil.copy2(source_path, staging / name)
        written = []
        for path in sorted((staging / "notebooks").glob("*.ipynb")):
            nbformat.write(student_notebook(read_notebook(path)), path)
            written.append(destination / "notebooks" / path.name)
        (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return written
