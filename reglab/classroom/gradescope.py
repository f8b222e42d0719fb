"""A Gradescope autograder that grades as ``reglab grade`` does.

``export(folder, workbook)`` writes ``folder`` and ``folder.zip`` (what to upload; Gradescope
wants ``setup.sh`` and ``run_autograder`` at the zip's root):

* ``workbook/``: the instructor's workbook as grading needs it: ``reglab/`` (its sources and
  ``feedback.json``), ``notebooks/`` (the pristine notebooks), ``key/``, ``data/``,
  ``requirements.txt``, ``pyproject.toml``, ``tasks.py``, ``README.md``;
* ``wheels/``: empty; put the requirements' wheels there (``pip download -r requirements.txt -d
  wheels``) and ``setup.sh`` installs offline (``--no-index --find-links wheels``);
* ``setup.sh``: makes ``source/.venv`` with ``$REGLAB_PYTHON`` (default ``python3``, which must be
  3.11 to 3.13), installs the requirements and the bundled package (no download when
  ``wheels/`` is filled);
* ``run_autograder``: runs ``python -m reglab.classroom.gradescope`` in ``workbook/``.

``main()`` (what ``run_autograder`` runs) grades every ``.ipynb`` under ``ROOT/submission`` as one
student's (matched to the workbook's notebooks by name, ``<student>__NN_name``, or exercises),
with ``grade_class`` (the same sandbox, the same judging), and writes ``ROOT/results/results.json``
in Gradescope's format: ``score``, ``execution_time``, ``output``, and ``tests``, one per
exercise with ``name`` (``NN_name: Exercise k``, the column of ``grades.csv``), ``score``,
``max_score`` (1), ``status`` and ``output`` (the feedback).  ``ROOT`` is ``/autograder``, or
``$REGLAB_AUTOGRADER_ROOT`` (so a test runs it in a temporary folder laid out as Gradescope's:
``source/``, ``submission/``, ``results/``).  The student id (for per-student variants) is
``$REGLAB_STUDENT``, else the e-mail's local part in ``ROOT/submission_metadata.json``, else
``student``.  Limits: ``$REGLAB_GRADE_TIMEOUT`` (seconds per notebook, default 600) and
``$REGLAB_GRADE_MEMORY`` (GiB, default 4).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

from reglab.classroom import grade as grading
from reglab.classroom import sandbox
from reglab.classroom.gradebook import _column
from reglab.classroom.variants import STUDENT_ID, STUDENT_VARIABLE
from reglab.files import staged
from reglab.params import PathLike, validated

#: The environment variable that moves Gradescope's ``/autograder`` (for a local run).
ROOT_VARIABLE = "REGLAB_AUTOGRADER_ROOT"
_COPIED = ("reglab", "notebooks", "key", "data", "requirements.txt", "pyproject.toml", "tasks.py",
           "README.md", "LICENSE")

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder's image.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${REGLAB_PYTHON:-python3}"
"$PY" -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 13), sys.version' || {
  echo "reglab needs Python 3.11 to 3.13: set REGLAB_PYTHON, or install one (apt-get install python3.12)"
  exit 1; }
"$PY" -m venv "$HERE/.venv"
PIP=("$HERE/.venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if compgen -G "$HERE/wheels/*.whl" > /dev/null; then
  "${PIP[@]}" --no-index --find-links "$HERE/wheels" -r "$HERE/workbook/requirements.txt"
else
  "${PIP[@]}" -r "$HERE/workbook/requirements.txt"
fi
"${PIP[@]}" --no-deps --no-build-isolation --no-index "$HERE/workbook"
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission; it writes $ROOT/results/results.json.
set -euo pipefail
ROOT="${REGLAB_AUTOGRADER_ROOT:-/autograder}"
PY="${REGLAB_AUTOGRADER_PYTHON:-$ROOT/source/.venv/bin/python}"
cd "$ROOT/source/workbook"
exec "$PY" -m reglab.classroom.gradescope
"""


@validated(folder=PathLike(), workbook=PathLike())
def export(folder: Path, workbook: Path) -> Path:
    """Write the autograder into ``folder`` (replaced whole) and ``folder.zip``; return the zip."""
    with staged(folder, folder=True) as tmp:
        for name in _COPIED:
            source = workbook / name
            if source.is_dir():
                shutil.copytree(source, tmp / "workbook" / name,
                                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".lock"))
            elif source.is_file():
                (tmp / "workbook").mkdir(exist_ok=True)
                shutil.copy2(source, tmp / "workbook" / name)
        (tmp / "wheels").mkdir()
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            (tmp / name).write_text(text, encoding="utf-8")
            (tmp / name).chmod(0o755)
    archive = folder.with_name(folder.name + ".zip")
    with staged(archive, folder=False) as tmp:
        shutil.make_archive(str(tmp.with_suffix("")), "zip", root_dir=folder)  # writes tmp
    return archive


def _student(root: Path) -> str:
    value = os.environ.get(STUDENT_VARIABLE, "")
    if not value:
        try:
            users = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))["users"]
            value = re.sub(r"[^A-Za-z0-9._@-]", "", str(users[0].get("email", "")).split("@")[0])
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            value = ""
    return value if STUDENT_ID.match(value or "") else "student"


def _test(notebook: str, exercise: grading.ExerciseGrade, stopped: str) -> dict:
    output = exercise.status + (f": {exercise.message}" if exercise.message else "")
    if exercise.cell:
        output += "\n\n" + exercise.cell
    if stopped and exercise.status == "failed":
        output += f"\n\n(the notebook was {stopped})"
    return {"name": _column(notebook, exercise.label), "score": exercise.score, "max_score": 1,
            "status": "passed" if exercise.score else "failed", "output": output}


def main() -> int:
    """Grade ``ROOT/submission`` and write ``ROOT/results/results.json`` (see the module doc)."""
    started = time.monotonic()
    root = Path(os.environ.get(ROOT_VARIABLE, "/autograder"))
    workbook = Path.cwd() if (Path.cwd() / "notebooks").is_dir() else root / "source" / "workbook"
    pristine = {name: set(labels) for name, labels in grading.pristine_labels(workbook).items()}
    student = _student(root)
    notebooks = {}
    for path in sorted((root / "submission").rglob("*.ipynb")):
        name = None if ".ipynb_checkpoints" in path.parts else grading.match_notebook(path, pristine)
        if name is not None:
            notebooks.setdefault(name, path)
    limit = sandbox.limits(int(os.environ.get("REGLAB_GRADE_TIMEOUT", "600")), None,
                           float(os.environ.get("REGLAB_GRADE_MEMORY", "4")))
    grades = []
    if notebooks:
        submission = grading.Submission(student, notebooks, None)
        grades = grading.grade_class([submission], workbook=workbook, limit=limit,
                                     workers=os.cpu_count() or 1,
                                     deny=[root / "source", root / "results", root / "submission"])
    labels = grading.pristine_labels(workbook)
    tests = [_test(g.notebook, e, g.stopped) for g in grades for e in g.exercises]
    for name in notebooks:  # exercises whose notebook never produced a grade
        graded = {t["name"] for t in tests}
        tests += [{"name": _column(name, label), "score": 0, "max_score": 1, "status": "failed",
                   "output": "not graded"} for label in labels[name] if _column(name, label) not in graded]
    mode = sandbox.network_mode()
    output = (f"Graded {', '.join(notebooks) or 'nothing: no notebook of the workbook was submitted'} "
              f"for {student}; network off by "
              f"{'a network namespace' if mode == 'namespace' else 'an audit hook'}.")
    for g in grades:
        if g.stopped:
            output += f"\n{g.notebook} was {g.stopped}."
    results = {"score": sum(t["score"] for t in tests), "execution_time": round(time.monotonic() - started),
               "output": output, "tests": tests}
    (root / "results").mkdir(parents=True, exist_ok=True)
    with staged(root / "results" / "results.json", folder=False) as tmp:
        tmp.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
