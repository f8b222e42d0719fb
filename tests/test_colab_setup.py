"""The Colab route: the set-up cell installs reglab in a hosted kernel that lacks it.

``reglab/classroom/templates/colab_setup.py`` is the first code cell of every notebook (and of
``reglab new``'s template).  Here a hosted kernel is emulated: a scratch venv without reglab,
which sees the .venv's other packages (TensorFlow, numpy, pip ...) through a folder of links
that leaves reglab's editable install out, a fake ``google.colab`` module on its path (what
marks Colab), and the install source pointed at a wheel built here from the repository
(``REGLAB_INSTALL_SOURCE``; pip's index is off, as no network is reached).  The cell must then
install the wheel, import reglab from it and run ``reglab.setup()``; without the marker it must
install nothing.  About 30 s (a wheel, pip, and one TensorFlow import).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from reglab.classroom.scaffold import colab_setup

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "reglab", "data")
TEMPLATE = ROOT / "reglab" / "classroom" / "templates" / "colab_setup.py"

pytestmark = pytest.mark.slow

AFTER = """
import json
print("REPORT " + json.dumps({"file": reglab.__file__}))
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if ok:
        assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict[str, str]]:
    """``(python, wheel, marker folder, env)``: a kernel's Python without reglab, and its wheel."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REGLAB_FEEDBACK")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", dist, source, cwd=source, env=env)
    (wheel,) = dist.glob("reglab-*.whl")

    # the .venv's packages, less reglab (its editable install and metadata)
    packages = tmp_path_factory.mktemp("packages")
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not entry.name.lower().replace("-", "_").startswith(("reglab", "__editable__")):
            (packages / entry.name).symlink_to(entry)
    scratch = tmp_path_factory.mktemp("kernel") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", scratch, cwd=scratch.parent, env=env)
    python = scratch / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=scratch.parent, env=env).stdout.strip())
    (site / "kernel-packages.pth").write_text(f"{packages}\n")

    # what marks a hosted kernel: an importable google.colab (a namespace portion of google)
    marker = tmp_path_factory.mktemp("hosted")
    (marker / "google" / "colab").mkdir(parents=True)
    (marker / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s module."""\n')
    return python, wheel, marker, env


def test_the_scaffold_starts_with_the_set_up_cell():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert colab_setup() == text.rstrip("\n")
    assert "import reglab" in text and "reglab.setup()" in text  # the first cell's duty
    assert "REGLAB_INSTALL_SOURCE" in text and "google.colab" in text


def test_a_hosted_kernel_installs_reglab_from_the_wheel_and_sets_up(hosted, tmp_path):
    python, wheel, marker, env = hosted
    cell = tmp_path / "first_cell.py"
    cell.write_text(TEMPLATE.read_text(encoding="utf-8") + AFTER, encoding="utf-8")
    bare = _run(python, "-c", "import importlib.util; print(importlib.util.find_spec('reglab'))",
                cwd=tmp_path, env=env)
    assert bare.stdout.strip() == "None", "the emulated kernel already has reglab"

    # not hosted: nothing is installed, the import fails as it would
    local = _run(python, cell, cwd=tmp_path, env={**env, "REGLAB_INSTALL_SOURCE": str(wheel)},
                 ok=False)
    assert local.returncode != 0 and "No module named 'reglab'" in local.stderr, local.stderr[-2000:]

    hosted_env = {**env, "PYTHONPATH": str(marker), "REGLAB_INSTALL_SOURCE": str(wheel)}
    proc = _run(python, cell, cwd=tmp_path, env=hosted_env)
    report = json.loads(next(line for line in proc.stdout.splitlines()
                             if line.startswith("REPORT "))[len("REPORT "):])
    assert Path(report["file"]).is_relative_to(python.parent.parent), report["file"]
    # a second run (Run All again) finds reglab and installs nothing: a source that does not
    # exist would fail pip
    _run(python, cell, cwd=tmp_path, env={**hosted_env, "REGLAB_INSTALL_SOURCE": str(tmp_path / "none.whl")})
