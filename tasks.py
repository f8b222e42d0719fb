"""reglab's two commands, with nothing but Python 3.11 installed (Linux, macOS, Windows).

    python3 tasks.py lab     set up .venv if needed, then open JupyterLab on the workbook
    python3 tasks.py test    set up .venv if needed, then run every test

and, for maintainers:

    python3 tasks.py notebooks [PATH ...]   re-execute notebooks, store outputs as nbval sees them
    python3 tasks.py bench                  the speed benchmark (prints ratios)
    python3 tasks.py lint                   ruff

Set-up is idempotent: ``.venv`` is (re)built only when requirements.txt or pyproject.toml
change, tracked by a hash stamp in ``.venv``; a second run installs nothing.
"""

from __future__ import annotations

import hashlib
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".reglab-installed"
# The environment the notebooks are generated and tested in, read without importing reglab.
NOTEBOOK_ENV: dict[str, str] = runpy.run_path(str(ROOT / "reglab" / "env.py"))["NOTEBOOK_ENV"]


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=True)


def setup() -> None:
    """Create .venv and install the pinned requirements, unless already done for these pins."""
    wanted = _inputs_hash()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists():
        return
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"reglab needs Python 3.11 to set up .venv; this is {sys.version.split()[0]}")
    started = time.perf_counter()
    if not PY.exists():
        _run(sys.executable, "-m", "venv", VENV)
    pip = (PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, "-r", "requirements.txt")
    _run(*pip, "--no-deps", "-e", ".")
    STAMP.write_text(wanted + "\n")
    print(f"set-up done in {time.perf_counter() - started:.0f} s", flush=True)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NOTEBOOK_ENV)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def lab(args: list[str]) -> None:
    setup()
    _run(PY, "-m", "jupyter", "lab", "notebooks/00_start_here.ipynb", *args, env=_env())


def test(args: list[str]) -> None:
    setup()
    started = time.perf_counter()
    _run(PY, "-m", "ruff", "check", ".", env=_env())
    _run(PY, "-m", "pytest", "-n", "2", "--dist", "loadscope", "--nbval",
         "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", *args, "tests", "notebooks",
         env=_env())
    print(f"tests done in {time.perf_counter() - started:.0f} s", flush=True)


def notebooks(args: list[str]) -> None:
    setup()
    paths = args or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb"))
    _run(PY, "tools/run_notebooks.py", *paths, env=_env())


def bench(args: list[str]) -> None:
    setup()
    _run(PY, "benchmarks/bench_speed.py", *args, env=_env())


def lint(args: list[str]) -> None:
    setup()
    _run(PY, "-m", "ruff", "check", ".", *args)


COMMANDS = {"lab": lab, "test": test, "notebooks": notebooks, "bench": bench, "lint": lint}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        COMMANDS[argv[0]](argv[1:])
    except subprocess.CalledProcessError as err:
        return err.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
