"""reglab doctor: a good saved model, and every file it must refuse (exit 2, one line on stderr).

``reglab.doctor.cli.run`` is tested directly; two cases go through the ``reglab`` command line
(``reglab.cli.main``), which parses ``doctor MODEL.keras [--json]`` and calls it.
"""

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from reglab.doctor.cli import run

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    l2 = keras.regularizers.l2(0.01)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_regularizer=l2, name="hidden"),
                              keras.layers.Dense(2, name="out")])
    model.compile(optimizer=keras.optimizers.AdamW(weight_decay=0.01), loss="mse")
    good = folder / "good.keras"
    model.save(good)
    lam = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)])
    unsafe = folder / "lambda.keras"
    lam.save(unsafe)
    data = good.read_bytes()
    truncated = folder / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    text = folder / "notes.keras"
    text.write_text("not a model")
    no_config = folder / "other.keras"
    with zipfile.ZipFile(no_config, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return {"good": good, "unsafe": unsafe, "truncated": truncated, "text": text, "folder": folder,
            "missing": folder / "missing.keras", "no_config": no_config}


def doctor(path, as_json=False):
    """``run`` on ``path``: (exit status, what it printed on out, on err)."""
    out, err = io.StringIO(), io.StringIO()
    status = run(str(path), as_json=as_json, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_good_model_json(saved):
    status, out, err = doctor(saved["good"], as_json=True)
    assert status == 0 and err == ""
    data = json.loads(out)
    kernel = data["weights"][0]
    assert kernel["name"].endswith("hidden/kernel") and kernel["shape"] == [4, 3]
    assert kernel["regularizer"]["kind"] == "l2" and kernel["regularizer"]["convention"] == "keras"
    assert kernel["regularizer"]["conventions"]["tf_slim"] == "tf_slim.l2_regularizer(0.02)"
    assert kernel["penalty"] > 0
    assert [f["code"] for f in data["findings"]] == ["DECAY_AND_L2_ON_SAME_WEIGHTS", "BIAS_PENALIZED"]
    assert all({"code", "message"} <= set(f) for f in data["findings"])


def test_good_model_text(saved):
    status, out, _ = doctor(saved["good"])
    assert status == 0
    assert "keras l2(0.01)" in out and "DECAY_AND_L2_ON_SAME_WEIGHTS" in out


@pytest.mark.parametrize("key, words", [
    ("missing", "no such file"), ("folder", "is a directory"), ("text", "not a Keras archive (not a zip"),
    ("no_config", "no config.json inside"), ("truncated", "truncated"),
    ("unsafe", "unsafe deserialization"),
])
def test_refused_with_status_2_and_one_line(saved, key, words):
    status, out, err = doctor(saved[key])
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
    assert lines[0].startswith(f"reglab doctor: error: {saved[key]}: ")


def test_refusal_needs_no_tensorflow(tmp_path):
    code = ("import sys; from reglab.doctor.cli import run; "
            "s = run(sys.argv[1], as_json=False, out=sys.stdout, err=sys.stderr); "
            "print(s, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, os.fspath(tmp_path)], capture_output=True, text=True)
    assert out.stdout.split() == ["2", "False"]


def test_reglab_command_line_parses_doctor(saved, capsys):
    from reglab import cli

    assert cli.main(["doctor", str(saved["good"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["weights"][0]["name"].endswith("hidden/kernel")
    assert cli.main(["doctor", str(saved["missing"])]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("reglab doctor: error:")
    assert "no such file" in captured.err
