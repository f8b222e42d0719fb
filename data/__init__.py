"""The workbook's shipped data (see README.md here: provenance, licence, SHA-256).

Installed as the package ``reglab.datasets`` (``pyproject.toml`` maps this folder to it), so that
a built wheel carries the data and ``importlib.resources.files("reglab.datasets")`` finds it in
any install, editable or not.  Nothing to import here: ``reglab.data`` reads the files.
"""
