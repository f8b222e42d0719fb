"""The class and book tools: what an instructor and a contributor run on the workbook.

* ``workbook``: a notebook's structure (exercises, Solutions, ``## Next``), reading notebooks,
  finding the workbook folder;
* ``grading``: run a student's notebook in a fresh kernel and say which exercises are right;
* ``edition``: the student edition (Solutions removed, exercises reset);
* ``scaffold``: a new notebook from the template, on every map;
* ``book``: the static website (Sphinx, MyST-NB) with the precomputed explorer;
* ``commands``: ``check``, ``student_edition``, ``new``, ``book`` as ``reglab.cli`` calls them;
* ``key``: the answer key, declared in the Solutions; ``variants``: each student's variant of an
  exercise; ``bugs``: find-the-bug exercises graded by the doctor.

This layer imports the lesson plumbing (``reglab.checks``, ``reglab.params``, ``reglab.files``)
and, for the book, ``reglab.explorer``; nothing below imports it.  Submodules load on first
use: ``reglab.classroom.key.declare(...)`` works after ``import reglab``.
"""

import importlib
from types import ModuleType

_SUBMODULES = {"book", "bugs", "commands", "edition", "grading", "key", "scaffold", "variants", "workbook"}


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"reglab.classroom.{name}")
    raise AttributeError(f"module 'reglab.classroom' has no attribute {name!r}")
