"""The class tools: notebook structure, ``check``, the student edition and ``new``.

Small notebooks written here (no TensorFlow in them) keep each kernel start short; the
student edition of the real workbook is graded in ``test_student_edition.py``.  A scaffolded
notebook goes through the real ``tasks.py new`` and ``tasks.py test NOTEBOOK`` in a copy of
the workbook (tests marked ``slow`` run a kernel).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab import checks
from reglab.classroom import commands, edition, grading, scaffold, workbook
from reglab.params import InvalidParameterError

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("Exercise 1: two plus two", "Exercise 2: a list of three")
CHECK_1 = f'checks.check("{LABELS[0]}", answer)'
#: What the shipped feedback file would hold for exercise 1 (the tiny lesson registers it).
KEY_1 = (f'checks.register("{LABELS[0]}", {{**checks.commit("{LABELS[0]}", 4), '
         '"hints": ["add the two numbers"]})')
#: Set in the scaffold probe's runs, so that the copy's suite does not probe again.
PROBE_VARIABLE = "REGLAB_SCAFFOLD_PROBE"
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
        ("code", f"from reglab import checks\n{KEY_1}"),
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


def test_exercise_labels_reads_literals_in_order_and_survives_bad_code():
    code = f'{CHECK_2}\nreglab.checks.check_close("a", 1, 1)\nprint("checks.check_x")'
    assert workbook.exercise_labels(code) == [LABELS[1], "a"]
    assert workbook.exercise_labels("answer = (") == []


def test_a_check_without_an_exercise_cell_is_refused():
    nb = _notebook(("code", CHECK_1))
    with pytest.raises(InvalidParameterError, match="no exercise cell above it"):
        workbook.find_exercises(nb)


def test_structure_reads_plain_json_as_nbformat_does(tmp_path):
    path = _write(_lesson(), tmp_path)
    as_json = json.loads(path.read_text(encoding="utf-8"))
    assert workbook.find_exercises(as_json) == workbook.find_exercises(workbook.read_notebook(path))


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.ipynb", "does not exist"),
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: (tmp / "notes.txt").write_text("hi") and tmp / "notes.txt", "not a notebook"),
    (lambda tmp: (tmp / "bad.ipynb").write_text("{not json") and tmp / "bad.ipynb",
     "not a readable notebook"),
    (lambda tmp: (tmp / "list.ipynb").write_text("[1, 2]") and tmp / "list.ipynb",
     "not a readable notebook"),
    (lambda tmp: (tmp / "empty.ipynb").write_text("{}") and tmp / "empty.ipynb",
     "not a readable notebook"),
])
def test_read_notebook_refuses_what_is_not_a_notebook(tmp_path, make, message):
    with pytest.raises(InvalidParameterError, match=message):
        workbook.read_notebook(make(tmp_path))


def test_the_workbook_root_is_found_from_any_folder_inside_it(tmp_path):
    root = tmp_path / "class"
    (root / "notebooks" / "deep").mkdir(parents=True)
    (root / "tasks.py").write_text("")
    assert workbook.workbook_root(root / "notebooks" / "deep") == root.resolve()
    # outside any workbook: the checkout this package is imported from (an editable install)
    assert workbook.workbook_root(tmp_path) == ROOT


# -- the check log ---------------------------------------------------------------------------


def test_checks_log_each_result_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(checks.LOG_VARIABLE, str(log))
    checks.register("b", {**checks.commit("b", 1), "hints": ["one more than zero"]})
    checks.check("a", None)
    checks.check("b", 1)
    checks.check("b", 2)  # a wrong answer is reported, not raised: Run All goes on
    checks.check_that("d", 5, lambda a: len(a) == 1, requirement="one item")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["status"], r["answer"]) for r in records] == [
        ("a", "open", None), ("b", "correct", 1), ("b", "wrong", 2), ("d", "wrong", 5)]
    assert records[2]["message"] == "not correct yet. Hint 1 of 1: one more than zero"
    assert "cannot be tested" in records[3]["message"]


# -- grading ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_grade_reports_open_exercises_and_skips_the_solutions(tmp_path):
    report = grading.grade_notebook(_write(_lesson(), tmp_path))
    assert [(r.label, r.status) for r in report.exercises] == [(LABELS[0], "open"), (LABELS[1], "open")]
    assert report.ok and grading.summary([report]) == "0 correct, 2 open, 0 wrong, 0 failed"
    assert checks.LOG_VARIABLE not in os.environ  # only the kernel was told where to log


@pytest.mark.slow
def test_grade_tells_correct_wrong_and_failed_apart(tmp_path):
    nb = _lesson(answer_1="answer = 5", answer_2="answer = [1, 2, undefined_name]")
    nb2 = _lesson(answer_1="answer = x + 2", lesson="x = 2\n1 / 0",
                  answer_2="answer = [1, 2, 3]")
    report = grading.grade_notebook(_write(nb, tmp_path))
    wrong, failed = report.exercises
    assert (wrong.status, failed.status) == ("wrong", "failed")
    assert wrong.message == "not correct yet. Hint 1 of 1: add the two numbers"
    assert failed.message.startswith("the cell 'answer = [1, 2, undefined_name]' under 'Exercises' "
                                     "raised NameError")
    assert not report.ok
    # a lesson cell that raises is reported, and exercises that still ran are graded
    report2 = grading.grade_notebook(_write(nb2, tmp_path, "other.ipynb"))
    assert [r.status for r in report2.exercises] == ["correct", "correct"]
    assert report2.cell_errors == [
        "the cell 'x = 2' under '99 · A tiny lesson' raised ZeroDivisionError: division by zero"]
    assert report2.lines()[0] == f"  error    {report2.cell_errors[0]}"  # the cause comes first
    assert not report2.ok
    assert grading.summary([report, report2]).startswith("2 correct, 0 open, 1 wrong, 1 failed; 1 lesson")


@pytest.mark.slow
def test_grade_accepts_cells_tagged_to_raise(tmp_path):
    nb = _lesson(lesson="x = 2\nraise ValueError('shown on purpose')", answer_1="answer = 4",
                 tags={2: ["raises-exception"]})
    report = grading.grade_notebook(_write(nb, tmp_path))
    assert report.ok and [r.status for r in report.exercises] == ["correct", "open"]


@pytest.mark.slow
def test_grade_runs_an_unexecuted_copy_anywhere_on_disk(tmp_path):
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    nb = _lesson(answer_2="from pathlib import Path\nanswer = [Path.cwd().name] * 3")
    report = grading.grade_notebook(_write(nb, folder))
    assert [r.status for r in report.exercises] == ["open", "correct"]


@pytest.mark.slow
def test_check_prints_each_exercise_and_fails_on_a_wrong_one(tmp_path, monkeypatch):
    good = _write(_lesson(answer_1="answer = 4"), tmp_path, "good.ipynb")
    bad = _write(_lesson(answer_1="answer = 3"), tmp_path, "bad.ipynb")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert commands.check([Path("good.ipynb")], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["good.ipynb ...", f"  correct  {LABELS[0]}", f"  open     {LABELS[1]}"]
    assert re.fullmatch(r"  \(\d+ s\)", lines[3]) and lines[4:] == ["1 correct, 1 open, 0 wrong, 0 failed"]
    out = io.StringIO()
    assert commands.check([good, bad], out=out) == 1
    assert out.getvalue().splitlines()[0] == "[1/2] good.ipynb ..."  # relative to the current folder
    assert out.getvalue().splitlines()[-1] == "1 correct, 2 open, 1 wrong, 0 failed"


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "none.ipynb", "does not exist"),
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: (tmp / "bad.ipynb").write_text("{not json") and tmp / "bad.ipynb",
     "not a readable notebook"),
])
def test_check_refuses_every_bad_path_before_running_any(tmp_path, make, message):
    good = _write(_lesson(lesson="x = 2\nopen('ran', 'w').close()"), tmp_path, "good.ipynb")
    out = io.StringIO()
    with pytest.raises(InvalidParameterError, match=message):
        commands.check([good, make(tmp_path)], out=out)
    assert out.getvalue() == "" and not (tmp_path / "ran").exists()


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


def test_student_notebook_drops_the_cells_of_the_answer_key():
    nb = _lesson(lesson="x = 2")
    nb.cells[2].metadata["tags"] = [edition.KEY_TAG]  # e.g. a proof that broken code fails its check
    texts = [workbook.source(c) for c in edition.student_notebook(nb)["cells"]]
    assert "x = 2" not in texts and texts[2].startswith("## Exercises")


def test_student_edition_refuses_a_used_destination_and_leaves_nothing_behind(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(InvalidParameterError, match="already exists and is not an empty folder"):
        edition.make_student_edition(ROOT, used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    with pytest.raises(InvalidParameterError, match="outside the workbook"):
        edition.make_student_edition(ROOT, ROOT / "notebooks" / "class")
    with pytest.raises(InvalidParameterError, match="not the reglab workbook"):
        edition.make_student_edition(tmp_path, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]


def test_the_student_edition_is_complete_and_readable_by_all(tmp_path, monkeypatch):
    source = tmp_path / "workbook"
    (source / "notebooks").mkdir(parents=True)
    (source / "reglab").mkdir()
    (source / "reglab" / "__init__.py").write_text("")
    (source / "tasks.py").write_text("")
    _write(_lesson(answer_1="answer = 4"), source / "notebooks", "99_lesson.ipynb")
    empty = tmp_path / "class"
    empty.mkdir()  # an empty folder may be the destination
    monkeypatch.chdir(source)
    out = io.StringIO()
    assert commands.student_edition(empty, out=out) == 0
    assert out.getvalue().startswith(f"student edition written to {empty}: 1 notebooks")
    assert sorted(p.name for p in empty.iterdir()) == [
        "README.md", "STUDENT", edition.MARKER, "notebooks", "reglab", "tasks.py"]
    assert (empty / "STUDENT").read_text().splitlines()[0] == "example"
    assert "student edition" in (empty / "README.md").read_text()
    student = workbook.read_notebook(empty / "notebooks" / "99_lesson.ipynb")
    assert [workbook.source(student.cells[e.exercise_cell]) for e in workbook.find_exercises(student)] == [
        "answer = None  # your answer", "answer = None  # a list"]
    umask = os.umask(0)
    os.umask(umask)
    for folder in (empty, empty / "notebooks"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask, folder
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


# -- new notebooks ---------------------------------------------------------------------------


def test_new_names_must_fit_the_numbering(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for stem in ("00_start_here", "01_first"):
        (folder / f"{stem}.ipynb").write_text("{}")
    assert scaffold.validate_name("02_dropout", folder) == (2, "dropout")
    assert scaffold.validate_name("02_max_norm.ipynb", folder) == (2, "max_norm")
    for name, message in (("01_first", "exists already"), ("01_other", "number 01 is taken"),
                          ("05_gap", "the next notebook is 02"), ("2_short", "does not fit"),
                          ("02_Caps", "does not fit"), ("02_", "does not fit"),
                          ("02_a__b", "does not fit")):
        with pytest.raises(InvalidParameterError, match=message):
            scaffold.validate_name(name, folder)


def test_new_refuses_a_taken_name_and_writes_nothing():
    before = sorted(p.name for p in (ROOT / "notebooks").iterdir())
    with pytest.raises(InvalidParameterError, match="exists already"):
        commands.new("00_start_here", out=io.StringIO())
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir()) == before


def test_a_new_notebook_is_lint_clean(tmp_path, monkeypatch):
    copy = tmp_path / "workbook"
    (copy / "notebooks").mkdir(parents=True)
    for name in ("README.md", "pyproject.toml", "tasks.py"):
        shutil.copy2(ROOT / name, copy / name)
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy2(path, copy / "notebooks" / path.name)
    name = f"{len(list((ROOT / 'notebooks').glob('*.ipynb'))):02d}_lint_probe"
    monkeypatch.chdir(copy)
    out = io.StringIO()
    assert commands.new(name, out=out) == 0
    assert out.getvalue() == (f"created notebooks/{name}.ipynb; added to the map in 00_start_here "
                              "and README.md\n")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", f"notebooks/{name}.ipynb"],
                          cwd=copy, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def _workbook_copy(destination: Path) -> Path:
    """The workbook's files as git knows them (tracked and new, not ignored), ``.venv`` linked.

    The link lets ``tasks.py`` find its set-up done: nothing is installed.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in sorted(set(filter(None, listed.split("\0")))):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    (destination / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return destination


@pytest.mark.slow
def test_a_scaffolded_notebook_passes_the_real_test_command(tmp_path):
    """``tasks.py new`` then ``tasks.py test notebooks/NN_topic.ipynb`` in a copy of the workbook."""
    if os.environ.get(PROBE_VARIABLE):  # never nest: a wider run in the copy would start it again
        pytest.skip("already inside a scaffold probe's run")
    copy = _workbook_copy(tmp_path / "workbook")
    stamps = [ROOT / ".venv" / name for name in (".reglab-installed", ".reglab-installed-book")]
    spec = importlib.util.spec_from_file_location("copied_tasks", copy / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    wanted = [tasks._inputs_hash(), tasks._inputs_hash(("requirements-book.txt",))]
    if [p.read_text().strip() if p.exists() else "" for p in stamps] != wanted:
        pytest.fail(".venv is not set up for these pins; run `python3 tasks.py test` once "
                    "(this test must not install into the shared .venv)")
    name = f"{len(list((ROOT / 'notebooks').glob('*.ipynb'))):02d}_scaffold_probe"
    env = {**os.environ, PROBE_VARIABLE: "1"}
    run = lambda *args: subprocess.run([sys.executable, "tasks.py", *args], cwd=copy,  # noqa: E731
                                       capture_output=True, text=True, env=env)
    created = run("new", name)
    assert created.returncode == 0, created.stdout[-3000:] + created.stderr[-3000:]
    tested = run("test", f"notebooks/{name}.ipynb")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert re.search(r"\b[1-9]\d* passed", tested.stdout), tested.stdout[-3000:]


@pytest.mark.slow
def test_check_leads_with_the_first_failing_cell_and_counts_the_later_ones(tmp_path):
    nb = _lesson(lesson="x = undefined_in_lesson", answer_1="answer = x + 2",
                 answer_2="answer = [x, x, x]")
    nb.cells.insert(3, nbformat.v4.new_code_cell("y = x * 2"))
    report = grading.grade_notebook(_write(nb, tmp_path))
    lines = report.lines()
    assert lines[0] == ("  error    the cell 'x = undefined_in_lesson' under '99 · A tiny lesson' raised "
                        "NameError: name 'undefined_in_lesson' is not defined")
    assert lines[1].strip() == "and 1 later cell raised too: fix the first, then run the notebook again"
    assert [r.status for r in report.exercises] == ["failed", "failed"]
