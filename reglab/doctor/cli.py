"""``reglab doctor MODEL.keras [--json]``: the regularization doctor on a saved Keras model.

The command line's parser is ``reglab.cli``'s; it calls ``run``.  The model is loaded with
Keras' safe mode (``keras.saving.load_model(path, safe_mode=True)``): no code stored in the file
runs.  What cannot be read that way is refused with exit status 2 and one line naming the
problem: a missing path, a directory, a file that is not a Keras archive (a zip holding
``config.json``), a truncated or damaged archive, and an archive that needs unsafe
deserialization (a ``Lambda`` layer, for example).  ``--json`` prints
``reglab.doctor.Report.to_dict()``: ``weights`` (``name``, ``shape``, ``regularizer``,
``penalty``, ...) and ``findings`` (``code``, ``message``, ...).
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, TextIO

from reglab.doctor.diagnose import diagnose
from reglab.params import Boolean, InstanceOf, PathLike, validated

#: how the command names itself in its one-line errors
PROG = "reglab doctor"

_STREAM = InstanceOf("io:TextIOBase", example=io.StringIO)


class RefusedFileError(Exception):
    """The file cannot be read safely; the message is the one line to print (``path: why``)."""


def _check_archive(path: Path) -> None:
    """Raise ``RefusedFileError`` unless ``path`` is a readable Keras archive (no TensorFlow needed)."""
    if not path.exists():
        raise RefusedFileError(f"{path}: no such file")
    if path.is_dir():
        raise RefusedFileError(f"{path}: is a directory, not a .keras file")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            starts_like_zip = handle.read(4) == b"PK\x03\x04"
        if starts_like_zip:
            raise RefusedFileError(f"{path}: damaged or truncated archive (no zip directory at its end)")
        raise RefusedFileError(f"{path}: not a Keras archive (not a zip file)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise RefusedFileError(f"{path}: not a Keras archive (no config.json inside)")
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise RefusedFileError(f"{path}: damaged or truncated archive ({err})") from None
    if damaged is not None:
        raise RefusedFileError(f"{path}: damaged or truncated archive ({damaged} fails its CRC check)")


@validated(path=PathLike())
def load_safely(path: str | os.PathLike[str]) -> Any:
    """``keras.saving.load_model(path, safe_mode=True)``; ``RefusedFileError`` (one line) on failure.

    The archive is looked at first, without TensorFlow; then the model is loaded compiled (for
    the optimizer's weight decay) or, if that fails, without its optimizer.
    """
    _check_archive(path)
    from reglab.session import quiet_logs

    quiet_logs()
    import keras

    last: Exception | None = None
    for compile_ in (True, False):
        try:
            with warnings.catch_warnings():  # e.g. "Skipping variable loading for optimizer"
                warnings.simplefilter("ignore")
                return keras.saving.load_model(path, safe_mode=True, compile=compile_)
        except Exception as err:  # noqa: BLE001 - every failure becomes one line
            last = err
            if "unsafe" in str(err).lower() or "safe_mode" in str(err):
                break
    text = " ".join(str(last).split())
    if "safe_mode" in text or "unsafe" in text.lower():
        raise RefusedFileError(f"{path}: needs unsafe deserialization (it stores code, e.g. a Lambda "
                               "layer); the doctor runs no code from a file")
    raise RefusedFileError(f"{path}: cannot be loaded ({type(last).__name__}: {text[:200]})")


@validated(path=PathLike(), as_json=Boolean(), out=_STREAM, err=_STREAM)
def run(path: str | os.PathLike[str], *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """The doctor on the saved model at ``path``: the report on ``out`` (JSON with ``as_json``).

    Returns the exit status: 0 when the report is printed (whatever it finds), 2 when the file
    is refused, with one line ``reglab doctor: error: PATH: why`` on ``err`` and nothing on
    ``out``.
    """
    try:
        model = load_safely(path)
    except RefusedFileError as refusal:
        print(f"{PROG}: error: {refusal}", file=err)
        return 2
    report = diagnose(model)
    print(report.to_json() if as_json else str(report), file=out)
    return 0
