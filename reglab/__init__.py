"""reglab: plumbing for the regularization workbook.

The package is in layers; each imports only the ones above it in this list:

* ``reglab.params``: the one error type and the declared argument checks;
* the lesson plumbing the notebooks import (this folder): ``session`` (logs, threads),
  ``repro`` (seeding), ``data``, ``tf1``, ``penalties``, ``easynet``, ``plots``, ``checks``;
* ``reglab.sweep`` (the seven approaches as trainers), ``reglab.explorer`` (the interactive
  explorer), ``reglab.doctor`` (what a model regularizes);
* ``reglab.classroom`` (workbook structure, student edition, grading, scaffold, the book);
* ``reglab.cli``: the ``reglab`` command.

Importing ``reglab`` does not import TensorFlow, so a notebook can still set
``TF_USE_LEGACY_KERAS`` after ``import reglab`` and before TensorFlow is loaded.  Submodules
load on first use: ``reglab.penalties.slim_l2(...)`` works after a plain ``import reglab``.
"""

import importlib
from types import ModuleType

from reglab.params import Integer, validated

__all__ = ["setup"]
__version__ = "0.2.0"

_SUBMODULES = {
    "checks", "classroom", "cli", "data", "doctor", "easynet", "explorer", "files", "optimizers",
    "params", "penalties", "plots", "repro", "session", "sweep", "tf1",
}


@validated(seed=Integer(minimum=0))
def setup(seed: int = 0) -> None:
    """Quiet the logs, fix the thread pools and seed everything: the first call of every notebook.

    Equivalent to ``session.quiet_logs(); session.fix_threads(); repro.seed_everything(seed)``.
    """
    from reglab import repro, session

    session.quiet_logs()
    session.fix_threads()
    repro.seed_everything(seed)


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"reglab.{name}")
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")
