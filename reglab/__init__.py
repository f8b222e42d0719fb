"""reglab: plumbing for the regularization workbook.

Importing ``reglab`` does not import TensorFlow, so a notebook can still set
``TF_USE_LEGACY_KERAS`` after ``import reglab`` and before TensorFlow is loaded.
"""

from reglab.repro import setup

__all__ = ["setup"]
__version__ = "0.1.0"
