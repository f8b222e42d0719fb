"""``reglab doctor MODEL.keras [--json]``: the regularization doctor on a saved Keras model.

The command line's parser is ``reglab.cli``'s; it calls ``run``.  The model is loaded with
Keras' safe mode (``keras.saving.load_model(path, safe_mode=True)``): no code stored in the file
runs.  What cannot be read that way is refused with exit status 2 and one line naming the
problem.  Before TensorFlow is imported, in bounded memory and without reading more than the
zip directory, the doctor refuses:

* a missing path, a directory, and anything that is not a regular file (a device such as
  ``/dev/zero`` or a symbolic link to one, a named pipe, a socket): decided by ``os.stat`` on the
  resolved path, which opens nothing; the file is then opened with ``O_NONBLOCK`` and checked
  again with ``os.fstat``;
* a file over ``MAX_FILE_BYTES``;
* a file that is not a zip archive holding ``config.json``, and a truncated one;
* an archive with more than ``MAX_MEMBERS`` members or a zip directory over
  ``MAX_DIRECTORY_BYTES`` (read from the end record before ``zipfile`` parses the directory);
* an archive whose members declare more than ``MAX_EXPANDED_BYTES`` in total, a
  ``config.json`` over ``MAX_CONFIG_BYTES``, a member over 1 MiB that expands more than
  ``MAX_RATIO`` times its stored size (``file_size / compress_size``), or members that together
  expand more than ``MAX_RATIO`` times (``sum(file_size) / sum(compress_size)``, when the total is
  over 1 MiB: many small members): a zip bomb.  Keras stores its archives uncompressed, ratio 1.
  ``zipfile`` never reads past a member's declared size.

Then Keras loads it, and refuses an archive that needs unsafe deserialization (a ``Lambda``
layer, for example) or names a class it does not know (a custom class, named in the line).
``--json`` prints ``reglab.doctor.Report.to_dict()``: ``weights`` (``name``, ``shape``,
``regularizer``, ``penalty``, ...) and ``findings`` (``code``, ``message``, ...).
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from reglab.doctor.diagnose import diagnose
from reglab.params import Boolean, InstanceOf, PathLike, validated

#: how the command names itself in its one-line errors
PROG = "reglab doctor"
#: the largest file the doctor opens (ResNet50 with its optimizer is about 300 MB)
MAX_FILE_BYTES = 1 << 30
#: the largest total that an archive's members may declare, uncompressed
MAX_EXPANDED_BYTES = 2 << 30
#: the largest ``config.json`` (ResNet50's is about 0.1 MB); Keras reads it whole
MAX_CONFIG_BYTES = 64 << 20
#: the largest expansion ``file_size / compress_size`` of a member over 1 MiB, and of all members
#: together when they declare over 1 MiB
MAX_RATIO = 100
_RATIO_FLOOR = 1 << 20
#: the most members an archive may have (Keras writes three: config, metadata, weights; and assets)
MAX_MEMBERS = 1000
#: the largest zip directory (``zipfile`` reads it whole and makes an object per member)
MAX_DIRECTORY_BYTES = 4 << 20
_END_RECORD = struct.Struct("<4s4H2LH")

_UNKNOWN = ("unknown custom {}: Keras cannot rebuild it without its code; load the model in Python "
            "with the class imported and call reglab.doctor.diagnose(model)")
_STREAM = InstanceOf("io:TextIOBase", example=io.StringIO)
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


class RefusedFileError(Exception):
    """The file cannot be read safely; the message is the one line to print (``path: why``)."""


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def _regular(path: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise RefusedFileError(f"{path}: is a directory, not a .keras file")
    if not stat.S_ISREG(st.st_mode):
        what = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise RefusedFileError(f"{path}: is {what}, not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise RefusedFileError(f"{path}: {_mib(st.st_size)} is over the doctor's limit of "
                               f"{_mib(MAX_FILE_BYTES)}")


def _open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of sane size, without blocking."""
    try:
        _regular(path, os.stat(path))  # follows symbolic links; opens nothing
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RefusedFileError(f"{path}: no such file") from None
    except OSError as err:
        raise RefusedFileError(f"{path}: cannot be read ({err.strerror})") from None
    handle = os.fdopen(fd, "rb")
    try:
        _regular(path, os.fstat(fd))  # the file opened is the file checked
    except RefusedFileError:
        handle.close()
        raise
    return handle


def _check_directory(path: Path, handle: BinaryIO) -> None:
    """Refuse an archive whose end record declares too many members or too large a directory,
    before ``zipfile`` reads the directory (its end record is in the file's last 64 KiB)."""
    size = handle.seek(0, os.SEEK_END)
    tail = min(size, _END_RECORD.size + 0xFFFF)
    handle.seek(size - tail)
    data = handle.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(data):
        return  # is_zipfile decides
    _, _, _, _, members, directory, _, _ = _END_RECORD.unpack_from(data, at)
    if members > MAX_MEMBERS:
        raise RefusedFileError(f"{path}: {members:,} members, over the limit of {MAX_MEMBERS:,} "
                               "(a zip bomb?)")
    if directory > MAX_DIRECTORY_BYTES:
        raise RefusedFileError(f"{path}: a zip directory of {_mib(directory)}, over the limit of "
                               f"{_mib(MAX_DIRECTORY_BYTES)} (a zip bomb?)")


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if "config.json" not in {i.filename for i in infos}:
        raise RefusedFileError(f"{path}: not a Keras archive (no config.json inside)")
    total = sum(i.file_size for i in infos)
    if total > MAX_EXPANDED_BYTES:
        raise RefusedFileError(f"{path}: its members declare {_mib(total)} uncompressed, over the "
                               f"limit of {_mib(MAX_EXPANDED_BYTES)} (a zip bomb?)")
    for info in infos:
        if info.filename == "config.json" and info.file_size > MAX_CONFIG_BYTES:
            raise RefusedFileError(f"{path}: config.json declares {_mib(info.file_size)}, over the limit "
                                   f"of {_mib(MAX_CONFIG_BYTES)} (a zip bomb?)")
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise RefusedFileError(f"{path}: {info.filename} expands {ratio:,.0f} times "
                                   f"(limit {MAX_RATIO}; a zip bomb?)")
    if len(infos) > MAX_MEMBERS:
        raise RefusedFileError(f"{path}: {len(infos):,} members, over the limit of {MAX_MEMBERS:,} "
                               "(a zip bomb?)")
    stored = sum(i.compress_size for i in infos)
    if total > _RATIO_FLOOR and total > MAX_RATIO * max(stored, 1):
        raise RefusedFileError(f"{path}: its {len(infos):,} members expand {total / max(stored, 1):,.0f} "
                               f"times together ({_mib(total)} from {_mib(stored)}; limit {MAX_RATIO}; "
                               "a zip bomb?)")


def _check_archive(path: Path) -> dict[str, Any]:
    """Raise ``RefusedFileError`` unless ``path`` is a sane Keras archive; return its config.

    No TensorFlow, bounded memory: the zip directory is read, then the members' CRCs are checked
    within the declared (capped) sizes.
    """
    with _open_regular(path) as handle:
        _check_directory(path, handle)
        if not zipfile.is_zipfile(handle):
            handle.seek(0)
            if handle.read(4) == b"PK\x03\x04":
                raise RefusedFileError(f"{path}: damaged or truncated archive (no zip directory at its end)")
            raise RefusedFileError(f"{path}: not a Keras archive (not a zip file)")
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                _check_members(path, archive)
                damaged = archive.testzip()
                config = archive.read("config.json") if damaged is None else b""
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as err:
            raise RefusedFileError(f"{path}: damaged or truncated archive ({err})") from None
    if damaged is not None:
        raise RefusedFileError(f"{path}: damaged or truncated archive ({damaged} fails its CRC check)")
    try:
        return json.loads(config)
    except (ValueError, UnicodeDecodeError):
        raise RefusedFileError(f"{path}: damaged archive (config.json is not JSON)") from None


def _custom_classes(config: Any) -> list[str]:
    """The classes of a Keras config that only the saving program's own code defines.

    Keras writes such a class with ``module: null`` and its ``registered_name`` (``package>Name``,
    from ``@keras.saving.register_keras_serializable``); no module can be imported for it, so a
    fresh process (this command) cannot rebuild it.
    """
    found: list[str] = []
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item and item.get("module") is None and item.get("registered_name"):
                found.append(str(item["registered_name"]))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return list(dict.fromkeys(found))


def _unknown_class(text: str) -> str | None:
    match = re.search(r"Could not (?:locate|deserialize) (class|function) '([^']+)'", text)
    if match:
        return f"{match.group(1)} {match.group(2)!r}"
    return None


@validated(path=PathLike())
def load_safely(path: str | os.PathLike[str]) -> Any:
    """``keras.saving.load_model(path, safe_mode=True)``; ``RefusedFileError`` (one line) on failure.

    The file and the archive are looked at first, without TensorFlow (module docstring); then
    the model is loaded compiled (for the optimizer's weight decay) or, if that fails, without
    its optimizer.
    """
    config = _check_archive(path)
    custom = _custom_classes(config)
    if custom:
        raise RefusedFileError(f"{path}: {_UNKNOWN.format(f'class {custom[0]!r}')}")
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
    unknown = _unknown_class(text)
    if unknown:
        raise RefusedFileError(f"{path}: {_UNKNOWN.format(unknown)}")
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
