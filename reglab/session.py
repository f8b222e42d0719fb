"""The set-up of a notebook session: quiet logs, short tracebacks, fixed thread pools.

``reglab.setup()`` is the first line of every notebook.  It

* hides TensorFlow's C++ start-up lines (``TF_CPP_MIN_LOG_LEVEL=3``; 2 is not enough) and its
  Python deprecation log, so that stored outputs hold only what the lesson prints;
* keeps TensorFlow on the CPU (``CUDA_VISIBLE_DEVICES=-1``), so that a student with a GPU gets
  the stored numbers too;
* prints Python warnings as ``Category: message`` and, in IPython, errors as ``Type: message``,
  without the file paths of the libraries;
* fixes TensorFlow's thread pools to ``THREADS`` threads, so that results do not depend on the
  number of cores;
* seeds everything and turns on op determinism (``reglab.repro.seed_everything``).

This module holds the first four; ``reglab.setup`` calls them and then seeds.

``NOTEBOOK_ENV`` is the environment a kernel or worker process is *started* with (``tasks.py``,
the tests, ``check``): ``PYTHONHASHSEED`` only takes effect at interpreter start, so ``setup()``
cannot set it.  ``tasks.py`` reads ``NOTEBOOK_ENV`` from this file's source with ``ast``, without
importing the package.

Import order matters for one switch: ``TF_USE_LEGACY_KERAS`` must be set before TensorFlow is
first imported.  ``import reglab`` does not import TensorFlow; ``setup()`` does.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

NOTEBOOK_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONHASHSEED": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "CUDA_VISIBLE_DEVICES": "-1",
}

#: What ``setup()`` sets in the running process (if unset): the variables TensorFlow reads
#: when it is imported.  ``PYTHONHASHSEED`` is not among them: it only works at start-up.
SESSION_ENV = {key: NOTEBOOK_ENV[key] for key in ("TF_CPP_MIN_LOG_LEVEL", "TF_DETERMINISTIC_OPS",
                                                  "CUDA_VISIBLE_DEVICES")}

#: Threads per TensorFlow pool.  Fixed, so that a float sum is split the same way, and so gives
#: the same last digits, on a 1-core laptop, this 2-core machine or a 64-core server.
THREADS = 2


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
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

    Sets the variables of ``SESSION_ENV`` where unset (TensorFlow's log level, determinism, the
    CPU only), imports TensorFlow with its start-up lines silenced, lowers the TensorFlow and
    absl Python loggers to ERROR, and formats warnings as ``Category: message``.
    """
    for key, value in SESSION_ENV.items():
        os.environ.setdefault(key, value)
    with quiet_stderr():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    from absl import logging as absl_logging  # ships with TensorFlow

    absl_logging.set_verbosity(absl_logging.ERROR)
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


def fix_threads(threads: int = THREADS) -> bool:
    """Give TensorFlow's intra- and inter-op pools ``threads`` threads each.

    Must run before TensorFlow executes its first op; returns False (and changes nothing) if
    the runtime is already initialized, for example when ``setup()`` is called a second time.
    """
    with quiet_stderr():
        import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # runtime already initialized: keep what it has
        return False
    return True
