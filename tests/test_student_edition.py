"""The class workflow on the real workbook: the student edition, ``check`` on it, and ``new``.

Grading runs each notebook in a kernel, so these tests take about as long as nbval does for
the same notebooks; they live in their own module so that xdist (``--dist loadscope``) runs
them beside the strict nbval items.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab import edition, grading, scaffold, workbook

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
    for ex in workbook.find_exercises(pristine):
        solution = workbook.source(pristine.cells[ex.solution_cell])
        assert solution not in texts, f"the solution of {ex.label!r} is still in the edition"
    student_exercises = workbook.find_exercises(student)
    assert [e.label for e in student_exercises] == [e.label for e in workbook.find_exercises(pristine)]
    for ex in student_exercises:
        assert workbook.OPEN_ANSWER.fullmatch(workbook.source(student.cells[ex.exercise_cell]))
        assert student.cells[ex.check_cell].outputs == []


def test_the_edition_runs_top_to_bottom_with_every_exercise_open(student_copy):
    report = grading.grade_notebook(student_copy / "notebooks" / NOTEBOOKS[0].name)
    assert report.exercises and report.ok, report.lines()
    assert {r.status for r in report.exercises} == {"open"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_pasting_the_solutions_back_makes_every_exercise_correct(student_copy, path, tmp_path):
    pristine = nbformat.read(path, as_version=4)
    student = nbformat.read(student_copy / "notebooks" / path.name, as_version=4)
    for ex in workbook.find_exercises(pristine):
        student.cells[ex.exercise_cell].source = pristine.cells[ex.solution_cell].source
    pasted = student_copy / "notebooks" / f"pasted_{path.name}"
    nbformat.write(student, pasted)
    try:
        report = grading.grade_notebook(pasted)
    finally:
        pasted.unlink()
    assert report.exercises, f"{path.name} has no exercises"
    assert all(r.status == "correct" for r in report.exercises) and report.ok, report.lines()


def _copy_workbook(destination: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "_build", ".ipynb_checkpoints",
                                    "*.egg-info", ".run-*")
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def test_a_new_notebook_is_picked_up_by_the_suite_at_once(tmp_path):
    copy = _copy_workbook(tmp_path / "workbook")
    number = len(NOTEBOOKS)
    name = f"{number:02d}_scaffold_probe"
    path = scaffold.create_notebook(name, copy)
    assert path == copy / "notebooks" / f"{name}.ipynb"
    assert f"[{name}](notebooks/{name}.ipynb)" in (copy / "README.md").read_text()
    start = nbformat.read(copy / "notebooks" / "00_start_here.ipynb", as_version=4)
    assert any(f"[{name}]({name}.ipynb)" in workbook.source(c) for c in start.cells)
    with pytest.raises(ValueError, match="exists already"):
        scaffold.create_notebook(name, copy)
    run = subprocess.run([sys.executable, "tools/run_notebooks.py", f"notebooks/{name}.ipynb"],
                         cwd=copy, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "tests/test_notebook_hygiene.py",
         f"notebooks/{name}.ipynb"],
        cwd=copy, capture_output=True, text=True)
    assert suite.returncode == 0, suite.stdout[-3000:]
    for item in ("Cell 0 PASSED", "Run All again PASSED", f"test_normalized_with_nbstripout[{name}] PASSED",
                 "test_exercise_structure[" + name + "] PASSED"):
        assert item in suite.stdout, f"{item!r} not in the suite's output for the new notebook"
    report = grading.grade_notebook(path)
    assert [r.status for r in report.exercises] == ["open"] and report.ok
