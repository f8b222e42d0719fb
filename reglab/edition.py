"""``python3 tasks.py student-edition DIR``: the workbook as a class receives it.

The edition is a copy of the workbook (the package, the data, the notebooks, ``tasks.py`` and
the set-up files; not the tests, the tools or git) in which every notebook

* has lost its Solutions section (from ``## Solutions`` up to the ``## Next`` cell);
* has every exercise cell back to ``answer = None``, and the outputs of the exercise and check
  cells cleared (the lessons keep theirs, so the notebook reads well before it is run).

A file ``STUDENT_EDITION`` marks the copy: there, ``tasks.py test`` (strict output comparison,
which the students' edits would break) is replaced by ``tasks.py check``. The copy is built in
a temporary folder beside ``DIR`` and renamed into place only when complete.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

from reglab.workbook import OPEN_ANSWER, find_exercises, read_notebook, solutions_range, source

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


def make_student_edition(workbook: str | Path, destination: str | Path) -> list[Path]:
    """Write the student edition of ``workbook`` (a folder) into ``destination``.

    ``destination`` must not exist yet, or be an empty folder. Returns the notebooks written.
    """
    import nbformat

    for name, value in (("workbook", workbook), ("destination", destination)):
        if not isinstance(value, (str, Path)):
            raise TypeError(f"{name} must be a path, got {type(value).__name__}")
    workbook, destination = Path(workbook).resolve(), Path(destination).resolve()
    if not (workbook / "notebooks").is_dir() or not (workbook / "reglab").is_dir():
        raise ValueError(f"workbook {str(workbook)!r} is not the reglab workbook (no notebooks/)")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ValueError(
            f"destination {str(destination)!r} already exists and is not an empty folder; "
            "choose a new folder"
        )
    if destination == workbook or workbook in destination.parents:
        raise ValueError("destination must lie outside the workbook")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    try:
        for name in INCLUDED:
            source_path = workbook / name
            if source_path.is_dir():
                shutil.copytree(source_path, staging / name, ignore=_ignore)
            elif source_path.is_file():
                shutil.copy2(source_path, staging / name)
        written = []
        for path in sorted((staging / "notebooks").glob("*.ipynb")):
            nb = student_notebook(read_notebook(path))
            nbformat.write(nbformat.from_dict(nb), path)
            written.append(destination / "notebooks" / path.name)
        (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        if destination.exists():
            destination.rmdir()
        os.replace(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
