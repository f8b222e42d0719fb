"""reglab.doctor_cli: a good saved model, and every file it must refuse (exit 2, one line)."""

import json
import os

import pytest

from reglab import doctor_cli

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
    return {"good": good, "unsafe": unsafe, "truncated": truncated, "text": text, "folder": folder,
            "missing": folder / "missing.keras"}


def test_good_model_json(saved, capsys):
    assert doctor_cli.main([str(saved["good"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    kernel = data["weights"][0]
    assert kernel["name"].endswith("hidden/kernel") and kernel["shape"] == [4, 3]
    assert kernel["regularizer"]["conventions"]["tf_slim"] == "tf_slim.l2_regularizer(0.02)"
    assert kernel["penalty"] > 0
    assert [f["code"] for f in data["findings"]] == ["DECAY_AND_L2_ON_SAME_WEIGHTS", "BIAS_PENALIZED"]
    assert all({"code", "message"} <= set(f) for f in data["findings"])


def test_good_model_text(saved, capsys):
    assert doctor_cli.main([str(saved["good"])]) == 0
    out = capsys.readouterr().out
    assert "keras l2(0.01)" in out and "DECAY_AND_L2_ON_SAME_WEIGHTS" in out


@pytest.mark.parametrize("key, words", [
    ("missing", "no such file"), ("folder", "is a directory"), ("text", "not a Keras archive"),
    ("truncated", "truncated"), ("unsafe", "unsafe deserialization"),
])
def test_refused_with_status_2_and_one_line(saved, capsys, key, words):
    assert doctor_cli.main([str(saved[key])]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and lines[0].startswith("reglab doctor: error:")


def test_zip_without_config_is_not_a_keras_archive(tmp_path, capsys):
    import zipfile

    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert doctor_cli.main([str(path)]) == 2
    assert "no config.json" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        doctor_cli.main([])
    assert exit_info.value.code == 2
    assert "MODEL.keras" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        doctor_cli.main(["x.keras", "--colour"])
    assert exit_info.value.code == 2


def test_refusal_needs_no_tensorflow(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from reglab import doctor_cli; s = doctor_cli.main([sys.argv[1]]); "
            "print(s, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, os.fspath(tmp_path)], capture_output=True, text=True)
    assert out.stdout.split() == ["2", "False"]


def test_reglab_command_line_dispatches_doctor(tmp_path, capsys):
    from reglab import cli

    assert cli.main(["doctor", str(tmp_path / "missing.keras")]) == 2
    assert "no such file" in capsys.readouterr().err
