"""``reglab check``: run a student's notebook and say which exercises are right.

The notebook is read once (``nbformat``) and runs top to bottom in a fresh kernel, without
comparing any output, from the folder it lives in (so a copy anywhere on disk works, executed
or not). The Solutions section, if the notebook still has one, is not run: the exercises are
graded on the student's own cells.
Each check of ``reglab.checks`` appends its result to a log file, which the kernel (and only
the kernel) is told of in its environment (``REGLAB_CHECK_LOG``); the result of an exercise is
the last one its check cell logged:

* ``correct`` / ``open`` (``answer`` is still ``None``) / ``wrong`` (with the check's message);
* ``failed``: the check never gave a result, because its exercise cell, the check cell or a
  cell before it raised an error; the line names that cell and the error.

A lesson cell that raises (not tagged ``raises-exception``) is reported as well. The summary
line counts ``N correct, N open, N wrong, N failed``; anything wrong or failed makes the run fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from reglab.checks import LOG_VARIABLE
from reglab.classroom.workbook import find_exercises, read_notebook, solutions_range, source
from reglab.params import Function, InstanceOf, Integer, ListOf, NoneOr, Options, PathLike, validated

#: The statuses of an exercise, in the order of the summary line.
STATUSES: tuple[str, ...] = ("correct", "open", "wrong", "failed")


@dataclass(frozen=True)
class ExerciseResult:
    """What ``check`` found for one exercise."""

    label: str
    status: str  #: one of ``STATUSES``
    message: str = ""


@dataclass
class NotebookReport:
    """The graded exercises of one notebook, and the lesson cells that raised an error."""

    path: Path
    exercises: list[ExerciseResult] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)

    @validated(status=Options(*STATUSES))
    def count(self, status: str) -> int:
        """How many exercises have ``status``."""
        return sum(result.status == status for result in self.exercises)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong or failed (open exercises are fine)."""
        return not self.cell_errors and not (self.count("wrong") or self.count("failed"))

    def lines(self) -> list[str]:
        """The first lesson cell that raised (the cause of what follows), then one line per
        exercise; later errors are counted, not listed (they most often follow from the first)."""
        out = []
        if self.cell_errors:
            out.append(f"  error    {self.cell_errors[0]}")
            if len(self.cell_errors) > 1:
                later = len(self.cell_errors) - 1
                out.append(f"{'':11}and {later} later cell{'s' if later > 1 else ''} raised too: "
                           "fix the first, then run the notebook again")
        for result in self.exercises:
            text = f"  {result.status:<8} {result.label}"
            out.append(text + (f"\n{'':11}{result.message}" if result.message else ""))
        return out


@validated(reports=ListOf(InstanceOf("reglab.classroom.grading:NotebookReport",
                                     example=lambda: NotebookReport(Path("lesson.ipynb")))))
def summary(reports: list[NotebookReport]) -> str:
    """``N correct, N open, N wrong, N failed`` over all reports."""
    counts = {status: sum(r.count(status) for r in reports) for status in STATUSES}
    line = ", ".join(f"{counts[s]} {s}" for s in STATUSES)
    errors = sum(len(r.cell_errors) for r in reports)
    if errors:
        line += f"; {errors} lesson cell{'s' if errors != 1 else ''} raised an error"
    return line


def _cell_name(cells: list[Any], index: int) -> str:
    """A cell as a student finds it in JupyterLab: its first line and the heading above it."""
    first = next((line.strip() for line in source(cells[index]).splitlines() if line.strip()), "")
    if len(first) > 50:
        first = first[:47] + "..."
    heading = next((source(c).strip().splitlines()[0].lstrip("#").strip() for c in reversed(cells[:index])
                    if c.get("cell_type") == "markdown" and source(c).lstrip().startswith("#")), "")
    return f"the cell {first!r}" + (f" under {heading!r}" if heading else " at the top")


def _error_of(cell: Any) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            evalue = re.sub(r"\(\d+\.py, line (\d+)\)", r"(line \1)", output.get("evalue", ""))
            return f"{output.get('ename', 'Error')}: {evalue}".strip()
    return None


def _expects_error(cell: Any) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in source(cell)


@contextlib.contextmanager
def _check_log() -> Iterator[Path]:
    """A fresh, empty log file for the checks of one run (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="reglab-check-") as folder:
        log = Path(folder) / "checks.jsonl"
        log.touch()
        yield log


def _read_records(log: Path, offset: int) -> tuple[list[dict], int]:
    with open(log, encoding="utf-8") as handle:
        handle.seek(offset)
        text = handle.read()
        end = handle.tell()
    records = []
    for line in text.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            records.append(json.loads(line))
    return records, end


_TIMEOUT = Integer(minimum=1)  # nbclient takes whole seconds


@validated(path=PathLike(), timeout=_TIMEOUT)
def grade_notebook(path: Path, *, timeout: int = 600) -> NotebookReport:
    """Run the notebook at ``path`` (Solutions section excluded) and grade its exercises.

    ``timeout`` is the limit in seconds for one cell. ``InvalidParameterError`` for a path that
    is missing, a directory or not a notebook.
    """
    return _grade(path, read_notebook(path), timeout)


@validated(paths=ListOf(PathLike()), timeout=_TIMEOUT, on_start=NoneOr(Function()))
def grade_notebooks(paths: list[Path], *, timeout: int = 600,
                    on_start: Callable[[Path], None] | None = None) -> Iterator[NotebookReport]:
    """Grade the notebooks at ``paths`` one after the other, as ``grade_notebook`` does.

    Every path is read (and refused with ``InvalidParameterError`` if it is not a notebook)
    when this is called, before any runs; the reports come as the iterator is consumed, each
    after ``on_start(path)`` (to say which notebook is running).
    """
    notebooks = [(path, read_notebook(path)) for path in paths]

    def run() -> Iterator[NotebookReport]:
        for path, nb in notebooks:
            if on_start is not None:
                on_start(path)
            yield _grade(path, nb, timeout)

    return run()


def _grade(path: Path, nb: NotebookNode, timeout: int) -> NotebookReport:
    """Run ``nb`` (read from ``path``) in a fresh kernel, in ``path``'s folder, and grade it.

    The kernel gets this process's environment plus ``REGLAB_CHECK_LOG``; this process's own
    environment is not changed.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    cells = nb.cells
    skipped = solutions_range(nb)
    exercises = find_exercises(nb)
    records: dict[int, list[dict]] = {}
    errors: dict[int, str] = {}
    died = None
    with _check_log() as log:
        client = NotebookClient(
            nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
            kernel_name="python3", extra_arguments=["--log-level=ERROR"],
            resources={"metadata": {"path": str(path.resolve().parent)}},
        )
        offset = 0
        with client.setup_kernel(env={**os.environ, LOG_VARIABLE: str(log)}):
            for index, cell in enumerate(cells):
                if cell.cell_type != "code" or index in skipped or not source(cell).strip():
                    continue
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    died = index
                    break
                records[index], offset = _read_records(log, offset)
                error = _error_of(cell)
                if error is not None and not _expects_error(cell):
                    errors[index] = error
    return _report(path, cells, exercises, records, errors, died)


def _report(path: Path, cells: list[Any], exercises: list[Any], records: dict[int, list[dict]],
            errors: dict[int, str], died: int | None) -> NotebookReport:
    report = NotebookReport(path)
    exercise_cells = {i for ex in exercises for i in (ex.exercise_cell, ex.check_cell)}
    previous_check = -1
    for ex in exercises:
        own = [r for r in records.get(ex.check_cell, []) if r.get("exercise") == ex.label]
        culprit = None
        if ex.exercise_cell in errors:
            culprit = ex.exercise_cell
        elif not own:
            window = [i for i in errors if previous_check < i <= ex.check_cell]
            earlier = [i for i in errors if i <= ex.check_cell]
            culprit = (window or earlier or [None])[0]
        if culprit is not None and culprit not in exercise_cells:
            message = f"did not run: {_cell_name(cells, culprit)} raised an error before it"
            report.exercises.append(ExerciseResult(ex.label, "failed", message))
        elif culprit is not None:
            message = f"{_cell_name(cells, culprit)} raised {errors[culprit]}"
            report.exercises.append(ExerciseResult(ex.label, "failed", message))
        elif died is not None and died <= ex.check_cell:
            message = f"the kernel died in {_cell_name(cells, died)}"
            report.exercises.append(ExerciseResult(ex.label, "failed", message))
        elif not own:
            report.exercises.append(ExerciseResult(
                ex.label, "failed", "its check did not run (was the check cell changed?)"))
        else:
            last = own[-1]
            status = last.get("status") if last.get("status") in STATUSES else "failed"
            message = last.get("message", "") if status in ("wrong", "failed") else ""
            report.exercises.append(ExerciseResult(ex.label, status, message))
        previous_check = ex.check_cell
    for index, error in errors.items():
        if index not in exercise_cells:
            report.cell_errors.append(f"{_cell_name(cells, index)} raised {error}")
    if died is not None and died not in exercise_cells:
        report.cell_errors.append(f"the kernel died in {_cell_name(cells, died)}")
    return report
