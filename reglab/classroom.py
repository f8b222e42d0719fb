"""The class commands behind ``tasks.py``: ``check``, ``student-edition`` and ``new``.

    python -m reglab.classroom check [PATH ...] [--timeout S]   which exercises are right
    python -m reglab.classroom student-edition DIR              the workbook without solutions
    python -m reglab.classroom new NN_topic                     a notebook from the template

``check`` exits 0 when no exercise is wrong or failed, 1 otherwise; bad arguments exit 2 with a
one-line message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

WORKBOOK = Path(__file__).resolve().parent.parent


def _check(args: argparse.Namespace) -> int:
    from reglab.grading import grade_notebook, summary
    from reglab.workbook import read_notebook

    paths = args.paths or sorted((WORKBOOK / "notebooks").glob("*.ipynb"))
    for path in paths:  # refuse bad paths before running anything
        read_notebook(path, name="PATH")
    reports = []
    for path in paths:
        shown = Path(path)
        if shown.is_absolute() and shown.is_relative_to(Path.cwd()):
            shown = shown.relative_to(Path.cwd())
        print(shown, flush=True)
        report = grade_notebook(path, timeout=args.timeout)
        reports.append(report)
        lines = report.lines() or ["  (no exercises)"]
        print("\n".join(lines), flush=True)
    print(summary(reports))
    return 0 if all(report.ok for report in reports) else 1


def _edition(args: argparse.Namespace) -> int:
    from reglab.edition import make_student_edition

    written = make_student_edition(WORKBOOK, args.directory)
    print(f"student edition written to {args.directory}: {len(written)} notebooks, "
          "Solutions sections removed, exercises reset")
    print(f"students: cd {args.directory} && python3 tasks.py lab; "
          "then python3 tasks.py check")
    return 0


def _new(args: argparse.Namespace) -> int:
    from reglab.scaffold import create_notebook

    path = create_notebook(args.name, WORKBOOK)
    print(f"created {path.relative_to(WORKBOOK)}; added to the map in 00_start_here and README.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tasks.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run notebooks and say which exercises are right")
    check.add_argument("paths", nargs="*", metavar="PATH", help="notebooks (default: all)")
    check.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    check.set_defaults(run=_check)
    edition = commands.add_parser("student-edition", help="the workbook without solutions")
    edition.add_argument("directory", metavar="DIR", help="a new (or empty) folder")
    edition.set_defaults(run=_edition)
    new = commands.add_parser("new", help="a new notebook from the template")
    new.add_argument("name", metavar="NN_topic")
    new.set_defaults(run=_new)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as err:
        print(f"{parser.prog} {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
