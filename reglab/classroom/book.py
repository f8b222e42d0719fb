"""The workbook as a static website, built from the committed, executed notebooks.

``reglab book`` (``build_book``) runs, offline and without executing a notebook::

    1. stage    a copy of every notebook, in the map's order, with what only the book needs:
                00 (the landing page) lists the chapters in a hidden table of contents; the
                Solutions are folded (a click opens them); a page that quotes the thread ends
                with its attribution; a widget's output (it needs a kernel) becomes the static
                explorer (10) or a note.
    2. sphinx   FOLDER/html: Sphinx + MyST-NB + sphinx-book-theme with ``book/conf.py``, which
                shows the stored outputs (``nb_execution_mode = "off"``), a Binder launch
                button and a download button on every chapter.  The repository and branch the
                buttons point to are Sphinx overrides (what ``sphinx-build -D`` sets).
    3. sources  FOLDER/html/_sources/*.ipynb: the committed notebooks, byte for byte, so that the
                download button gives what the repository holds, not the staged copy.
    4. explorer FOLDER/html/explorer/: ``reglab.explorer.static``: every setting of the explorer
                trained ahead by the TensorFlow engine, switched by plain JavaScript.

The site is written to a temporary folder and renamed into place (``reglab.files.staged``): a
failed build leaves the previous site as it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from reglab.classroom.workbook import read_notebook, solutions_range, source, workbook_root
from reglab.files import staged
from reglab.params import Boolean, InvalidParameterError, NoneOr, PathLike, Text, validated

__all__ = [
    "PLACEHOLDER_REPOSITORY", "THREAD_URL", "Book", "build_book", "chapters", "jupyterlab_anchor",
    "repository_url", "stage",
]

#: The question the workbook is built on (CC BY-SA).
THREAD_URL = "https://stackoverflow.com/questions/37107223"
#: Where the launch buttons point when the repository is unknown (as the README's Binder badge).
PLACEHOLDER_REPOSITORY = "https://github.com/OWNER/reglab"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_CHAPTER = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")

ATTRIBUTION = f"""```{{admonition}} Attribution
:class: note
The snippets and sentences quoted on this page come from the question
[*How to add regularizations in TensorFlow?*]({THREAD_URL}) and its answers on Stack Overflow,
by their authors, under CC BY-SA 3.0 (posts before May 2018) or CC BY-SA 4.0; each quote names
its answer. The rest of the page is the workbook's own (MIT).
```"""

EXPLORER_FRAME = """<div class="reglab-static-explorer">
<p><em>In the book, the explorer runs without a kernel: every setting below was trained ahead
by the same TensorFlow engine. <a href="explorer/index.html">Open it on its own page</a>.</em></p>
<iframe src="explorer/index.html" title="the explorer, precomputed" loading="lazy"
        style="width: 100%; height: 26em; border: 1px solid #ccc;"></iframe>
</div>"""

REDIRECT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>reglab</title>
<meta http-equiv="refresh" content="0; url=00_start_here.html"></head>
<body><p><a href="00_start_here.html">reglab: start here</a></p></body></html>
"""

WIDGET_NOTE = ("<p><em>An interactive widget is shown here when the notebook runs in JupyterLab "
               "(use the launch button above).</em></p>")


@dataclass(frozen=True)
class Book:
    """A built site: where it is, how long the build took and its size."""

    html: Path
    seconds: float
    bytes_on_disk: int
    explorer_bytes: int


@validated(notebooks=PathLike())
def chapters(notebooks: Path) -> list[Path]:
    """The notebooks ``NN_topic.ipynb`` of a folder, in the map's order (their numbers)."""
    if not notebooks.is_dir():
        raise InvalidParameterError(f"notebooks {str(notebooks)!r} is not a folder")
    found = sorted(p for p in notebooks.glob("*.ipynb") if _CHAPTER.match(p.name))
    if not found or not found[0].name.startswith("00_"):
        raise InvalidParameterError(f"notebooks {str(notebooks)!r} has no 00_*.ipynb landing page")
    return found


@validated(heading=Text(empty=True))
def jupyterlab_anchor(heading: str) -> str:
    """A heading's anchor as JupyterLab makes it: the text, spaces turned into ``-``.

    The notebooks link their own sections that way (``[...](#Choosing-λ-on-...)``); the book
    gives its headings the same anchors (``myst_heading_slug_func`` in ``book/conf.py``).
    """
    return "-".join(heading.split())


def _fold_solutions(nb: nbformat.NotebookNode) -> None:
    """Fold every cell of the Solutions section but its heading."""
    for index in list(solutions_range(nb))[1:]:
        cell = nb.cells[index]
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if "hide-cell" not in tags:
                tags.append("hide-cell")
        else:
            cell.source = ("<details class=\"reglab-solution\">\n<summary>Show the solution's "
                           f"comment</summary>\n\n{source(cell)}\n\n</details>")


def _replace_widgets(nb: nbformat.NotebookNode, html: str) -> None:
    """Put ``html`` where a cell's output is a widget (it needs a kernel)."""
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        if any(WIDGET_MIME in out.get("data", {}) for out in outputs):
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]


@validated(notebooks=PathLike(), dest=PathLike())
def stage(notebooks: Path, dest: Path) -> list[str]:
    """Write the book's copy of every chapter into ``dest``; returns the chapter names.

    See the module's docstring for what changes; the committed notebooks are only read.
    """
    found = chapters(notebooks)
    dest.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in found]
    for path in found:
        nb = read_notebook(path)
        _fold_solutions(nb)
        if THREAD_URL in "".join(source(c) for c in nb.cells):
            nb.cells.append(nbformat.v4.new_markdown_cell(ATTRIBUTION, id="book-attribution"))
        _replace_widgets(nb, EXPLORER_FRAME if path.stem.startswith("10_") else WIDGET_NOTE)
        if path.name.startswith("00_"):
            toc = "\n".join(names[1:])
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```", id="book-toc"))
        nbformat.write(nb, dest / path.name)
    return names


@validated(root=NoneOr(PathLike()))
def repository_url(root: Path | None = None) -> str:
    """The GitHub repository of ``root``'s ``origin`` remote as ``https://github.com/o/r``.

    ``root`` defaults to ``workbook_root()``; ``PLACEHOLDER_REPOSITORY`` when there is no such
    remote.
    """
    try:
        remote = subprocess.run(["git", "remote", "get-url", "origin"],
                                cwd=workbook_root() if root is None else root, text=True,
                                capture_output=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return PLACEHOLDER_REPOSITORY
    match = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
                     remote)
    return f"https://github.com/{match[1]}/{match[2]}" if match else PLACEHOLDER_REPOSITORY


def _sphinx(source_dir: Path, html: Path, conf_dir: Path, overrides: dict[str, str]) -> None:
    """Sphinx in this process (so that a test's network guard covers it); raises on failure.

    ``overrides`` are configuration values set as ``sphinx-build -D name=value`` sets them
    (``html_theme_options.repository_url`` sets one key of that dict).
    """
    from sphinx.cmd.build import build_main

    defines = [arg for name, value in overrides.items() for arg in ("-D", f"{name}={value}")]
    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-c", str(conf_dir),
                         "-d", str(source_dir.parent / "doctrees"), *defines,
                         str(source_dir), str(html)])
    if status != 0:
        raise RuntimeError(f"sphinx-build failed with status {status} (its messages are above)")


@validated(folder=NoneOr(PathLike()), notebooks=NoneOr(PathLike()), repository=NoneOr(Text()),
           branch=Text(), explorer=Boolean(), progress=Boolean())
def build_book(
    folder: Path | None = None,
    *,
    notebooks: Path | None = None,
    repository: str | None = None,
    branch: str = "main",
    explorer: bool = True,
    progress: bool = True,
) -> Book:
    """Build the site into ``folder/html`` (see the module's docstring); returns a ``Book``.

    ``folder`` defaults to the workbook's ``_build``, ``notebooks`` to its ``notebooks/``
    (``workbook_root()``); the Sphinx configuration is the workbook's ``book/conf.py``.
    ``repository`` (``https://github.com/OWNER/NAME``) is where the launch buttons point; by
    default ``repository_url()``.  ``branch`` is the branch Binder builds.  ``explorer=False``
    skips the static explorer (its page is then missing; for quick looks at the text only);
    ``progress`` shows the explorer's training progress.
    """
    started = time.perf_counter()
    repository = repository_url() if repository is None else repository
    if not re.match(r"^https://github\.com/[\w.-]+/[\w.-]+$", repository):
        raise InvalidParameterError(
            f"repository must look like https://github.com/OWNER/NAME (Binder builds from "
            f"GitHub), got {repository!r}")
    if not re.match(r"^[\w./-]+$", branch):
        raise InvalidParameterError(f"branch must be a git branch name, got {branch!r}")
    root = workbook_root()
    folder = root / "_build" if folder is None else folder
    notebooks = root / "notebooks" if notebooks is None else notebooks
    found = chapters(notebooks)
    overrides = {"html_theme_options.repository_url": repository,
                 "html_theme_options.repository_branch": branch}
    explorer_bytes = 0
    with (tempfile.TemporaryDirectory(prefix="reglab-book-") as work,
          staged(folder / "html", folder=True) as html):
        stage(notebooks, Path(work) / "source")
        _sphinx(Path(work) / "source", html, root / "book", overrides)
        (html / "index.html").write_text(REDIRECT, encoding="utf-8")
        for path in found:
            shutil.copyfile(path, html / "_sources" / path.name)
        if explorer:
            from reglab.explorer.static import write_static_explorer

            explorer_bytes = write_static_explorer(html / "explorer", progress=progress).bytes_on_disk
    final = folder / "html"
    size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    return Book(html=final, seconds=time.perf_counter() - started, bytes_on_disk=size,
                explorer_bytes=explorer_bytes)
