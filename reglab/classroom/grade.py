"""``reglab grade``: grade one submitted notebook, and a whole class in parallel.

Size: 300+ lines: finding the submissions, restoring the check cells, judging each exercise
from the run and grading the class in parallel are one pipeline.

**Submissions.**  ``SUBMISSIONS_DIR`` holds one entry per student, the student id being the
folder's name or the file's stem (``reglab.classroom.variants.STUDENT_ID``; other ids are
refused with one line and the rest graded):

* a folder ``<student>/``: its ``.ipynb`` files, anywhere inside (not through symbolic links,
  not in ``.ipynb_checkpoints``), matched to the workbook's notebooks by file name;
* a file ``<student>__NN_name.ipynb``: that notebook of the workbook; several files of one
  student are one submission;
* a file ``<student>.ipynb``: the workbook's notebook whose exercise labels it calls.

**One notebook** is graded from a copy (``grade_notebook``): the exercises' check cells are
restored from the instructor's pristine notebook (by cell id, else by the label the check
calls; a check cell deleted is put back after its exercise cell), the Solutions section is
removed, and the cells run in a fresh sandboxed kernel (``reglab.classroom.sandbox``: network
off, time and memory limits, the file policy of ``reglab.classroom.policy``) in a scratch copy of
the student's folder; nothing of the submission's folder is modified.

**The key never enters the kernel.**  An exercise checked by ``checks.check`` is judged here, in
the grader, by ``reglab.checks.judge`` on the answer its restored check cell logged, against
the instructor's ``reglab/feedback.json`` (the workbook's, else the installed package's; never
the submission's).  An exercise checked by ``check_that`` (find-the-bug, graded by the doctor
in the kernel) takes the status its restored check cell logged: the kernel is trusted for those
as nbgrader trusts the tests it runs in the student's kernel (a submission that patches
``reglab.checks`` in its answer cell could fake them).  Only the lines a restored check cell
logged count; a cell of the student's that logs lines or prints a verdict counts for nothing.

An exercise is ``correct`` (1 point) or ``wrong``, ``open``, ``failed`` (0): failed names the
cell that failed as JupyterLab shows it, or why the kernel was stopped (time, memory) before
the exercise's check ran; a refusal of the policy (files, processes, network) is named.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat

from reglab import checks
from reglab.classroom import sandbox
from reglab.classroom.policy import REFUSED
from reglab.classroom.variants import STUDENT_ID
from reglab.classroom.workbook import (
    _assigns_answer,
    exercise_labels,
    read_notebook,
    solutions_range,
    source,
)
from reglab.params import (
    Function,
    InstanceOf,
    Integer,
    InvalidParameterError,
    ListOf,
    NoneOr,
    PathLike,
    Text,
    validated,
)

#: Separates the student id from the notebook's name in ``<student>__NN_name.ipynb``.
SEPARATOR = "__"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise's grade: ``status`` (``checks.STATUSES``), what to tell, the failed cell."""

    label: str
    status: str
    message: str = ""
    cell: str = ""  #: the cell that failed, as JupyterLab shows it (source and traceback)

    @property
    def score(self) -> int:
        """1 when correct, else 0."""
        return int(self.status == "correct")


@dataclass
class NotebookGrade:
    """The grade of one student's notebook."""

    student: str
    notebook: str  #: the workbook notebook's file name
    exercises: list[ExerciseGrade] = field(default_factory=list)
    stopped: str = ""  #: why the kernel was stopped early, in words ("" when it was not)
    problems: list[str] = field(default_factory=list)  #: lesson cells that failed, refusals
    seconds: float = 0.0

    @property
    def score(self) -> int:
        """Exercises correct."""
        return sum(e.score for e in self.exercises)


@dataclass(frozen=True)
class Submission:
    """One student's submitted notebooks: workbook notebook name -> the submitted file."""

    student: str
    notebooks: dict[str, Path]
    folder: Path | None  #: the student's folder (None for file submissions)


# --------------------------------------------------------------------------- the exercises


def _check_cells(nb: Any) -> dict[str, int]:
    """Label -> index of its check cell (outside the Solutions; not a cell that sets ``answer``)."""
    skipped = solutions_range(nb)
    found: dict[str, int] = {}
    for index, cell in enumerate(nb["cells"]):
        code = source(cell)
        if index in skipped or cell.get("cell_type") != "code" or _assigns_answer(code):
            continue
        for label in exercise_labels(code):
            found.setdefault(label, index)
    return found


def _answer_cell(nb: Any, check: int) -> int | None:
    return next((i for i in range(check - 1, -1, -1) if nb["cells"][i].get("cell_type") == "code"
                 and _assigns_answer(source(nb["cells"][i]))), None)


@validated(submitted=InstanceOf("builtins:dict", example=lambda: nbformat.v4.new_notebook()),
           pristine=InstanceOf("builtins:dict", example=lambda: nbformat.v4.new_notebook()))
def restore(submitted: Any, pristine: Any) -> tuple[Any, dict[str, int]]:
    """A copy of ``submitted`` without Solutions, with ``pristine``'s check cells restored.

    Returns the copy and label -> index of each restored check cell in it.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(submitted)))
    cut = solutions_range(nb)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in cut]
    for cell in nb.cells:
        cell.setdefault("metadata", {})
    for label, index in _check_cells(pristine).items():
        original = nbformat.from_dict(json.loads(json.dumps(pristine["cells"][index])))
        original.outputs, original.execution_count = [], None
        ids = [c.get("id") for c in nb.cells]
        at = ids.index(original.get("id")) if original.get("id") in ids else None
        if at is None:
            at = next((i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
                       and label in exercise_labels(source(c)) and not _assigns_answer(source(c))), None)
        if at is not None:
            nb.cells[at] = original
            continue
        answer = _answer_cell(pristine, index)
        answer_id = pristine["cells"][answer].get("id") if answer is not None else None
        after = ids.index(answer_id) if answer_id in ids else len(nb.cells) - 1
        nb.cells.insert(after + 1, original)
    return nb, {label: i for label, i in _check_cells(nb).items() if label in _check_cells(pristine)}


# --------------------------------------------------------------------------- judging


def _shown_cell(nb: Any, index: int, error: dict | None) -> str:
    """The cell as JupyterLab shows it: ``In [n]:``, its source, then its traceback."""
    number = sum(1 for c in nb["cells"][: index + 1] if c.get("cell_type") == "code")
    lines = source(nb["cells"][index]).splitlines()
    text = f"In [{number}]:\n" + "\n".join(lines[:25] + (["..."] if len(lines) > 25 else []))
    if error:
        trace = ANSI.sub("", "\n".join(error.get("traceback") or [])).strip().splitlines()
        trace = trace[-15:] or [f"{error['ename']}: {error['evalue']}"]
        text += "\n\n" + "\n".join(trace)
    return text


def _why(error: dict, timed_out: bool, limit: sandbox.Limits) -> str:
    if timed_out or error["ename"] == "CellTimeout":
        return f"stopped: the cell ran over its time limit ({limit.cell_timeout} s)"
    if error["ename"] == "MemoryError":
        return f"stopped: the cell asked for more than the memory limit ({limit.memory_gib:g} GiB)"
    refused = re.search(re.escape(REFUSED) + r" \(([^)]*)\) ([^:]*)", error["evalue"])
    if refused:
        return f"refused by the {refused[1]}: {refused[2]}"
    return f"{error['ename']}: {error['evalue']}"[:300]


def _judge(label: str, record: dict, entry: dict | None) -> tuple[str, str]:
    if record.get("status") == "open":
        return "open", str(record.get("message", "not answered yet."))
    if entry is None or entry.get("form") == "spec":  # check_that, judged in the kernel
        status = record.get("status") if record.get("status") in checks.STATUSES else "failed"
        return status, str(record.get("message", ""))
    if record.get("answer") is None:
        return "wrong", "not correct yet: your answer is of a kind the check cannot read."
    verdict = checks.judge(label, checks.from_json(record["answer"]), entry)
    return verdict.status, verdict.message


def _grade_exercise(label: str, at: int, nb: Any, run: sandbox.Run, entry: dict | None,
                    limit: sandbox.Limits, since: int) -> ExerciseGrade:
    answer = _answer_cell(nb, at)
    ran = run.cells.get(answer) if answer is not None else None
    if ran is not None and ran.error:
        why = _why(ran.error, ran.timed_out, limit)
        return ExerciseGrade(label, "failed", "your answer cell failed: " + why,
                             _shown_cell(nb, answer, ran.error))
    check = run.cells.get(at)
    if check is None:
        why = sandbox.STOPPED.get(run.stopped or "died", "").format(**vars(limit))
        return ExerciseGrade(label, "failed", f"{why or 'the check did not run'}: the exercise was "
                             "not checked")
    own = [r for r in check.records if r.get("exercise") == label]
    failed = next((i for i in sorted(run.cells) if since < i <= at and run.cells[i].error
                   and not _expects_error(nb["cells"][i])), None)
    if own:
        status, message = _judge(label, own[-1], entry)
        if status == "correct" or failed is None:
            return ExerciseGrade(label, status, message)
        ran = run.cells[failed]
        return ExerciseGrade(label, status, f"{message} (a cell of this exercise failed: "
                             f"{_why(ran.error, ran.timed_out, limit)})", _shown_cell(nb, failed, ran.error))
    culprit = at if failed is None else failed
    error = run.cells[culprit].error
    why = _why(error, run.cells[culprit].timed_out, limit) if error else "its check logged nothing"
    return ExerciseGrade(label, "failed", f"the check did not run: {why}", _shown_cell(nb, culprit, error))


def _expects_error(cell: Any) -> bool:
    return "raises-exception" in cell.get("metadata", {}).get("tags", [])


def _problems(nb: Any, run: sandbox.Run, exercise_cells: set[int], limit: sandbox.Limits) -> list[str]:
    out = []
    for index, ran in sorted(run.cells.items()):
        if ran.error and index not in exercise_cells and not _expects_error(nb["cells"][index]):
            out.append(_why(ran.error, ran.timed_out, limit) + "\n" + _shown_cell(nb, index, ran.error))
    return out


@validated(path=PathLike(), student=Text(), pristine=PathLike(), workbook=PathLike(),
           feedback=InstanceOf("builtins:dict", example=dict), limit=sandbox._LIMITS,
           scratch=PathLike(), folder=NoneOr(PathLike()), deny=ListOf(PathLike()))
def grade_notebook(path: Path, *, student: str, pristine: Path, workbook: Path, feedback: dict,
                   limit: sandbox.Limits, scratch: Path, folder: Path | None = None,
                   deny: list[Path] = ()) -> NotebookGrade:
    """Grade the submitted notebook ``path`` of ``student`` against the ``pristine`` notebook.

    ``folder``: the student's folder, copied whole into ``scratch`` (else only the notebook);
    ``deny``: folders the kernel may not read besides the workbook (the submissions, the
    other scratch folders); ``feedback``: label -> the instructor's feedback entry.
    """
    grade = NotebookGrade(student, pristine.name)
    original = read_notebook(pristine)
    try:
        submitted = read_notebook(path)
    except InvalidParameterError as err:
        grade.exercises = [ExerciseGrade(label, "failed", f"the notebook cannot be read: {err}")
                           for label in _check_cells(original)]
        return grade
    nb, checked = restore(submitted, original)
    copy = scratch / "submission"
    if folder is not None:
        shutil.copytree(folder, copy, symlinks=True)
        here = copy / path.relative_to(folder)
    else:
        copy.mkdir(parents=True)
        here = copy / path.name
    env = sandbox.prepare(scratch, student=student, workbook=workbook,
                          deny=list(deny), limit=limit)
    indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and source(c).strip()]
    run = sandbox.execute(nb, indices, folder=here.parent, scratch=scratch, env=env,
                          limit=limit)
    grade.seconds = run.seconds
    if run.stopped:
        grade.stopped = sandbox.STOPPED[run.stopped].format(**vars(limit))
    since = -1
    exercise_cells: set[int] = set()
    for label, at in sorted(checked.items(), key=lambda item: item[1]):
        grade.exercises.append(_grade_exercise(label, at, nb, run, feedback.get(label), limit, since))
        exercise_cells.update(range(since + 1, at + 1))  # the exercise's cells: its own report
        since = at
    grade.problems = _problems(nb, run, exercise_cells, limit)
    return grade


# --------------------------------------------------------------------------- the class


@validated(workbook=PathLike())
def instructor_feedback(workbook: Path) -> dict[str, dict]:
    """The instructor's feedback entries: ``workbook/reglab/feedback.json``, else the package's."""
    path = workbook / "reglab" / "feedback.json"
    if not path.is_file():
        path = resources.files("reglab").joinpath("feedback.json")
    if not path.is_file():
        raise FileNotFoundError("no reglab/feedback.json: run `python3 tasks.py notebooks` to make "
                                "the key")
    return json.loads(path.read_text(encoding="utf-8"))["exercises"]


@validated(workbook=PathLike())
def pristine_labels(workbook: Path) -> dict[str, list[str]]:
    """Each workbook notebook's exercise labels, in order: file name -> labels."""
    out = {}
    for path in sorted((workbook / "notebooks").glob("*.ipynb")):
        cells = _check_cells(read_notebook(path))
        out[path.name] = sorted(cells, key=cells.get)
    return out


def _notebook_files(folder: Path) -> list[Path]:
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        found += [Path(top) / f for f in sorted(files)
                  if f.endswith(".ipynb") and not (Path(top) / f).is_symlink()]
    return found


def _by_labels(path: Path, pristine: dict[str, set[str]]) -> str | None:
    try:
        called = set(_check_cells(read_notebook(path)))
    except InvalidParameterError:
        return None
    best = max(pristine, key=lambda name: len(pristine[name] & called), default=None)
    return best if best is not None and pristine[best] & called else None


@validated(path=PathLike(), pristine=InstanceOf("builtins:dict", example=dict))
def match_notebook(path: Path, pristine: dict[str, set[str]]) -> str | None:
    """The workbook notebook (a key of ``pristine``: name -> its labels) that ``path`` is:
    by its name (``NN_name.ipynb`` or ``<student>__NN_name.ipynb``), else by its exercises."""
    if path.name in pristine:
        return path.name
    name = path.stem.partition(SEPARATOR)[2] + ".ipynb"
    return name if name in pristine else _by_labels(path, pristine)


@validated(folder=PathLike(), workbook=PathLike())
def find_submissions(folder: Path, workbook: Path) -> tuple[list[Submission], list[str]]:
    """The submissions in ``folder`` (see the module doc), and one line per entry refused."""
    names = {p.name: p for p in sorted((workbook / "notebooks").glob("*.ipynb"))}
    pristine = {name: set(_check_cells(read_notebook(p))) for name, p in names.items()}
    found: dict[str, dict[str, Path]] = {}
    folders: dict[str, Path] = {}
    refused = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir():
            student = entry.name
            notebooks = {p.name: p for p in _notebook_files(entry) if p.name in names}
        elif entry.suffix == ".ipynb":
            student = entry.stem.partition(SEPARATOR)[0]
            name = match_notebook(entry, pristine)
            notebooks = {name: entry} if name in names else {}
        else:
            continue
        if not STUDENT_ID.match(student):
            refused.append(f"refused {entry.name}: the student id {student!r} is not 1 to 64 "
                           "letters, digits or ._@-")
        elif not notebooks:
            refused.append(f"refused {entry.name}: no notebook of the workbook in it")
        else:
            found.setdefault(student, {}).update(notebooks)
            if entry.is_dir():
                folders[student] = entry
    return [Submission(s, dict(sorted(n.items())), folders.get(s)) for s, n in sorted(found.items())], refused


def _task(job: dict) -> NotebookGrade:
    """One notebook's grade, in a worker process (never raises)."""
    try:
        return grade_notebook(**job)
    except Exception as err:  # noqa: BLE001 - the grader's own failure, reported for this notebook
        grade = NotebookGrade(job["student"], job["pristine"].name)
        grade.stopped = f"the grader could not run this notebook ({type(err).__name__}: {err})"
        return grade
    finally:
        shutil.rmtree(job["scratch"], ignore_errors=True)


@validated(submissions=InstanceOf("builtins:list", example=list), workbook=PathLike(),
           limit=sandbox._LIMITS, workers=Integer(minimum=1), deny=ListOf(PathLike()),
           on_done=NoneOr(Function()))
def grade_class(submissions: list[Submission], *, workbook: Path, limit: sandbox.Limits,
                workers: int = 1, deny: list[Path] = (),
                on_done: Callable[[int, int, NotebookGrade], None] | None = None) -> list[NotebookGrade]:
    """Grade every notebook of ``submissions``, ``workers`` kernels at a time (one process each).

    ``on_done(k, n, grade)`` is called as each notebook is graded (in completion order); the
    grades come back in the order of the submissions.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    feedback = instructor_feedback(workbook)
    parent = Path(tempfile.mkdtemp(prefix="reglab-grade-"))
    jobs = []
    for sub in submissions:
        for k, (name, path) in enumerate(sub.notebooks.items()):
            jobs.append({"path": path, "student": sub.student, "pristine": workbook / "notebooks" / name,
                         "workbook": workbook, "feedback": feedback, "limit": limit,
                         "scratch": parent / f"{sub.student}-{k}", "folder": sub.folder,
                         "deny": [*deny, parent]})
    grades: list[NotebookGrade | None] = [None] * len(jobs)
    try:
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_task, job): i for i, job in enumerate(jobs)}
            for done, future in enumerate(as_completed(futures), 1):
                grades[futures[future]] = grade = future.result()
                if on_done is not None:
                    on_done(done, len(jobs), grade)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return [g for g in grades if g is not None]
