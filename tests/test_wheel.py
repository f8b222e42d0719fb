"""A wheel built from the repository installs and runs outside it (``pip install .``, not editable).

The wheel is built from a copy of the package's sources with the .venv's setuptools (no network)
and installed, without dependencies, into a scratch venv that sees the .venv's site-packages
through a ``.pth`` line: a plain path, so the .venv's editable install of ``reglab`` (a ``.pth``
file of its own, which Python only reads in a site folder) stays out of it, and every
``import reglab`` comes from the wheel.  The commands then run from a folder outside the
repository.  About 20 s here (building 3 s, then three processes that import TensorFlow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "reglab", "data")

pytestmark = pytest.mark.slow

PROBE = """\
import json, pathlib, reglab, reglab.data
split = reglab.data.load_dataset("mnist_subset")
print(json.dumps({"file": reglab.__file__, "train": len(split.y_train), "test": len(split.y_test)}))
from reglab.session import quiet_logs
quiet_logs()
import keras
model = keras.Sequential([keras.Input((3,)),
                          keras.layers.Dense(2, kernel_regularizer=keras.regularizers.l2(0.01))])
model.save(pathlib.Path("tiny.keras"))
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (ROOT / name).is_dir() else {}))
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", dist, source, cwd=source)
    (built,) = dist.glob("reglab-*.whl")
    return built


def test_the_wheel_holds_every_subpackage_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("reglab", "reglab/sweep", "reglab/explorer", "reglab/doctor", "reglab/classroom",
                    "reglab/datasets"):
        assert f"{package}/__init__.py" in names, package
    assert "reglab/datasets/mnist_5k.npz" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "reglab = reglab.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_wheel_runs_penalties_and_the_doctor(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--disable-pip-version-check", wheel, cwd=tmp_path)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path).stdout.strip())
    (site / "reglab-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    probe = json.loads(_run(python, "-c", PROBE, cwd=outside, env=env).stdout.splitlines()[0])
    assert Path(probe["file"]).is_relative_to(venv), probe["file"]
    assert (probe["train"], probe["test"]) == (4000, 1000)

    table = json.loads(_run(python, "-m", "reglab", "penalties", "--json", cwd=outside, env=env).stdout)
    assert len(table["rows"]) == 6 and all(row["tensorflow"] is not None for row in table["rows"])
    report = json.loads(_run(python, "-m", "reglab", "doctor", "tiny.keras", "--json", cwd=outside,
                             env=env).stdout)
    assert [w["regularizer"] is not None for w in report["weights"]].count(True) == 1, report
