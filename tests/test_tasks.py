"""tasks.py (the README's two commands) and .ci/run."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def tasks():
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(python3 tasks\.py \w+)", readme, re.M)
    assert commands[:2] == ["python3 tasks.py lab", "python3 tasks.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 tasks.py test" in ci


@pytest.fixture()
def fake_venv(tasks, tmp_path, monkeypatch):
    """Point tasks.py at an empty .venv in a temporary folder."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    (venv / "pyvenv.cfg").write_text("version = {}.{}.{}\n".format(*sys.version_info[:3]))
    monkeypatch.setattr(tasks, "VENV", venv)
    monkeypatch.setattr(tasks, "PY", venv / "bin" / "python")
    monkeypatch.setattr(tasks, "STAMP", venv / ".reglab-installed")
    monkeypatch.setattr(tasks, "BOOK_STAMP", venv / ".reglab-installed-book")
    return venv


def test_setup_installs_nothing_when_the_stamp_matches(tasks, fake_venv, monkeypatch):
    tasks.STAMP.write_text(tasks._inputs_hash() + "\n")

    def refuse(*args, **kwargs):
        raise AssertionError(f"set-up ran a command although nothing changed: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    tasks.setup()  # must return without running anything


def test_setup_reinstalls_when_the_pins_change(tasks, fake_venv, monkeypatch):
    tasks.STAMP.write_text("an old hash\n")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args))
    tasks.setup()
    assert any("requirements.txt" in args for args in calls)
    assert tasks.STAMP.read_text().strip() == tasks._inputs_hash()


def test_the_book_tools_are_installed_once_and_only_for_the_book(tasks, fake_venv, monkeypatch):
    tasks.STAMP.write_text(tasks._inputs_hash() + "\n")
    assert _recorded_setup(tasks, monkeypatch) == []  # lab, check, ...: no book tools
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append([str(a) for a in args]))
    tasks.setup(book=True)
    assert [c[-2:] for c in calls] == [["-r", "requirements-book.txt"]]
    calls.clear()
    tasks.setup(book=True)
    assert calls == [], "the book tools were installed a second time"


def test_unknown_command_prints_usage(tasks, capsys):
    assert tasks.main(["deploy"]) == 2
    assert "python3 tasks.py lab" in capsys.readouterr().out


def test_notebook_env_is_shared_with_reglab(tasks):
    from reglab.session import NOTEBOOK_ENV

    assert tasks.NOTEBOOK_ENV == NOTEBOOK_ENV


def _recorded_setup(tasks, monkeypatch) -> list[list[str]]:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append([str(a) for a in args]))
    tasks.setup()
    return calls


def test_the_stamp_names_the_python_version(tasks, fake_venv, monkeypatch):
    tasks.STAMP.write_text(tasks._inputs_hash() + "\n")
    other = (3, 12) if sys.version_info[:2] != (3, 12) else (3, 13)
    monkeypatch.setattr(tasks.sys, "version_info", (*other, 0, "final", 0))
    assert tasks._inputs_hash() != tasks.STAMP.read_text().strip()


def test_another_python_rebuilds_the_venv(tasks, fake_venv, monkeypatch):
    (fake_venv / "pyvenv.cfg").write_text("home = /x\nversion = 3.10.4\n")
    tasks.STAMP.write_text("old\n")
    calls = _recorded_setup(tasks, monkeypatch)
    assert calls[0][1:4] == ["-m", "venv", "--clear"]


@pytest.mark.parametrize("version", [(3, 10, 9), (3, 14, 0)])
def test_an_unsupported_python_is_refused_with_the_supported_ones(tasks, fake_venv, monkeypatch, version):
    tasks.STAMP.write_text("old\n")
    monkeypatch.setattr(tasks.sys, "version_info", (*version, "final", 0))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command"))
    with pytest.raises(SystemExit, match="needs Python 3.11, 3.12, 3.13"):
        tasks.setup()


def test_the_plain_pip_route_of_the_readme_is_what_setup_runs(tasks, fake_venv, monkeypatch):
    """JupyterHub and Binder install with plain pip: the same two commands as tasks.py."""
    readme = (ROOT / "README.md").read_text()
    route = re.findall(r"^pip install (.+)$", readme, re.M)
    assert route == ["-r requirements.txt", "--no-deps -e ."]
    tasks.STAMP.write_text("old\n")
    pip_calls = [c[c.index("install") + 1:] for c in _recorded_setup(tasks, monkeypatch) if "pip" in c]
    assert [[a for a in c if not a.startswith("--quiet") and a != "--disable-pip-version-check"]
            for c in pip_calls] == [r.split() for r in route]
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text()


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-book.txt"])
def test_requirements_are_exact_pins(name):
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line.strip()), line


def test_binder_files(tasks):
    readme = (ROOT / "README.md").read_text()
    # the launch addresses as templates (no dead link to a placeholder account is published)
    assert "https://mybinder.org/v2/gh/ACCOUNT/REPOSITORY/HEAD?urlpath=lab/tree/notebooks/" \
           "00_start_here.ipynb" in readme
    assert "](https://mybinder.org/v2/gh/OWNER" not in readme
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.1[1-3]", runtime)
    assert tuple(int(v) for v in runtime.split("-")[1].split(".")) in tasks.PYTHONS
    for name in ("postBuild", "start"):
        assert os.access(ROOT / name, os.X_OK), f"{name} must be executable for repo2docker"
    shown = subprocess.run(["bash", str(ROOT / "start"), sys.executable, "-c",
                            "import os, json; print(json.dumps(dict(os.environ)))"],
                           capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    env = json.loads(shown.stdout)
    assert {k: env.get(k) for k in tasks.NOTEBOOK_ENV} == tasks.NOTEBOOK_ENV


@pytest.fixture()
def recorded(tasks, fake_venv, monkeypatch):
    """The commands tasks.py runs, with .venv up to date (book tools included) and nothing run."""
    tasks.STAMP.write_text(tasks._inputs_hash() + "\n")
    tasks.BOOK_STAMP.write_text(tasks._inputs_hash(("requirements-book.txt",)) + "\n")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append([str(a) for a in args]))
    return calls


def _pytest_args(calls):
    (pytest_call,) = [c for c in calls if c[1:3] == ["-m", "pytest"]]
    return pytest_call[3:]


def test_the_full_test_run_is_ruff_then_every_test_and_notebook(tasks, recorded):
    tasks.main(["test"])
    assert recorded[0][1:4] == ["-m", "ruff", "check"]
    args = _pytest_args(recorded)
    assert "--nbval" in args and args[-2:] == ["tests", "notebooks"]


def test_the_fast_loop_starts_no_kernel_and_no_slow_test(tasks, recorded, monkeypatch):
    monkeypatch.setattr(tasks, "_pip_install", lambda *a: pytest.fail("installed the book tools"))
    tasks.main(["test", "--fast", "-x"])
    args = _pytest_args(recorded)
    assert "--nbval" not in args and "notebooks" not in args and "--fast" not in args
    assert args[args.index("-m") + 1] == "not slow" and "-x" in args and args[-1] == "tests"


def test_one_notebook_runs_only_that_notebook(tasks, recorded):
    tasks.main(["test", "notebooks/05_keras.ipynb"])
    args = _pytest_args(recorded)
    assert "--nbval" in args and args[-1] == "notebooks/05_keras.ipynb"
    assert "tests" not in args and "notebooks" not in args


@pytest.mark.parametrize(("command", "args"), [
    ("check", ["notebooks/01_get_variable_regularizer.ipynb"]), ("student-edition", ["class"]),
    ("book", ["--no-explorer"]),
])
def test_the_class_commands_are_the_reglab_command(tasks, recorded, command, args):
    tasks.main([command, *args])
    assert recorded == [[str(tasks.PY), "-m", "reglab", command, *args]]
