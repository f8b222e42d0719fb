"""The class commands of ``reglab``: what ``check``, ``student-edition``, ``new`` and ``book`` do.

    reglab check [PATH ...] [--timeout S]     which exercises are right (default: every notebook)
    reglab student-edition DIR                the workbook without solutions, for students
    reglab new NN_topic                       a notebook from the template, on the maps
    reglab book [--out DIR] [--repository URL] [--branch NAME] [--no-explorer]

``reglab.cli`` parses the command line and calls these functions; each prints to ``out``
(default: standard output) and returns the exit status: ``check`` 0 when no exercise is wrong
or failed, 1 otherwise; the others 0.  A bad argument raises ``InvalidParameterError`` before
anything runs (the command line prints it and exits 2); without a ``PATH`` or a root, the
workbook is ``workbook_root()`` (the current folder or a parent, else this package's checkout),
which raises ``FileNotFoundError`` outside a workbook.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from reglab.classroom.workbook import workbook_root
from reglab.params import Boolean, Integer, ListOf, NoneOr, PathLike, Text, validated


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when it lies inside it, else as given."""
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return path.relative_to(Path.cwd())
    return path


@validated(paths=ListOf(PathLike()), timeout=Integer(minimum=1))
def check(paths: list[Path], *, timeout: int = 600, out: TextIO | None = None) -> int:
    """Run each notebook of ``paths`` (none: every notebook of the workbook) and grade it.

    Prints each notebook's path as it starts, one line per exercise (``correct``, ``open``,
    ``wrong`` or ``failed``, see ``reglab.classroom.grading``), then the summary line.
    ``timeout`` is the limit in seconds for one cell.  Every path is refused before any runs.
    """
    from reglab.classroom.grading import grade_notebooks, summary

    out = sys.stdout if out is None else out
    paths = paths or sorted((workbook_root() / "notebooks").glob("*.ipynb"))
    reports = []
    for report in grade_notebooks(paths, timeout=timeout,
                                  on_start=lambda path: print(_shown(path), file=out, flush=True)):
        reports.append(report)
        print("\n".join(report.lines() or ["  (no exercises)"]), file=out, flush=True)
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
    A note goes to ``err`` (default: standard error) when the buttons point nowhere real.
    """
    from reglab.classroom.book import PLACEHOLDER_REPOSITORY, build_book, repository_url

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    repository = repository_url() if repository is None else repository
    built = build_book(folder, repository=repository, branch=branch, explorer=explorer)
    if repository == PLACEHOLDER_REPOSITORY:
        print(f"note: no GitHub 'origin' remote; launch buttons point to {PLACEHOLDER_REPOSITORY}"
              " (give --repository)", file=err)
    print(f"built {built.html} in {built.seconds:.0f} s: {built.bytes_on_disk / 2**20:.1f} MiB, "
          f"of which the explorer {built.explorer_bytes / 2**20:.1f} MiB", file=out)
    print(f"open {built.html / 'index.html'} in a browser, "
          f"or serve it: python3 -m http.server -d {built.html}", file=out)
    return 0
