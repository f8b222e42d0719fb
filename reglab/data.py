"""Offline datasets, checked by SHA-256, with deterministic stratified splits.

=================  ==========================================================  ===========
name               what                                                        network
=================  ==========================================================  ===========
``mnist_subset``   5,000 MNIST images shipped in ``data/`` (500 per digit),    never
                   4,000 train / 1,000 test, 784 features in [0, 1]
``digits``         scikit-learn's 8x8 digits (1,797 images), 64 features       never
                   in [0, 1]
``toy2d``          two interleaving half-moons (scikit-learn), 2 features      never
``mnist``          full MNIST, 60,000 / 10,000, through ``keras.datasets``     first use
=================  ==========================================================  ===========

Every split is stratified: each class keeps its share in train and test.
``train_val_test_split`` adds a validation part, carved out of ``load_dataset``'s training part
(the test part stays the same).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from reglab._validate import (
    InvalidParameterError,
    check_choice,
    check_fraction,
    check_int,
    check_scale,
)

#: Folder of the shipped data files.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: Shipped files and their SHA-256 (also listed in data/README.md).
CHECKSUMS = {
    "mnist_5k.npz": "970702d994c498f4ed47376383483ffa572089f72cd489dad1f40f362dbc14bf",
}

DATASETS = ("mnist_subset", "digits", "toy2d", "mnist")


class DataFileError(ValueError):
    """A shipped data file is missing or does not match its checksum."""


class DatasetUnavailableError(RuntimeError):
    """A dataset that needs the network could not be fetched."""


class Split(NamedTuple):
    """A train/test split: features as float32 arrays, labels as int64 arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        """Number of distinct labels across train and test."""
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify_file(path: str | Path, expected_sha256: str) -> Path:
    """Return ``path`` if the file exists and its SHA-256 is ``expected_sha256``.

    Raises ``DataFileError`` (a ``ValueError``) naming the file otherwise.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    if not isinstance(expected_sha256, str) or len(expected_sha256) != 64:
        raise ValueError("expected_sha256 must be a 64-character hex string")
    path = Path(path)
    if not path.is_file():
        raise DataFileError(
            f"data file {path.name!r} is missing from {path.parent.name}/: restore it with "
            "`git checkout -- data/` (see data/README.md)"
        )
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise DataFileError(
            f"data file {path.name!r} is corrupt: SHA-256 {actual[:12]}... does not match "
            f"{expected_sha256[:12]}...; restore it with `git checkout -- data/`"
        )
    return path


def check_xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` as arrays if they have the same number of rows and ``y`` is 1-D.

    Raises ``InvalidParameterError`` (a ``ValueError``) showing both shapes otherwise.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 1 or y.ndim != 1 or len(x) != len(y):
        raise InvalidParameterError(
            f"x and y must have the same number of rows and y must be 1-D; "
            f"got x {x.shape}, y {y.shape}"
        )
    return x, y


def stratified_split(
    x: Any, y: Any, test_size: float | int, seed: int = 0
) -> Split:
    """Shuffle and split ``(x, y)`` so that each class keeps its share (scikit-learn).

    ``test_size`` is a fraction in (0, 1) or a number of test samples.
    """
    from sklearn.model_selection import train_test_split

    x, y = check_xy(x, y)
    if isinstance(test_size, float):
        test_size = check_fraction("test_size", test_size)
    else:
        test_size = check_int("test_size", test_size, minimum=1)
        if test_size >= len(y):
            raise ValueError(f"test_size must be < the number of samples {len(y)}, got {test_size}")
    seed = check_int("seed", seed, minimum=0)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64))


def mnist_subset_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The shipped 5,000 images as ``(uint8 images of shape (5000, 784), labels)``, checked."""
    path = verify_file(DATA_DIR / "mnist_5k.npz", CHECKSUMS["mnist_5k.npz"])
    with np.load(path) as archive:
        return archive["images"], archive["labels"].astype(np.int64)


def _mnist_subset(test_size: int, seed: int) -> Split:
    images, labels = mnist_subset_arrays()
    split = stratified_split(images.astype(np.float32) / 255.0, labels, test_size, seed)
    return split


def _digits(test_size: int, seed: int) -> Split:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return stratified_split(bunch.data.astype(np.float32) / 16.0, bunch.target, test_size, seed)


def make_toy2d(n_samples: int = 400, noise: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-moons in 2-D (``sklearn.datasets.make_moons``), float32 features."""
    from sklearn.datasets import make_moons

    n_samples = check_int("n_samples", n_samples, minimum=4)
    noise = check_scale("noise", noise)
    seed = check_int("seed", seed, minimum=0)
    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)


def _toy2d(test_size: int, seed: int) -> Split:
    x, y = make_toy2d(seed=seed)
    return stratified_split(x, y, test_size, seed)


def load_full_mnist() -> Split:
    """Full MNIST (60,000 train / 10,000 test) via ``keras.datasets.mnist.load_data``.

    Downloads on first use into Keras' cache (``$KERAS_HOME/datasets``, by default
    ``~/.keras/datasets``); raises ``DatasetUnavailableError`` with advice when there is no
    network.
    """
    from reglab.repro import _quiet_stderr_fd

    with _quiet_stderr_fd():
        import keras
    try:
        (x_tr, y_tr), (x_te, y_te) = keras.datasets.mnist.load_data()
    except Exception as err:  # keras wraps URL errors in plain Exceptions
        raise DatasetUnavailableError(
            "full MNIST could not be downloaded (no network?); use the offline "
            "dataset 'mnist_subset' instead. Cause: " + type(err).__name__
        ) from err
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255.0  # noqa: E731
    return Split(flat(x_tr), y_tr.astype(np.int64), flat(x_te), y_te.astype(np.int64))


_SMALL_DEFAULT_TEST = {"mnist_subset": 1000, "digits": 360, "toy2d": 100}


def load_dataset(name: str = "mnist_subset", *, test_size: int | None = None, seed: int = 0) -> Split:
    """Load dataset ``name`` (one of ``DATASETS``) as a stratified train/test ``Split``.

    ``test_size`` (number of test samples) defaults to 1,000 for ``mnist_subset``, 360 for
    ``digits`` and 100 for ``toy2d``; ``mnist`` keeps its official 60,000/10,000 split.
    """
    name = check_choice("name", name, DATASETS)
    seed = check_int("seed", seed, minimum=0)
    if name == "mnist":
        if test_size is not None:
            raise ValueError("test_size must be None for 'mnist', which has a fixed test set")
        return load_full_mnist()
    if test_size is None:
        test_size = _SMALL_DEFAULT_TEST[name]
    test_size = check_int("test_size", test_size, minimum=1)
    loader = {"mnist_subset": _mnist_subset, "digits": _digits, "toy2d": _toy2d}[name]
    return loader(test_size, seed)


class SplitWithValidation(NamedTuple):
    """A train/validation/test split: features as float32 arrays, labels as int64 arrays.

    ``*_index`` are the row numbers of each part in the full dataset (for ``mnist_subset``,
    in ``mnist_subset_arrays()``): the three parts are disjoint and together cover every row.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    @property
    def num_classes(self) -> int:
        """Number of distinct labels across the three parts."""
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max()) + 1)


_SMALL_ARRAYS = {
    "mnist_subset": lambda seed: _scaled_mnist_subset(),
    "digits": lambda seed: _digits_arrays(),
    "toy2d": lambda seed: make_toy2d(seed=seed),
}


def _scaled_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_subset_arrays()
    return images.astype(np.float32) / 255.0, labels


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32) / 16.0, bunch.target.astype(np.int64)


def train_val_test_split(
    name: str = "mnist_subset",
    *,
    validation_size: int = 1000,
    test_size: int | None = None,
    seed: int = 0,
) -> SplitWithValidation:
    """Load dataset ``name`` as a stratified train / validation / test split.

    The test part is exactly ``load_dataset(name, test_size=test_size, seed=seed)``'s test set
    (same images, same order), so test figures stay comparable with the notebooks that use
    ``load_dataset``; the validation part (``validation_size`` samples, stratified) is carved
    out of that split's training part with the same ``seed``. For ``mnist_subset`` with the
    defaults: 3,000 / 1,000 / 1,000 images, 300 / 100 / 100 of each digit.

    Only the offline datasets (``mnist_subset``, ``digits``, ``toy2d``) are accepted.
    """
    name = check_choice("name", name, tuple(_SMALL_ARRAYS))
    seed = check_int("seed", seed, minimum=0)
    if test_size is None:
        test_size = _SMALL_DEFAULT_TEST[name]
    test_size = check_int("test_size", test_size, minimum=1)
    validation_size = check_int("validation_size", validation_size, minimum=1)
    x, y = _SMALL_ARRAYS[name](seed)
    rows = np.arange(len(y))
    if test_size >= len(y):
        raise InvalidParameterError(
            f"test_size must be < the number of samples {len(y)}, got {test_size}"
        )
    if validation_size >= len(y) - test_size:
        raise InvalidParameterError(
            f"validation_size must be < the {len(y) - test_size} samples left after the test "
            f"set, got {validation_size}"
        )
    # Splitting the row numbers with the labels gives the same shuffle as load_dataset's split
    # of the arrays (scikit-learn draws the permutation from y and the seed only).
    first = stratified_split(rows, y, test_size, seed)
    second = stratified_split(first.x_train, first.y_train, validation_size, seed)
    train_index, val_index, test_index = second.x_train, second.x_test, first.x_test
    return SplitWithValidation(
        x[train_index], second.y_train, x[val_index], second.y_test, x[test_index], first.y_test,
        train_index, val_index, test_index,
    )
