"""What ``reglab grade`` writes: ``grades.csv`` and one feedback file per student.

``grades.csv`` (UTF-8, comma-separated, one header line; what an LMS imports): one row per
student, sorted by id, the column ``student``, then one column per exercise named
``NN_name: Exercise k`` (1 correct, 0 otherwise), then ``total``.  The exercises are those of
every workbook notebook that at least one student submitted; a notebook a student did not
submit counts 0.  ``feedback/<student>.md``: per notebook and exercise, correct / wrong with the
check's message and hint / open / failed with the cell that failed as JupyterLab shows it, and
why a notebook was stopped (time, memory) or what the policy refused (files, processes, network).
Both are written whole, beside the folder and renamed (``reglab.files.staged``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reglab.classroom.grade import NotebookGrade
from reglab.files import staged
from reglab.params import InstanceOf, ListOf, PathLike, Text, validated

_GRADES = ListOf(InstanceOf("reglab.classroom.grade:NotebookGrade",
                            example=lambda: NotebookGrade("s01", "00_start_here.ipynb")))


def _column(notebook: str, label: str) -> str:
    return f"{notebook.removesuffix('.ipynb')}: {label.split(':')[0].strip()}"


@validated(grades=_GRADES, pristine=InstanceOf("builtins:dict", example=dict))
def table(grades: list[NotebookGrade], pristine: dict[str, list[str]]) -> tuple[list[str], list[list]]:
    """The header and the rows of ``grades.csv``; ``pristine``: notebook -> its exercise labels."""
    submitted = sorted({g.notebook for g in grades})
    columns = [(nb, label) for nb in submitted for label in pristine.get(nb, [])]
    scores: dict[str, dict[tuple[str, str], int]] = {}
    for grade in grades:
        row = scores.setdefault(grade.student, {})
        for exercise in grade.exercises:
            row[(grade.notebook, exercise.label)] = exercise.score
    header = ["student"] + [_column(nb, label) for nb, label in columns] + ["total"]
    rows = []
    for student in sorted(scores):
        values = [scores[student].get(c, 0) for c in columns]
        rows.append([student, *values, sum(values)])
    return header, rows


def _csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


_STATUS = {"correct": "correct", "wrong": "wrong", "open": "open (not answered)", "failed": "failed"}


@validated(student=Text(), grades=_GRADES,
           pristine=InstanceOf("builtins:dict", example=dict))
def feedback(student: str, grades: list[NotebookGrade], pristine: dict[str, list[str]]) -> str:
    """The feedback file of ``student`` (Markdown), from the grades of its notebooks."""
    own = {g.notebook: g for g in grades if g.student == student}
    submitted = sorted({g.notebook for g in grades})
    total = sum(g.score for g in own.values())
    possible = sum(len(pristine.get(nb, [])) for nb in submitted)
    lines = [f"# Feedback for {student}", "", f"Total: {total} of {possible}.", ""]
    for name in submitted:
        grade = own.get(name)
        if grade is None:
            lines += [f"## {name}: not submitted", ""]
            continue
        count = len(pristine.get(name, []))
        lines += [f"## {name}: {grade.score} of {count} (ran in {grade.seconds:.0f} s)", ""]
        if grade.stopped:
            lines += [f"**The notebook was {grade.stopped}.** Exercises not checked by then count 0.", ""]
        for exercise in grade.exercises:
            said = f": {exercise.message}" if exercise.message and exercise.status != "correct" else ""
            lines.append(f"- **{exercise.label}**: {_STATUS[exercise.status]}{said}")
            if exercise.cell:
                lines += ["", "  ```", *("  " + line for line in exercise.cell.splitlines()), "  ```", ""]
        if grade.problems:
            lines += ["", "Lesson cells that failed:", ""]
            for problem in grade.problems:
                first, _, rest = problem.partition("\n")
                lines += [f"- {first}", "", "  ```", *("  " + line for line in rest.splitlines()),
                          "  ```", ""]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@validated(out=PathLike(), grades=_GRADES, pristine=InstanceOf("builtins:dict", example=dict))
def write(out: Path, grades: list[NotebookGrade], pristine: dict[str, list[str]]) -> list[list]:
    """Write ``out/grades.csv`` and ``out/feedback/<student>.md`` (``out`` replaced whole).

    Returns the rows of ``grades.csv`` (header first).
    """
    header, rows = table(grades, pristine)
    with staged(out, folder=True) as folder:
        (folder / "grades.csv").write_text(_csv(header, rows), encoding="utf-8", newline="")
        (folder / "feedback").mkdir()
        for student in sorted({g.student for g in grades}):
            (folder / "feedback" / f"{student}.md").write_text(
                feedback(student, grades, pristine), encoding="utf-8")
    return [header, *rows]
