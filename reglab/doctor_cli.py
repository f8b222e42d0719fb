"""``doctor MODEL.keras [--json]``: the regularization doctor on a saved Keras model.

The model is loaded with Keras' safe mode (``keras.saving.load_model(path, safe_mode=True)``):
no code stored in the file runs.  What cannot be read that way is refused with exit status 2
and one line naming the problem: a missing path, a directory, a file that is not a Keras
archive (a zip holding ``config.json``), a truncated or damaged archive, and an archive that
needs unsafe deserialization (a ``Lambda`` layer, for example).  ``--json`` prints
``reglab.doctor.Report.to_dict()``: ``weights`` (``name``, ``shape``, ``regularizer``,
``penalty``, ...) and ``findings`` (``code``, ``message``, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import zipfile
from collections.abc import Sequence
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class Refused(Exception):
    """The file cannot be read safely; the message is the one line to print."""


def build_parser(prog: str = "reglab doctor") -> argparse.ArgumentParser:
    """The argument parser of ``doctor``."""
    parser = _Parser(prog=prog, description="Report what is regularized in a saved Keras model, "
                     "by how much, and the pitfalls found.")
    parser.add_argument("model", metavar="MODEL.keras", help="a model saved with model.save('x.keras')")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return parser


def check_archive(path: str) -> None:
    """Raise ``Refused`` unless ``path`` is a readable Keras archive (no TensorFlow needed)."""
    if not os.path.exists(path):
        raise Refused(f"{path}: no such file")
    if os.path.isdir(path):
        raise Refused(f"{path}: is a directory, not a .keras file")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            starts_like_zip = handle.read(4) == b"PK\x03\x04"
        if starts_like_zip:
            raise Refused(f"{path}: damaged or truncated archive (no zip directory at its end)")
        raise Refused(f"{path}: not a Keras archive (not a zip file)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise Refused(f"{path}: not a Keras archive (no config.json inside)")
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise Refused(f"{path}: damaged or truncated archive ({err})") from None
    if damaged is not None:
        raise Refused(f"{path}: damaged or truncated archive ({damaged} fails its CRC check)")


def load_safely(path: str) -> object:
    """``keras.saving.load_model(path, safe_mode=True)``; ``Refused`` with one line on failure."""
    check_archive(path)
    from reglab.repro import quiet_logs

    quiet_logs()
    import keras

    last: Exception | None = None
    for compile_ in (True, False):  # the optimizer's weight decay, if the archive can give it
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
        raise Refused(f"{path}: needs unsafe deserialization (it stores code, e.g. a Lambda layer); "
                      "the doctor runs no code from a file")
    raise Refused(f"{path}: cannot be loaded ({type(last).__name__}: {text[:200]})")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``doctor``; return the exit status (0 done, 2 refused)."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        model = load_safely(args.model)
    except Refused as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    from reglab import doctor

    report = doctor.diagnose(model)
    print(report.to_json() if args.json else str(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
