"""Writing a file or folder so that a failure leaves nothing half-written.

``staged(target)`` hands out a temporary path beside ``target`` (same folder, so the final rename
stays on one file system); when the ``with`` block ends without an error, the staged file or
folder replaces ``target`` in one rename (a folder that existed is moved aside first, then
deleted); on an error the staged path is removed and ``target`` is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def staged(target: Path, *, folder: bool) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target``; on success it replaces ``target``.

    ``folder=True`` stages a folder (created empty), ``folder=False`` a file (not created).
    Internal plumbing: callers pass a ``Path`` they have validated.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    path = scratch / target.name
    if folder:
        path.mkdir()
    try:
        yield path
        if folder and target.is_dir():
            aside = scratch / ".previous"
            target.rename(aside)
            path.rename(target)
        else:
            os.replace(path, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
