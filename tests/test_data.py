"""reglab.data: shipped data verified by checksum, splits, and clear errors."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reglab import data
from reglab.params import InvalidParameterError


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
    assert issubclass(data.DataFileError, RuntimeError)


@pytest.mark.slow  # over 4 s: the full suite runs it, test --fast does not
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


# ---- rules across arguments (single bad arguments: tests/test_params.py) ------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.load_dataset("mnist_subset", test_size=5000), "test_size must be < the number"),
        (lambda: data.load_dataset("mnist", test_size=10), "test_size must be None for 'mnist'"),
        (lambda: data.train_val_test_split(validation_size=4000), "validation_size must be < the 4000"),
        (lambda: data.train_val_test_split(test_size=5000), "test_size must be < the number"),
        (lambda: data.stratified_split(np.zeros((4, 2)), np.zeros(3), 1), r"got x \(4, 2\), y \(3,\)"),
        (lambda: data.stratified_split(np.zeros((4, 2)), np.zeros((4, 1)), 1), "y must be 1-D"),
    ],
)
def test_rules_across_arguments(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_train_val_test_split_sizes_and_strata():
    split = data.train_val_test_split("mnist_subset", validation_size=1000)
    assert split.x_train.shape == (3000, 784) and split.x_val.shape == (1000, 784)
    assert split.x_test.shape == (1000, 784)
    assert np.bincount(split.y_train).tolist() == [300] * 10
    assert np.bincount(split.y_val).tolist() == [100] * 10
    assert np.bincount(split.y_test).tolist() == [100] * 10
    assert split.x_val.dtype == np.float32 and split.y_val.dtype == np.int64
    assert split.num_classes == 10


def test_train_val_test_split_is_deterministic_and_seeded():
    first = data.train_val_test_split()
    second = data.train_val_test_split()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = data.train_val_test_split(seed=1)
    assert not np.array_equal(first.val_index, other.val_index)


def test_train_val_test_split_parts_are_disjoint_and_match_the_rows():
    split = data.train_val_test_split()
    parts = [set(split.train_index), set(split.val_index), set(split.test_index)]
    assert sum(map(len, parts)) == 5000 and set().union(*parts) == set(range(5000))
    images, labels = data.mnist_subset_arrays()
    np.testing.assert_array_equal(split.x_val, images[split.val_index] / np.float32(255))
    np.testing.assert_array_equal(split.y_train, labels[split.train_index])


@pytest.mark.parametrize("seed", [0, 3])
def test_train_val_test_split_keeps_load_datasets_test_set(seed):
    split = data.train_val_test_split(seed=seed)
    old = data.load_dataset("mnist_subset", seed=seed)
    np.testing.assert_array_equal(split.x_test, old.x_test)
    np.testing.assert_array_equal(split.y_test, old.y_test)
    # train + val together are load_dataset's training images
    together = np.concatenate([split.x_train, split.x_val])
    assert sorted(map(bytes, together)) == sorted(map(bytes, old.x_train))


@pytest.mark.parametrize("name", ["digits", "toy2d"])
def test_train_val_test_split_small_datasets(name):
    split = data.train_val_test_split(name, validation_size=50)
    old = data.load_dataset(name)
    assert len(split.y_val) == 50
    np.testing.assert_array_equal(split.x_test, old.x_test)
    assert len(split.y_train) + 50 == len(old.y_train)


def test_load_dataset_keeps_its_4000_1000_split():
    split = data.load_dataset("mnist_subset")
    assert split.x_train.shape == (4000, 784) and split.x_test.shape == (1000, 784)
