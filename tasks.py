"""reglab's two commands, with nothing but Python 3.11, 3.12 or 3.13 installed (Linux, macOS,
Windows). The Python that runs this file builds ``.venv`` (``python3.13 tasks.py test`` uses 3.13).

    python3 tasks.py lab     set up .venv if needed, then open JupyterLab on the workbook
    python3 tasks.py test    set up .venv if needed, then run every test (what CI runs)

while working on the workbook:

    python3 tasks.py test --fast                   ruff, the unit tests and the static notebook
                                                   checks: no kernel, no book tools (under a minute)
    python3 tasks.py test notebooks/05_keras.ipynb ruff, then that notebook's strict output
                                                   comparison and its run again, solutions pasted

for a class (``.venv/bin/reglab ...`` is the same command, ``reglab --help`` lists them):

    python3 tasks.py check [PATH ...]         run notebooks, say which exercises are right
    python3 tasks.py student-edition DIR      the workbook without solutions, for students
    python3 tasks.py new NN_topic             a new notebook from the template, on the maps
    python3 tasks.py book [--repository URL]  the workbook as a static website, in _build/html
    python3 tasks.py grade SUBMISSIONS_DIR    grade a class: grades.csv, feedback per student
    python3 tasks.py gradescope DIR           a Gradescope autograder for the workbook
    python3 tasks.py key [--student ID]       the answer key; a student's find-the-bug variants

and, for maintainers:

    python3 tasks.py notebooks [PATH ...]   re-execute notebooks, store outputs as nbval sees them
    python3 tasks.py bench                  the speed benchmark (prints ratios)
    python3 tasks.py lint                   ruff

Set-up is idempotent: ``.venv`` is (re)built only when requirements.txt, pyproject.toml or the
Python version change, tracked by a hash stamp in ``.venv``; a second run installs nothing.
``book`` and the full ``test`` (which builds the book) also install requirements-book.txt,
stamped alike.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".reglab-installed"
BOOK_STAMP = VENV / ".reglab-installed-book"
#: The Python versions the pins install on and the suite is run with.
PYTHONS = ((3, 11), (3, 12), (3, 13))
#: Present in a student edition (``tasks.py student-edition``).
EDITION_MARKER = ROOT / "STUDENT_EDITION"


def _notebook_env() -> dict[str, str]:
    """``reglab.session.NOTEBOOK_ENV``, read from the source with ``ast`` (nothing is imported)."""
    tree = ast.parse((ROOT / "reglab" / "session.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["NOTEBOOK_ENV"]:
            return ast.literal_eval(node.value)
    raise SystemExit("reglab/session.py has no NOTEBOOK_ENV = {...}")


#: The environment the notebooks are generated and tested in.
NOTEBOOK_ENV: dict[str, str] = _notebook_env()


def _inputs_hash(names: tuple[str, ...] = ("requirements.txt", "pyproject.toml")) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((ROOT / name).read_bytes())
    digest.update("python {}.{}".format(*sys.version_info[:2]).encode())
    return digest.hexdigest()


def _run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, env=env, check=True)


def _venv_python() -> str:
    """``major.minor`` of the Python that built ``.venv``, from its ``pyvenv.cfg``."""
    config = VENV / "pyvenv.cfg"
    if config.exists():
        for line in config.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return ".".join(value.strip().split(".")[:2])
    return "unknown"


def setup(*, book: bool = False) -> None:
    """Create .venv and install the pinned requirements, unless already done for these pins.

    The stamp also holds the Python version: running this file with another Python rebuilds
    ``.venv`` with it.  ``book=True`` also installs requirements-book.txt (the website's tools).
    """
    wanted = _inputs_hash()
    if not (STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists()):
        _setup_venv(wanted)
    if book:
        wanted_book = _inputs_hash(("requirements-book.txt",))
        if not (BOOK_STAMP.exists() and BOOK_STAMP.read_text().strip() == wanted_book):
            _pip_install("-r", "requirements-book.txt")
            BOOK_STAMP.write_text(wanted_book + "\n")


def _setup_venv(wanted: str) -> None:
    if sys.version_info[:2] not in PYTHONS:
        supported = ", ".join("{}.{}".format(*v) for v in PYTHONS)
        sys.exit(f"reglab needs Python {supported} to set up .venv; this is "
                 f"{sys.version.split()[0]}. Run this file with one of those, e.g. python3.12 tasks.py")
    started = time.perf_counter()
    if PY.exists() and _venv_python() != "{}.{}".format(*sys.version_info[:2]):
        print(f"rebuilding .venv with Python {sys.version.split()[0]} (it had {_venv_python()})",
              flush=True)
        _run(sys.executable, "-m", "venv", "--clear", VENV)
    elif not PY.exists():
        _run(sys.executable, "-m", "venv", VENV)
    _pip_install("-r", "requirements.txt")
    _pip_install("--no-deps", "-e", ".")
    STAMP.write_text(wanted + "\n")
    print(f"set-up done in {time.perf_counter() - started:.0f} s", flush=True)


def _pip_install(*args: str) -> None:
    _run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NOTEBOOK_ENV)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    # the exercise checks read this workbook's feedback (reglab.checks), wherever reglab is installed
    env["REGLAB_FEEDBACK"] = str(ROOT / "reglab" / "feedback.json")
    return env


def lab(args: list[str]) -> None:
    setup()
    # opens 00 itself, not the Launcher (a positional path does not, in JupyterLab 4)
    _run(PY, "-m", "jupyter", "lab", "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb",
         *args, env=_env())


def test(args: list[str]) -> None:
    """Every test (CI's run); ``--fast``: no kernel and no book tools; ``NOTEBOOK.ipynb ...``: those only."""
    if EDITION_MARKER.exists():
        sys.exit("this is a student edition: its notebooks are yours to edit, so the strict output "
                 "tests do not apply. Use `python3 tasks.py check` to see which exercises are right.")
    fast = "--fast" in args
    args = [a for a in args if a != "--fast"]
    chosen = [a for a in args if a.endswith(".ipynb")]
    setup(book=not (fast or chosen))
    started = time.perf_counter()
    _run(PY, "-m", "ruff", "check", ".", env=_env())
    nbval = ("--nbval", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg")
    if fast:
        _run(PY, "-m", "pytest", "-n", "2", "-m", "not slow", *args, "tests", env=_env())
    elif chosen:
        _run(PY, "-m", "pytest", *nbval, *args, env=_env())
    else:
        _run(PY, "-m", "pytest", "-n", "2", "--dist", "loadscope", *nbval, *args, "tests",
             "notebooks", env=_env())
    print(f"tests done in {time.perf_counter() - started:.0f} s", flush=True)


def notebooks(args: list[str]) -> None:
    setup()
    paths = args or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb"))
    _run(PY, "tools/run_notebooks.py", *paths, env=_env())


def bench(args: list[str]) -> None:
    setup()
    _run(PY, "benchmarks/bench_speed.py", *args, env=_env())


def _reglab(*args: str, book: bool = False, cwd: Path | None = None) -> None:
    """``python -m reglab ARGS`` in .venv, by default from the folder the command was typed in."""
    setup(book=book)
    _run(PY, "-m", "reglab", *args, env=_env(), cwd=Path.cwd() if cwd is None else cwd)


def check(args: list[str]) -> None:
    _reglab("check", *args)


def student_edition(args: list[str]) -> None:
    _reglab("student-edition", *args)


def grade(args: list[str]) -> None:
    _reglab("grade", *args)


def key(args: list[str]) -> None:
    _reglab("key", *args)


def gradescope(args: list[str]) -> None:
    _reglab("gradescope", *args)


def new(args: list[str]) -> None:
    _reglab("new", *args, cwd=ROOT)
    if args:  # store it executed, as every notebook is
        notebooks([f"notebooks/{args[0].removesuffix('.ipynb')}.ipynb"])


def book(args: list[str]) -> None:
    _reglab("book", *args, book=True)


def lint(args: list[str]) -> None:
    setup()
    _run(PY, "-m", "ruff", "check", ".", *args)


COMMANDS = {
    "lab": lab, "test": test, "check": check, "student-edition": student_edition, "new": new,
    "book": book, "grade": grade, "gradescope": gradescope, "key": key, "notebooks": notebooks,
    "bench": bench, "lint": lint,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        COMMANDS[argv[0]](argv[1:])
    except subprocess.CalledProcessError as err:
        return err.returncode or 1
    except KeyboardInterrupt:  # Ctrl+C (JupyterLab, a test run): the child has already said so
        print("\nstopped (Ctrl+C)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
