"""reglab: plumbing for the regularization workbook.

Importing ``reglab`` does not import TensorFlow, so a notebook can still set
``TF_USE_LEGACY_KERAS`` after ``import reglab`` and before TensorFlow is loaded.  Submodules
load on first use: ``reglab.penalties.slim_l2(...)`` works after a plain ``import reglab``.
"""

import importlib
from types import ModuleType

from reglab.repro import setup

__all__ = ["setup"]
__version__ = "0.1.0"

_SUBMODULES = {
    "approaches", "checks", "classroom", "cli", "compiled_loop", "data", "doctor", "doctor_cli", "easynet",
    "edition", "env", "explorer", "explorer_view", "grading", "penalties", "plots", "repro",
    "scaffold", "sweep_legacy", "sweep_results", "sweep_run", "sweep_tf", "tf1", "train",
    "widgets", "workbook",
}


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"reglab.{name}")
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")
