"""The class commands of ``reglab``: ``check``, ``student-edition``, ``new``, ``book``, ``grade``,
``gradescope``.

    reglab check [PATH ...] [--timeout S]     which exercises are right (default: every notebook)
    reglab student-edition DIR                the workbook without solutions, for students
    reglab new NN_topic                       a notebook from the template, on the maps
    reglab book [--out DIR] [--repository URL] [--branch NAME] [--no-explorer]
    reglab grade SUBMISSIONS_DIR [--out DIR] [--workers N] [--timeout S] [--memory GIB]
    reglab gradescope DIR                     a Gradescope autograder running the same grading

``reglab.cli`` parses the command line and calls these functions; each prints to ``out``
(default: standard output) and returns the exit status: ``check`` 0 when no exercise is wrong
or failed, 1 otherwise; the others 0.  A bad argument raises ``InvalidParameterError`` before
anything runs (the command line prints it and exits 2); without a ``PATH`` or a root, the
workbook is ``workbook_root()`` (the current folder or a parent, else this package's checkout),
which raises ``FileNotFoundError`` outside a workbook.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from reglab.classroom.workbook import workbook_root
from reglab.params import (
    Boolean,
    Integer,
    InvalidParameterError,
    ListOf,
    NoneOr,
    PathLike,
    Real,
    Text,
    validated,
)


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when it lies inside it, else as given."""
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return path.relative_to(Path.cwd())
    return path


@validated(paths=ListOf(PathLike()), timeout=Integer(minimum=1))
def check(paths: list[Path], *, timeout: int = 600, out: TextIO | None = None) -> int:
    """Run each notebook of ``paths`` (none: every notebook of the workbook) and grade it.

    Prints each notebook's path as it starts (``[k/n]`` when there are several), the first
    lesson cell that raised, if any, one line per exercise (``correct``, ``open``,
    ``wrong`` or ``failed``, see ``reglab.classroom.grading``), then the summary line.
    ``timeout`` is the limit in seconds for one cell.  Every path is refused before any runs.
    """
    from reglab.classroom.grading import grade_notebooks, summary

    out = sys.stdout if out is None else out
    paths = paths or sorted((workbook_root() / "notebooks").glob("*.ipynb"))
    reports, started = [], [0.0]

    def starting(path: Path) -> None:
        started[0] = time.perf_counter()
        counter = f"[{len(reports) + 1}/{len(paths)}] " if len(paths) > 1 else ""
        print(f"{counter}{_shown(path)} ...", file=out, flush=True)

    for report in grade_notebooks(paths, timeout=timeout, on_start=starting):
        reports.append(report)
        print("\n".join(report.lines() or ["  (no exercises)"]), file=out, flush=True)
        print(f"  ({time.perf_counter() - started[0]:.0f} s)", file=out, flush=True)
    print(summary(reports), file=out)
    return 0 if all(report.ok for report in reports) else 1


@validated(destination=PathLike())
def student_edition(destination: Path, *, out: TextIO | None = None) -> int:
    """Write the student edition of the workbook into ``destination`` (a new or empty folder)."""
    from reglab.classroom.edition import make_student_edition

    out = sys.stdout if out is None else out
    written = make_student_edition(workbook_root(), destination)
    print(f"student edition written to {destination}: {len(written)} notebooks, "
          "Solutions sections removed, exercises reset", file=out)
    print(f"students: cd {destination} && python3 tasks.py lab; then python3 tasks.py check",
          file=out)
    return 0


@validated(student=NoneOr(Text()))
def key(*, student: str | None = None, out: TextIO | None = None) -> int:
    """Print the answer key: per exercise its notebook and key; with ``student``, that student's
    variant of each find-the-bug exercise and its fix (what the student's kernel draws)."""
    from reglab.classroom.key import load
    from reglab.classroom.variants import variant_of

    out = sys.stdout if out is None else out
    root = workbook_root()
    if student is None:
        for label, entry in sorted(load(root).items(), key=lambda item: (item[1]["notebook"], item[0])):
            shown = "(a property: checked by its predicate)" if entry["answer"] is None else entry["answer"]
            print(f"{entry['notebook']}  {label}: {shown}", file=out)
        return 0
    variants = variant_of(student, root)
    for label, drawn in sorted(variants.items(), key=lambda item: (item[1]["notebook"], item[0])):
        choices = ", ".join(f"{name}={value!r}" for name, value in drawn.items()
                            if name not in ("notebook", "fix"))
        print(f"{drawn['notebook']}  {label}\n  variant of {student}: {choices}", file=out)
        if drawn["fix"]:
            print(f"  fix: {drawn['fix']}", file=out)
    return 0


@validated(name=Text())
def new(name: str, *, out: TextIO | None = None) -> int:
    """Create ``notebooks/<name>.ipynb`` from the template and add it to the maps."""
    from reglab.classroom.scaffold import create_notebook

    out = sys.stdout if out is None else out
    root = workbook_root()
    path = create_notebook(name, root)
    print(f"created {path.relative_to(root)}; added to the map in 00_start_here and README.md",
          file=out)
    return 0


@validated(folder=NoneOr(PathLike()), repository=NoneOr(Text()), branch=Text(), explorer=Boolean())
def book(folder: Path | None = None, *, repository: str | None = None, branch: str = "main",
         explorer: bool = True, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Build the static website into ``folder/html`` (default: the workbook's ``_build``).

    ``repository`` (default: the ``origin`` remote) is where the launch buttons point,
    ``branch`` the branch Binder builds; ``explorer=False`` skips the precomputed explorer.
    Without a known repository the book has no launch buttons, and ``build_book`` says so on
    standard error (``err`` is kept for the command line's signature).
    """
    from reglab.classroom.book import build_book, repository_url

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    repository = repository_url() if repository is None else repository
    built = build_book(folder, repository=repository, branch=branch, explorer=explorer)
    print(f"built {built.html} in {built.seconds:.0f} s: {built.bytes_on_disk / 2**20:.1f} MiB, "
          f"of which the explorer {built.explorer_bytes / 2**20:.1f} MiB", file=out)
    print(f"open {built.html / 'index.html'} in a browser, "
          f"or serve it: python3 -m http.server -d {built.html}", file=out)
    return 0


@validated(submissions=PathLike(), folder=NoneOr(PathLike()), workers=NoneOr(Integer(minimum=1)),
           timeout=Integer(minimum=1), memory=Real(0.25, 1024.0), workbook=NoneOr(PathLike()),
           cell_timeout=NoneOr(Integer(minimum=1)))
def grade(submissions: Path, *, folder: Path | None = None, workers: int | None = None,
          timeout: int = 600, memory: float = 4.0, workbook: Path | None = None,
          cell_timeout: int | None = None, out: TextIO | None = None) -> int:
    """Grade a class: every submission in ``submissions`` (see ``reglab.classroom.grade``).

    Writes ``folder`` (default: ``grades/`` beside ``submissions``): ``grades.csv`` and
    ``feedback/<student>.md`` (``reglab.classroom.gradebook``). ``workers`` kernels run at a time
    (default: the machine's cores); ``timeout`` seconds per notebook (``cell_timeout`` per cell,
    default ``min(120, timeout)``), ``memory`` GiB per kernel; ``workbook``: the instructor's
    (default: ``workbook_root()``). Prints one line per notebook graded and a summary; 0 when
    something was graded, 1 when nothing was.
    """
    import time

    from reglab.classroom import gradebook
    from reglab.classroom.grade import find_submissions, grade_class, pristine_labels
    from reglab.classroom.sandbox import limits, network_mode

    out = sys.stdout if out is None else out
    if not submissions.is_dir():
        raise InvalidParameterError(f"submissions {str(submissions)!r} is not a folder")
    workbook = (workbook_root() if workbook is None else workbook).resolve()
    folder = submissions.resolve().parent / "grades" if folder is None else folder
    workers = workers or os.cpu_count() or 1
    limit = limits(timeout, cell_timeout, memory)
    found, refused = find_submissions(submissions, workbook)
    for line in refused:
        print(line, file=out, flush=True)
    if not found:
        print(f"no submission to grade in {submissions}", file=out)
        return 1
    mode = network_mode()
    print(f"grading {len(found)} students on {workers} workers; network off by "
          f"{'a network namespace (unshare -rn)' if mode == 'namespace' else 'an audit hook'}; "
          f"limits per notebook: {limit.timeout} s ({limit.cell_timeout} s a cell), "
          f"{limit.memory_gib:g} GiB", file=out, flush=True)
    started = time.perf_counter()

    def progress(k: int, n: int, grade: Any) -> None:
        line = (f"[{k}/{n}] {grade.student} {grade.notebook}: {grade.score}/{len(grade.exercises)} "
                f"correct in {grade.seconds:.0f} s")
        print(line + (f" ({grade.stopped})" if grade.stopped else ""), file=out, flush=True)

    grades = grade_class(found, workbook=workbook, limit=limit, workers=workers,
                         deny=[submissions.resolve(), folder.resolve()], on_done=progress)
    rows = gradebook.write(folder, grades, pristine_labels(workbook))
    print(f"graded {len(grades)} notebooks of {len(found)} students in "
          f"{time.perf_counter() - started:.0f} s; wrote {_shown(folder / 'grades.csv')} "
          f"({len(rows) - 1} rows) and {_shown(folder / 'feedback')}/", file=out)
    return 0


@validated(folder=PathLike(), workbook=NoneOr(PathLike()))
def gradescope(folder: Path, *, workbook: Path | None = None, out: TextIO | None = None) -> int:
    """Write a Gradescope autograder for the workbook into ``folder`` (``reglab.classroom.gradescope``)."""
    from reglab.classroom.gradescope import export

    out = sys.stdout if out is None else out
    written = export(folder, workbook_root() if workbook is None else workbook)
    print(f"Gradescope autograder written to {folder} and {written}: upload {written.name} as the "
          "assignment's autograder (its setup.sh installs from wheels/ when you put the "
          "requirements' wheels there: pip download -r requirements.txt -d wheels)", file=out)
    return 0
