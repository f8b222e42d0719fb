"""reglab.data: shipped data verified by checksum, splits, and clear errors."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reglab import data


def test_mnist_subset_split_is_stratified_and_deterministic():
    first = data.load_dataset("mnist_subset")
    second = data.load_dataset("mnist_subset")
    assert first.x_train.shape == (4000, 784) and first.x_test.shape == (1000, 784)
    assert first.x_train.dtype == np.float32 and first.y_train.dtype == np.int64
    assert 0.0 <= first.x_train.min() and first.x_train.max() <= 1.0
    assert np.bincount(first.y_test).tolist() == [100] * 10
    assert np.bincount(first.y_train).tolist() == [400] * 10
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert first.num_classes == 10
    other_seed = data.load_dataset("mnist_subset", seed=1)
    assert not np.array_equal(first.y_train, other_seed.y_train)


def test_shipped_file_matches_its_checksum():
    path = data.DATA_DIR / "mnist_5k.npz"
    assert data.sha256_of(path) == data.CHECKSUMS["mnist_5k.npz"]
    images, labels = data.mnist_subset_arrays()
    assert images.shape == (5000, 784) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10


def test_checksum_is_listed_in_data_readme():
    readme = (data.DATA_DIR / "README.md").read_text()
    for name, digest in data.CHECKSUMS.items():
        assert name in readme and digest in readme


@pytest.mark.parametrize(("name", "shape", "classes"), [("digits", 64, 10), ("toy2d", 2, 2)])
def test_small_datasets(name, shape, classes):
    split = data.load_dataset(name)
    assert split.x_train.shape[1] == shape
    assert split.num_classes == classes
    assert split.x_train.dtype == np.float32


def test_corrupt_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "mnist_5k.npz"
    shutil.copy(data.DATA_DIR / "mnist_5k.npz", copy)
    with copy.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(data.DataFileError, match="'mnist_5k.npz' is corrupt"):
        data.load_dataset("mnist_subset")


def test_missing_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(data.DataFileError, match="'mnist_5k.npz' is missing"):
        data.load_dataset("mnist_subset")
    assert issubclass(data.DataFileError, ValueError)


def test_full_mnist_without_network_gives_clear_error(tmp_path):
    # In a fresh process with an empty Keras cache and the network guard installed, the real
    # loader must try to download, be refused, and end in the clear error.
    log = tmp_path / "attempts.log"
    code = (
        "from tests.support import network_guard; network_guard.install()\n"
        "from reglab import data\n"
        "try:\n"
        "    data.load_full_mnist()\n"
        "except data.DatasetUnavailableError as err:\n"
        "    print(err)\n"
    )
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras"), REGLAB_NETWORK_LOG=str(log))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        cwd=Path(__file__).resolve().parent.parent, timeout=120,
    )
    assert "use the offline dataset 'mnist_subset'" in out.stdout, out.stderr[-2000:]
    assert log.exists() and log.read_text(), "no download was attempted: the test proved nothing"


def test_toy2d_generator():
    x, y = data.make_toy2d(n_samples=50, noise=0.1, seed=3)
    assert x.shape == (50, 2) and set(np.unique(y)) == {0, 1}


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "cifar10"}, ValueError, "name must be one of 'mnist_subset'"),
        ({"name": 7}, TypeError, "name must be a string"),
        ({"name": "mnist_subset", "test_size": 0}, ValueError, "test_size must be >= 1"),
        ({"name": "mnist_subset", "test_size": 5000}, ValueError, "test_size must be < the number"),
        ({"name": "mnist_subset", "test_size": "10"}, TypeError, "test_size must be an integer"),
        ({"name": "mnist_subset", "seed": -1}, ValueError, "seed must be >= 0"),
        ({"name": "mnist_subset", "seed": 1.5}, TypeError, "seed must be an integer"),
        ({"name": "mnist", "test_size": 10}, ValueError, "test_size must be None for 'mnist'"),
    ],
)
def test_load_dataset_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.load_dataset(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": np.zeros((4, 2)), "y": np.zeros(3), "test_size": 1}, ValueError, "same number of rows"),
        ({"x": np.zeros((4, 2)), "y": np.zeros((4, 1)), "test_size": 1}, ValueError, "y must be 1-D"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(4), "test_size": 1.5}, ValueError,
         "test_size must be strictly between 0 and 1"),
    ],
)
def test_stratified_split_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.stratified_split(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 2}, ValueError, "n_samples must be >= 4"),
        ({"noise": -0.1}, ValueError, "noise must be >= 0"),
        ({"noise": float("nan")}, ValueError, "noise must be finite"),
    ],
)
def test_make_toy2d_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.make_toy2d(**kwargs)


def test_verify_file_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path"):
        data.verify_file(3, "0" * 64)
    with pytest.raises(ValueError, match="expected_sha256 must be a 64-character hex string"):
        data.verify_file(tmp_path, "abc")
