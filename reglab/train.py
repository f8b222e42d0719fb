"""Small pieces of training plumbing shared by the notebooks: the data order.

Every approach must see the same batches in the same order to be compared number for number.
``minibatches`` gives that order: epoch ``e`` is a permutation drawn from
``numpy.random.default_rng([seed, e])``, cut into consecutive batches of ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reglab._validate import check_int


def epoch_order(n: int, epoch: int, seed: int = 0) -> np.ndarray:
    """The permutation of ``range(n)`` used in epoch ``epoch``."""
    n = check_int("n", n, minimum=1)
    epoch = check_int("epoch", epoch, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    return np.random.default_rng([seed, epoch]).permutation(n)


def minibatches(
    n: int, batch_size: int, epoch: int = 0, seed: int = 0, *, drop_remainder: bool = False
) -> Iterator[np.ndarray]:
    """Yield the index arrays of epoch ``epoch``'s batches (the last one may be short)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    order = epoch_order(n, epoch, seed)
    stop = n - n % batch_size if drop_remainder else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
