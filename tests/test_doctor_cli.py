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
import zlib

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


# --- hostile files: refused before Keras reads them, in about a second, in bounded memory ---------------
LIMIT = 1 << 30  # address space of the refusing process: 1 GiB (TensorFlow alone maps more)
REFUSE = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from reglab.doctor.cli import run
started = time.perf_counter()
status = run(sys.argv[1], as_json=False, out=sys.stdout, err=sys.stderr)
print(status, time.perf_counter() - started, 'tensorflow' in sys.modules)
"""


def _raw_zip(path, members):
    """A zip written byte by byte: ``members`` are ``(name, stored bytes, method, declared size, crc)``,
    so that a test can declare what it likes (a bomb's sizes are real; a forged header's are not)."""
    import struct

    local, central = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        offset = len(local)
        name_b = name.encode()
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size,
                             len(name_b), 0) + name_b + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data),
                               size, len(name_b), 0, 0, 0, 0, 0, offset) + name_b
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def _bomb(path, gib=1):
    """A real zip bomb: ``config.json`` of ``gib`` GiB of spaces deflated to about 1 MB.  Full flushes
    make each 16 MiB block independent of the ones before, so one block is compressed and repeated."""
    chunk = b" " * (16 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = gib * 64
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    data = block * count + b"\x03\x00"  # an empty final block
    return _raw_zip(path, [("config.json", data, zipfile.ZIP_DEFLATED, len(chunk) * count, crc)])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, saved):
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for device in ("/dev/zero", "/dev/urandom"):
        link = folder / f"{os.path.basename(device)}.keras"
        link.symlink_to(device)
        files[os.path.basename(device)] = link
    os.mkfifo(folder / "pipe.keras")
    files["pipe"] = folder / "pipe.keras"
    huge = folder / "huge.keras"
    with open(huge, "wb") as handle:  # sparse: no disk used
        handle.truncate(3 << 29)
    files["huge"] = huge
    files["bomb"] = _bomb(folder / "bomb.keras")
    config = b'{"class_name": "Sequential"}'
    files["declared"] = _raw_zip(folder / "declared.keras", [
        ("config.json", config, zipfile.ZIP_STORED, len(config), zlib.crc32(config)),
        ("model.weights.h5", b"", zipfile.ZIP_STORED, 0xFFFFFFF0, 0),  # claims 4 GiB, stores nothing
    ])
    big_config = b"{" + b" " * (80 << 20) + b"}"
    files["big_config"] = folder / "big_config.keras"
    with zipfile.ZipFile(files["big_config"], "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("config.json", big_config)
    mib = zlib.compress(bytes(1 << 20), 9)[2:-4]  # 1 MiB of zeros, deflated to about 1 KB
    crc = zlib.crc32(bytes(1 << 20))
    small = [(f"w{i}.bin", mib, zipfile.ZIP_DEFLATED, 1 << 20, crc) for i in range(900)]  # 900 MiB in all
    files["many_small"] = _raw_zip(folder / "many_small.keras", [
        ("config.json", config, zipfile.ZIP_STORED, len(config), zlib.crc32(config)), *small])
    files["many_members"] = _raw_zip(folder / "many_members.keras", [
        ("config.json", config, zipfile.ZIP_STORED, len(config), zlib.crc32(config)),
        *[(f"a{i}", b"", zipfile.ZIP_STORED, 0, 0) for i in range(1500)]])
    custom = folder / "custom.keras"
    with zipfile.ZipFile(saved["good"]) as source, zipfile.ZipFile(custom, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "config.json":
                data = data.replace(b'"module": "keras.layers", "class_name": "Dense"',
                                    b'"module": null, "class_name": "Twice"', 1)
                data = data.replace(b'"registered_name": null, "build_config"',
                                    b'"registered_name": "mine>Twice", "build_config"', 1)
            archive.writestr(info, data)
    files["custom"] = custom
    return files


@pytest.mark.parametrize("key, words", [
    ("zero", "is a character device, not a regular file"),
    ("urandom", "is a character device, not a regular file"),
    ("pipe", "is a named pipe, not a regular file"),
    ("huge", "over the doctor's limit"),
    ("bomb", "config.json declares 1,024 MiB"),
    ("declared", "members declare 4,096 MiB uncompressed"),
    ("big_config", "config.json declares 80 MiB"),
    ("many_small", "its 901 members expand 1,0"),
    ("many_members", "1,501 members, over the limit of 1,000"),
    ("custom", "unknown custom class 'mine>Twice'"),
])
def test_hostile_file_refused_fast_in_bounded_memory(hostile, key, words):
    out = subprocess.run([sys.executable, "-c", REFUSE.format(limit=LIMIT), os.fspath(hostile[key])],
                         capture_output=True, text=True, timeout=60)
    status, seconds, tensorflow = out.stdout.split()
    lines = out.stderr.strip().splitlines()
    assert status == "2" and len(lines) == 1 and words in lines[0], out.stderr
    assert float(seconds) < 1.5 and tensorflow == "False"


def test_a_bomb_that_only_expands_a_lot_is_refused_by_its_ratio(tmp_path):
    from reglab.doctor import cli

    data = zlib.compress(b" " * (4 << 20), 9)[2:-4]
    path = _raw_zip(tmp_path / "ratio.keras", [
        ("config.json", b"{}", zipfile.ZIP_STORED, 2, zlib.crc32(b"{}")),
        ("model.weights.h5", data, zipfile.ZIP_DEFLATED, 4 << 20, zlib.crc32(b" " * (4 << 20)))])
    status, out, err = doctor(path)
    assert status == 2 and "model.weights.h5 expands 1,0" in err and f"times (limit {cli.MAX_RATIO};" in err


def test_symlink_to_dev_zero_through_the_command_line(hostile):
    out = subprocess.run([sys.executable, "-m", "reglab", "doctor", os.fspath(hostile["zero"])],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"reglab doctor: error: {hostile['zero']}: is a character device, not a regular file"]


def test_a_symlink_to_a_good_model_is_read(saved, tmp_path):
    link = tmp_path / "link.keras"
    link.symlink_to(saved["good"])
    status, out, _ = doctor(link)
    assert status == 0 and "keras l2(0.01)" in out


def test_json_costs_no_more_than_text(saved):
    import time

    from reglab.doctor.cli import load_safely
    from reglab.doctor.diagnose import diagnose

    report = diagnose(load_safely(saved["good"]))
    started = time.perf_counter()
    for _ in range(20):
        str(report)
    text = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        report.to_json()
    assert time.perf_counter() - started < 3 * text + 0.05


def test_unknown_class_of_another_module_is_named_by_keras_refusal(saved, tmp_path):
    path = tmp_path / "elsewhere.keras"
    with zipfile.ZipFile(saved["good"]) as source, zipfile.ZipFile(path, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "config.json":
                data = data.replace(b'"module": "keras.layers", "class_name": "Dense"',
                                    b'"module": "nowhere.layers", "class_name": "Twice"', 1)
            archive.writestr(info, data)
    status, out, err = doctor(path)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "unknown custom class 'Twice'" in err
