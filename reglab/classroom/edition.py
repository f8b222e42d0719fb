"""``reglab student-edition DIR``: the workbook as a class receives it.

The edition is a copy of the workbook (the package, the data, the notebooks, ``tasks.py`` and
the set-up files; not the tests, the tools or git) in which every notebook

* has lost its Solutions section (from ``## Solutions`` up to the ``## Next`` cell) and the
  cells tagged ``answer-key`` (self-tests of an exercise's check that would show a fix);
* has every exercise cell back to ``answer = None``, and the outputs of the whole Exercises
  section cleared (a find-the-bug exercise prints the example student's variant); the lessons
  keep theirs, so the notebook reads well before it is run.

A file ``STUDENT`` holds the student's id (``example`` until the student writes theirs), from
which the find-the-bug exercises draw their variants; the answer key (``key/``) is not copied;
the README is the student's (``templates/student_README.md``), not the maintainers'.
A file ``STUDENT_EDITION`` marks the copy: there, ``tasks.py test`` (strict output comparison,
which the students' edits would break) is replaced by ``tasks.py check``. The copy is built in
a temporary folder beside ``DIR`` and renamed into place only when complete
(``reglab.files.staged``); its folders are readable by all, like the workbook's.
"""

from __future__ import annotations

import copy
import shutil
from importlib import resources
from pathlib import Path

import nbformat

from reglab.classroom.variants import DEFAULT_STUDENT, STUDENT_FILE
from reglab.classroom.workbook import OPEN_ANSWER, find_exercises, read_notebook, solutions_range, source
from reglab.files import staged
from reglab.params import InstanceOf, InvalidParameterError, PathLike, validated

#: What a student edition holds of the workbook (files and folders at its root).
INCLUDED: tuple[str, ...] = (
    "README.md", "CONTRIBUTING.md", "LICENSE", "tasks.py", "requirements.txt", "pyproject.toml",
    "postBuild", "runtime.txt", "start", ".gitignore", "reglab", "data", "notebooks",
)
MARKER = "STUDENT_EDITION"
#: The tag of a cell that belongs to the answer key outside the Solutions (a proof that every
#: variant's broken code fails its check): run in the workbook, removed from the edition.
KEY_TAG = "answer-key"
#: The find-the-bug exercises draw each student's variant from the id on this file's first line.
STUDENT_TEXT = (
    f"{DEFAULT_STUDENT}\n"
    "# Replace the first line with your student id (letters, digits and ._@-, as your instructor\n"
    "# gives it), then run the exercises again: your find-the-bug variants depend on it.\n"
)
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
    for index in _exercises_section(cells):  # e.g. the example student's printed variant
        if cells[index].get("cell_type") == "code":
            cells[index]["outputs"] = []
            cells[index]["execution_count"] = None
    for ex in exercises:
        cell = cells[ex.exercise_cell]
        text = source(cell)
        match = OPEN_ANSWER.search(text)
        cell["source"] = match.group(0) if match else "answer = None  # your answer"
        for index in (ex.exercise_cell, ex.check_cell):
            cells[index]["outputs"] = []
            cells[index]["execution_count"] = None
    removed = set(solutions_range(nb)) | {index for index, cell in enumerate(cells)
                                          if KEY_TAG in cell.get("metadata", {}).get("tags", [])}
    result["cells"] = [cell for index, cell in enumerate(cells) if index not in removed]
    return result


def _exercises_section(cells: list[dict]) -> range:
    """The cell indices from ``## Exercises`` up to the next ``## `` heading (appendix, Solutions)."""
    headings = [index for index, cell in enumerate(cells) if cell.get("cell_type") == "markdown"
                and source(cell).lstrip().startswith("## ")]
    start = next((i for i in headings if source(cells[i]).lstrip().startswith("## Exercises")), None)
    if start is None:
        return range(0)
    return range(start, next((i for i in headings if i > start), len(cells)))


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
        template = resources.files("reglab.classroom").joinpath("templates", "student_README.md")
        (staging / "README.md").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        (staging / STUDENT_FILE).write_text(STUDENT_TEXT, encoding="utf-8")
    return written
