"""The student edition of the real workbook: what it holds, and ``check`` on it.

That each pasted solution makes its exercise correct is proved by the notebooks' last nbval
item, "Run All again, solutions pasted" (``conftest.py``), in the kernel nbval already ran; the
scaffold of ``new`` is tested through the real test command in ``tests/test_classroom.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab.classroom import edition, grading, workbook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory) -> Path:
    destination = tmp_path_factory.mktemp("class") / "reglab-student"
    written = edition.make_student_edition(ROOT, destination)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    return destination


def test_the_edition_holds_what_a_student_needs_and_no_tests(student_copy):
    for name in ("tasks.py", "requirements.txt", "pyproject.toml", "postBuild", "reglab", "data",
                 edition.MARKER):
        assert (student_copy / name).exists(), f"{name} is missing from the student edition"
    for name in ("tests", "tools", ".git", ".venv", "conftest.py"):
        assert not (student_copy / name).exists(), f"{name} should not be in the student edition"
    refused = subprocess.run([sys.executable, "tasks.py", "test"], cwd=student_copy,
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "student edition" in refused.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_edition_holds_no_solution(student_copy, path):
    pristine = nbformat.read(path, as_version=4)
    student = nbformat.read(student_copy / "notebooks" / path.name, as_version=4)
    texts = [workbook.source(c) for c in student.cells]
    assert not any(t.strip().startswith(workbook.SOLUTIONS_HEADING) for t in texts)
    assert workbook.find_exercises(pristine), f"{path.name} has no exercises"
    for ex in workbook.find_exercises(pristine):
        solution = workbook.source(pristine.cells[ex.solution_cell])
        assert solution not in texts, f"the solution of {ex.label!r} is still in the edition"
    student_exercises = workbook.find_exercises(student)
    assert [e.label for e in student_exercises] == [e.label for e in workbook.find_exercises(pristine)]
    for ex in student_exercises:
        assert workbook.OPEN_ANSWER.fullmatch(workbook.source(student.cells[ex.exercise_cell]))
        assert student.cells[ex.check_cell].outputs == []


@pytest.mark.slow
def test_the_edition_runs_top_to_bottom_with_every_exercise_open(student_copy):
    report = grading.grade_notebook(student_copy / "notebooks" / NOTEBOOKS[0].name)
    assert report.exercises and report.ok, report.lines()
    assert {r.status for r in report.exercises} == {"open"}
