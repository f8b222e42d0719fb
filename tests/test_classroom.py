"""The class tools: notebook structure, ``check``, the student edition and ``new``.

Small notebooks written here (no TensorFlow in them) keep each kernel start short; the
student edition of the real workbook is graded in ``test_student_edition.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab import checks, classroom, edition, grading, scaffold, workbook

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("Exercise 1: two plus two", "Exercise 2: a list of three")
CHECK_1 = f'checks.check_equal("{LABELS[0]}", answer, 4)'
CHECK_2 = f'checks.check_that("{LABELS[1]}", answer, lambda a: len(a) == 3, requirement="3 items")'


def _notebook(*cells: tuple[str, str], tags: dict[int, list[str]] | None = None) -> dict:
    nb = nbformat.v4.new_notebook()
    for index, (kind, text) in enumerate(cells):
        cell = (nbformat.v4.new_code_cell(text) if kind == "code"
                else nbformat.v4.new_markdown_cell(text))
        if tags and index in tags:
            cell.metadata["tags"] = tags[index]
        nb.cells.append(cell)
    return nb


def _lesson(answer_1: str = "answer = None  # a number", answer_2: str = "answer = None  # a list",
            lesson: str = "x = 2", tags: dict[int, list[str]] | None = None) -> dict:
    return _notebook(
        ("markdown", "# 99 · A tiny lesson"),
        ("code", "from reglab import checks"),
        ("code", lesson),
        ("markdown", "## Exercises\n\n**Exercise 1.** Two plus two."),
        ("code", answer_1),
        ("code", CHECK_1),
        ("markdown", "**Exercise 2.** Three items."),
        ("code", answer_2),
        ("code", CHECK_2),
        ("markdown", "## Solutions"),
        ("code", f"answer = x + 2\n{CHECK_1}"),
        ("markdown", "Why: 2 + 2."),
        ("code", f"answer = [1, 2, 3]\n{CHECK_2}"),
        ("markdown", "## Next\n\nBack to [00_start_here](00_start_here.ipynb)."),
        tags=tags,
    )


def _write(nb: dict, folder: Path, name: str = "lesson.ipynb") -> Path:
    path = folder / name
    nbformat.write(nbformat.from_dict(nb), path)
    return path


# -- structure -------------------------------------------------------------------------------


def test_find_exercises_pairs_exercise_check_and_solution_cells():
    nb = _lesson()
    found = workbook.find_exercises(nb)
    assert [(e.label, e.exercise_cell, e.check_cell, e.solution_cell) for e in found] == [
        (LABELS[0], 4, 5, 10), (LABELS[1], 7, 8, 12)]
    assert list(workbook.solutions_range(nb)) == list(range(9, 13))


def test_an_answer_set_inside_a_block_still_marks_the_exercise_cell():
    nb = _lesson(answer_2=f"if True:\n    answer = [1, 2, 3]\n{CHECK_2}")
    assert [e.exercise_cell for e in workbook.find_exercises(nb)] == [4, 7]


def test_check_labels_reads_literals_in_order_and_survives_bad_code():
    code = f'{CHECK_2}\nreglab.checks.check_close("a", 1, 1)\nprint("checks.check_x")'
    assert workbook.check_labels(code) == [LABELS[1], "a"]
    assert workbook.check_labels("answer = (") == []


def test_a_check_without_an_exercise_cell_is_refused():
    nb = _notebook(("code", CHECK_1))
    with pytest.raises(ValueError, match="no exercise cell above it"):
        workbook.find_exercises(nb)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.ipynb", "does not exist"),
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: (tmp / "notes.txt").write_text("hi") and tmp / "notes.txt", "not a notebook"),
    (lambda tmp: (tmp / "bad.ipynb").write_text("{not json") and tmp / "bad.ipynb",
     "not a readable notebook"),
    (lambda tmp: (tmp / "list.ipynb").write_text("[1, 2]") and tmp / "list.ipynb", "no list of cells"),
])
def test_read_notebook_refuses_bad_paths(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        workbook.read_notebook(make(tmp_path))


def test_read_notebook_refuses_a_non_path():
    with pytest.raises(TypeError, match="path must be a path"):
        workbook.read_notebook(3)


# -- the check log ---------------------------------------------------------------------------


def test_checks_log_each_result_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(checks.LOG_VARIABLE, str(log))
    checks.check_equal("a", None, 1)
    checks.check_equal("b", 1, 1)
    with pytest.raises(checks.ExerciseFailed):
        checks.check_equal("c", 2, 1)
    with pytest.raises(checks.ExerciseFailed, match="cannot be tested"):
        checks.check_that("d", 5, lambda a: len(a) == 1, requirement="one item")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["status"]) for r in records] == [
        ("a", "open"), ("b", "correct"), ("c", "wrong"), ("d", "wrong")]
    assert "expected 1, got 2" in records[2]["message"]


# -- grading ---------------------------------------------------------------------------------


def test_grade_reports_open_exercises_and_skips_the_solutions(tmp_path):
    report = grading.grade_notebook(_write(_lesson(), tmp_path))
    assert [(r.label, r.status) for r in report.exercises] == [(LABELS[0], "open"), (LABELS[1], "open")]
    assert report.ok and grading.summary([report]) == "0 correct, 2 open, 0 wrong, 0 failed"


def test_grade_tells_correct_wrong_and_failed_apart(tmp_path):
    nb = _lesson(answer_1="answer = 5", answer_2="answer = [1, 2, undefined_name]")
    nb2 = _lesson(answer_1="answer = x + 2", lesson="x = 2\n1 / 0",
                  answer_2="answer = [1, 2, 3]")
    report = grading.grade_notebook(_write(nb, tmp_path))
    wrong, failed = report.exercises
    assert (wrong.status, failed.status) == ("wrong", "failed")
    assert "expected 4, got 5" in wrong.message and not wrong.message.startswith(LABELS[0])
    assert "code cell 5 ('answer = [1, 2, undefined_name]') raised NameError" in failed.message
    assert not report.ok
    # a lesson cell that raises is reported, and exercises that still ran are graded
    report2 = grading.grade_notebook(_write(nb2, tmp_path, "other.ipynb"))
    assert [r.status for r in report2.exercises] == ["correct", "correct"]
    assert report2.cell_errors == ["code cell 2 ('x = 2') raised ZeroDivisionError: division by zero"]
    assert not report2.ok
    assert grading.summary([report, report2]).startswith("2 correct, 0 open, 1 wrong, 1 failed; 1 lesson")


def test_grade_accepts_cells_tagged_to_raise(tmp_path):
    nb = _lesson(lesson="x = 2\nraise ValueError('shown on purpose')", answer_1="answer = 4",
                 tags={2: ["raises-exception"]})
    report = grading.grade_notebook(_write(nb, tmp_path))
    assert report.ok and [r.status for r in report.exercises] == ["correct", "open"]


def test_grade_runs_an_unexecuted_copy_anywhere_on_disk(tmp_path):
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    nb = _lesson(answer_2="from pathlib import Path\nanswer = [Path.cwd().name] * 3")
    report = grading.grade_notebook(_write(nb, folder))
    assert [r.status for r in report.exercises] == ["open", "correct"]


def test_grade_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        grading.grade_notebook(tmp_path / "nope.ipynb")
    with pytest.raises(ValueError, match="timeout must be >= 1"):
        grading.grade_notebook(_write(_lesson(), tmp_path), timeout=0)


def test_check_command_exit_status_and_lines(tmp_path):
    good = _write(_lesson(answer_1="answer = 4"), tmp_path, "good.ipynb")
    bad = _write(_lesson(answer_1="answer = 3"), tmp_path, "bad.ipynb")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "reglab.classroom", "check", *map(str, args)],
        capture_output=True, text=True, cwd=tmp_path)
    ok = run("good.ipynb")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == [
        "good.ipynb", f"  correct  {LABELS[0]}", f"  open     {LABELS[1]}",
        "1 correct, 1 open, 0 wrong, 0 failed"]
    failing = run(good, bad)
    assert failing.returncode == 1 and failing.stdout.splitlines()[-1] == (
        "1 correct, 2 open, 1 wrong, 0 failed")
    for args, message in (((tmp_path / "none.ipynb",), "does not exist"),
                          ((tmp_path,), "is a directory"),
                          (("--timeout", "-3", good), "timeout must be >= 1")):
        refused = run(*args)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr


# -- the student edition ---------------------------------------------------------------------


def test_student_notebook_drops_solutions_and_resets_exercises():
    nb = _lesson(answer_1="answer = 4  # done")
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="x")]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="lesson output")]
    student = edition.student_notebook(nb)
    texts = [workbook.source(c) for c in student["cells"]]
    assert "## Solutions" not in texts and not any("[1, 2, 3]" in t for t in texts)
    assert texts[4] == "answer = None  # your answer" and texts[7] == "answer = None  # a list"
    assert student["cells"][4]["outputs"] == [] and student["cells"][2]["outputs"]
    assert texts[-1].startswith("## Next")
    assert workbook.source(nb.cells[4]) == "answer = 4  # done"  # the input is not changed


def test_student_edition_refuses_a_used_destination_and_leaves_nothing_behind(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="already exists and is not an empty folder"):
        edition.make_student_edition(ROOT, used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    with pytest.raises(ValueError, match="outside the workbook"):
        edition.make_student_edition(ROOT, ROOT / "notebooks" / "class")
    with pytest.raises(ValueError, match="not the reglab workbook"):
        edition.make_student_edition(tmp_path, tmp_path / "out")
    with pytest.raises(TypeError, match="destination must be a path"):
        edition.make_student_edition(ROOT, 7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]


# -- new notebooks ---------------------------------------------------------------------------


def test_new_names_must_fit_the_numbering(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for stem in ("00_start_here", "01_first"):
        (folder / f"{stem}.ipynb").write_text("{}")
    assert scaffold.check_name("02_dropout", folder) == (2, "dropout")
    assert scaffold.check_name("02_max_norm.ipynb", folder) == (2, "max_norm")
    for name, message in (("01_first", "exists already"), ("01_other", "number 01 is taken"),
                          ("05_gap", "the next notebook is 02"), ("2_short", "does not fit"),
                          ("02_Caps", "does not fit"), ("02_", "does not fit"),
                          ("02_a__b", "does not fit")):
        with pytest.raises(ValueError, match=message):
            scaffold.check_name(name, folder)
    with pytest.raises(TypeError, match="name must be a string"):
        scaffold.check_name(2, folder)


def test_new_refuses_through_the_command_line_with_a_message(capsys):
    assert classroom.main(["new", "00_start_here"]) == 2
    assert "exists already" in capsys.readouterr().err
