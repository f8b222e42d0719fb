"""tasks.py (the README's two commands) and .ci/run."""

import importlib.util
import re
import subprocess
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
    monkeypatch.setattr(tasks, "PY", venv / "bin" / "python")
    monkeypatch.setattr(tasks, "STAMP", venv / ".reglab-installed")
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


def test_unknown_command_prints_usage(tasks, capsys):
    assert tasks.main(["deploy"]) == 2
    assert "python3 tasks.py lab" in capsys.readouterr().out


def test_notebook_env_is_shared_with_reglab(tasks):
    from reglab.env import NOTEBOOK_ENV

    assert tasks.NOTEBOOK_ENV == NOTEBOOK_ENV
