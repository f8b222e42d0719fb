"""Reproducibility and quiet output: one call before any experiment.

``setup()`` is the first line of every notebook.  It

* silences TensorFlow's C++ start-up lines (``TF_CPP_MIN_LOG_LEVEL=3``) and its Python
  deprecation log, so that stored outputs hold only what the lesson prints;
* prints Python warnings as ``Category: message`` and, in IPython, errors as
  ``Type: message``, without the file paths of the libraries;
* fixes TensorFlow's thread pools to ``THREADS`` threads, so results do not depend on the number
  of cores (``fix_threads``);
* seeds Python, NumPy, TensorFlow and Keras and turns on op determinism (``seed_everything``).

Import order matters for one switch: ``TF_USE_LEGACY_KERAS`` must be set before TensorFlow is
first imported.  ``import reglab`` does not import TensorFlow; ``setup()`` does.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

from reglab._validate import check_int
from reglab.env import NOTEBOOK_ENV


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (C++ lines ignore log levels)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded shells)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _short_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    return f"{category.__name__}: {message}\n"


def quiet_logs() -> None:
    """Hide TensorFlow's log noise and strip file paths from printed warnings.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` if unset, imports TensorFlow with its start-up lines
    silenced, lowers the TensorFlow and absl Python loggers to ERROR, and formats warnings
    as ``Category: message``.
    """
    for key, value in NOTEBOOK_ENV.items():
        os.environ.setdefault(key, value)
    with _quiet_stderr_fd():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass
    warnings.formatwarning = _short_warning
    _short_tracebacks()


def _short_tracebacks() -> None:
    """In IPython, show errors as ``Type: message`` without library frames and their paths."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to do
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "InteractiveTB"):
        shell.InteractiveTB.set_mode("Minimal")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras with ``seed`` and turn on op determinism.

    Call it again before each experiment that must give the same numbers when re-run.
    """
    seed = check_int("seed", seed, minimum=0)
    with _quiet_stderr_fd():
        import keras
        import tensorflow as tf
    keras.utils.set_random_seed(seed)  # seeds Python's random, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()


#: Threads per TensorFlow pool.  Fixed, so that a float sum is split the same way, and so gives
#: the same last digits, on a 1-core laptop, this 2-core machine or a 64-core server.
THREADS = 2


def fix_threads(threads: int = THREADS) -> bool:
    """Give TensorFlow's intra- and inter-op pools ``threads`` threads each.

    Must run before TensorFlow executes its first op; returns False (and changes nothing) if
    the runtime is already initialized, for example when ``setup()`` is called a second time.
    """
    threads = check_int("threads", threads, minimum=1)
    with _quiet_stderr_fd():
        import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # runtime already initialized: keep what it has
        return False
    return True


def setup(seed: int = 0) -> None:
    """Quiet the logs, fix the thread pools and seed everything: the first call of every notebook.

    Equivalent to ``quiet_logs(); fix_threads(); seed_everything(seed)``.
    """
    seed = check_int("seed", seed, minimum=0)
    quiet_logs()
    fix_threads()
    seed_everything(seed)
