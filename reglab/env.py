"""The environment variables the notebooks are generated and tested with.

Kept free of imports so that ``tasks.py`` can read it before any package is installed.
``TF_CPP_MIN_LOG_LEVEL=3`` hides TensorFlow's C++ log lines (2 is not enough),
``PYTHONHASHSEED`` and ``TF_DETERMINISTIC_OPS`` make runs repeatable, and
``CUDA_VISIBLE_DEVICES=-1`` keeps every run on the CPU.
"""

NOTEBOOK_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONHASHSEED": "0",
    "TF_DETERMINISTIC_OPS": "1",
    "CUDA_VISIBLE_DEVICES": "-1",
}
