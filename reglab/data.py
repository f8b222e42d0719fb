"""Offline datasets, checked by SHA-256, with deterministic stratified splits, and the batch order.

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

Every approach must see the same batches in the same order to be compared number for number.
``minibatches`` gives that order: epoch ``e`` is a permutation drawn from
``numpy.random.default_rng([seed, e])``, cut into consecutive batches of ``batch_size``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from reglab.params import (
    Boolean,
    Either,
    Integer,
    InvalidParameterError,
    NoneOr,
    Options,
    PathLike,
    Real,
    Text,
    validated,
)

#: Folder of the shipped data files: the repository's data/, installed as ``reglab.datasets``.
DATA_DIR = Path(str(importlib.resources.files("reglab.datasets")))

#: Shipped files and their SHA-256 (also listed in data/README.md).
CHECKSUMS = {
    "mnist_5k.npz": "970702d994c498f4ed47376383483ffa572089f72cd489dad1f40f362dbc14bf",
}

DATASETS = ("mnist_subset", "digits", "toy2d", "mnist")


class DataFileError(RuntimeError):
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


@validated(path=PathLike())
def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@validated(path=PathLike(), expected_sha256=Text())
def verify_file(path: str | Path, expected_sha256: str) -> Path:
    """Return ``path`` if the file exists and its SHA-256 is ``expected_sha256``.

    Raises ``DataFileError`` naming the file otherwise.
    """
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


def same_rows(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` as arrays if they have the same number of rows and ``y`` is 1-D.

    Raises ``InvalidParameterError`` showing both shapes otherwise (a rule across two arguments,
    so it is checked here rather than declared).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 1 or y.ndim != 1 or len(x) != len(y):
        raise InvalidParameterError(
            f"x and y must have the same number of rows and y must be 1-D; "
            f"got x {x.shape}, y {y.shape}"
        )
    return x, y


_TEST_SIZE = Either(Integer(minimum=1), Real(0.0, 1.0, open_minimum=True, open_maximum=True))


@validated(test_size=_TEST_SIZE, seed=Integer(minimum=0))
def stratified_split(
    x: Any, y: Any, test_size: float | int, seed: int = 0
) -> Split:
    """Shuffle and split ``(x, y)`` so that each class keeps its share (scikit-learn).

    ``test_size`` is a fraction in (0, 1) or a number of test samples.
    """
    from sklearn.model_selection import train_test_split

    x, y = same_rows(x, y)
    if isinstance(test_size, int) and test_size >= len(y):
        raise InvalidParameterError(f"test_size must be < the number of samples {len(y)}; got {test_size}")
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    return Split(x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64))


def mnist_subset_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The shipped 5,000 images as ``(uint8 images of shape (5000, 784), labels)``, checked."""
    path = verify_file(DATA_DIR / "mnist_5k.npz", CHECKSUMS["mnist_5k.npz"])
    with np.load(path) as archive:
        return archive["images"], archive["labels"].astype(np.int64)


@validated(n_samples=Integer(minimum=4), noise=Real(0.0), seed=Integer(minimum=0))
def make_toy2d(n_samples: int = 400, noise: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-moons in 2-D (``sklearn.datasets.make_moons``), float32 features."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)


def load_full_mnist() -> Split:
    """Full MNIST (60,000 train / 10,000 test) via ``keras.datasets.mnist.load_data``.

    Downloads on first use into Keras' cache (``$KERAS_HOME/datasets``, by default
    ``~/.keras/datasets``); raises ``DatasetUnavailableError`` with advice when there is no
    network.
    """
    from reglab.session import quiet_stderr

    with quiet_stderr():
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


def _scaled_mnist_subset(seed: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_subset_arrays()
    return images.astype(np.float32) / 255.0, labels


def _digits_arrays(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32) / 16.0, bunch.target.astype(np.int64)


#: The offline datasets: name -> (the arrays ``(x, y)`` for a seed, the default number of test
#: samples).  ``mnist``, the fourth of ``DATASETS``, is downloaded (``load_full_mnist``).
OFFLINE: dict[str, tuple[Callable[[int], tuple[np.ndarray, np.ndarray]], int]] = {
    "mnist_subset": (_scaled_mnist_subset, 1000),
    "digits": (_digits_arrays, 360),
    "toy2d": (lambda seed: make_toy2d(seed=seed), 100),
}


@validated(name=Options(*DATASETS), test_size=NoneOr(Integer(minimum=1)), seed=Integer(minimum=0))
def load_dataset(name: str = "mnist_subset", *, test_size: int | None = None, seed: int = 0) -> Split:
    """Load dataset ``name`` (one of ``DATASETS``) as a stratified train/test ``Split``.

    ``test_size`` (number of test samples) defaults to 1,000 for ``mnist_subset``, 360 for
    ``digits`` and 100 for ``toy2d``; ``mnist`` keeps its official 60,000/10,000 split.
    """
    if name == "mnist":
        if test_size is not None:
            raise InvalidParameterError("test_size must be None for 'mnist', which has a fixed test set")
        return load_full_mnist()
    arrays, default_test_size = OFFLINE[name]
    x, y = arrays(seed)
    return stratified_split(x, y, default_test_size if test_size is None else test_size, seed)


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


@validated(name=Options(*OFFLINE), validation_size=Integer(minimum=1),
           test_size=NoneOr(Integer(minimum=1)), seed=Integer(minimum=0))
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
    arrays, default_test_size = OFFLINE[name]
    test_size = default_test_size if test_size is None else test_size
    x, y = arrays(seed)
    rows = np.arange(len(y))
    if test_size >= len(y):
        raise InvalidParameterError(f"test_size must be < the number of samples {len(y)}; got {test_size}")
    if validation_size >= len(y) - test_size:
        raise InvalidParameterError(
            f"validation_size must be < the {len(y) - test_size} samples left after the test "
            f"set; got {validation_size}"
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


@validated(n=Integer(minimum=1), epoch=Integer(minimum=0), seed=Integer(minimum=0))
def epoch_order(n: int, epoch: int, seed: int = 0) -> np.ndarray:
    """The permutation of ``range(n)`` used in epoch ``epoch``: ``default_rng([seed, epoch])``."""
    return np.random.default_rng([seed, epoch]).permutation(n)


@validated(n=Integer(minimum=1), batch_size=Integer(minimum=1), epoch=Integer(minimum=0),
           seed=Integer(minimum=0), drop_remainder=Boolean())
def minibatches(
    n: int, batch_size: int, epoch: int = 0, seed: int = 0, *, drop_remainder: bool = False
) -> Iterator[np.ndarray]:
    """Yield the index arrays of epoch ``epoch``'s batches (the last one may be short).

    Checked at the call, not at the first ``next``: the generator is made inside.
    """
    order = epoch_order(n, epoch, seed)
    stop = n - n % batch_size if drop_remainder else n
    return (order[start : start + batch_size] for start in range(0, stop, batch_size))
