"""The workbook as a static website, built from the committed, executed notebooks.

``reglab book`` (``build_book``) runs, offline and without executing a notebook::

    1. stage    a copy of every notebook, in the map's order, with what only the book needs:
                00 (the landing page) lists the chapters in a hidden table of contents; the
                Solutions are folded (a click opens them, each button names its exercise); a
                page that quotes the thread ends with its attribution; every figure gets an
                alt text and a link to its full-size image; a widget's output (it needs a
                kernel) becomes the static explorer (10), or a note when the build has none.
    2. sphinx   FOLDER/html: Sphinx + MyST-NB + sphinx-book-theme with ``book/conf.py``, which
                shows the stored outputs (``nb_execution_mode = "off"``), the launch buttons
                (Binder, Colab) and the GitHub button when a repository is known
                (``theme_options``), a download button on every chapter, the book's CSS for
                phones (``book/_static``) and MathJax from the pinned package
                ``sphinx-mathjax-offline`` (``copy_mathjax``): formulas typeset offline.
                The repository and branch are Sphinx overrides (what ``sphinx-build -D`` sets).
    3. sources  FOLDER/html/_sources/*.ipynb: the committed notebooks, byte for byte, so that the
                download button gives what the repository holds, not the staged copy.
    4. explorer FOLDER/html/explorer/: ``reglab.explorer.static``: every setting of the explorer
                trained ahead by the TensorFlow engine, switched by plain JavaScript.

Without a GitHub repository (no ``repository`` given, no GitHub ``origin`` remote) the book is
built without launch and GitHub buttons, and one warning line on standard error says what to
pass; a placeholder repository (``PLACEHOLDER_REPOSITORY``) is refused: no dead link is published.

Size: the site's one module (staging, the theme's buttons, MathJax, the build), over 300 lines
because the staging steps and their HTML snippets belong together.

The site is written to a temporary folder and renamed into place (``reglab.files.staged``): a
failed build leaves the previous site as it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from reglab.classroom.workbook import read_notebook, solutions_range, source, workbook_root
from reglab.files import staged
from reglab.params import Boolean, InvalidParameterError, NoneOr, PathLike, Text, validated

__all__ = [
    "MATHJAX_PATH", "PLACEHOLDER_REPOSITORY", "THREAD_URL", "Book", "build_book", "chapters",
    "copy_mathjax", "jupyterlab_anchor", "mathjax_source", "repository_url", "stage",
    "theme_options",
]

#: The question the workbook is built on (CC BY-SA).
THREAD_URL = "https://stackoverflow.com/questions/37107223"
#: The form of a repository URL, with a placeholder owner: refused, never published.
PLACEHOLDER_REPOSITORY = "https://github.com/OWNER/reglab"
_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)$")
#: The pinned package that carries MathJax 3 (requirements-book.txt), the files of it the book
#: serves (the TeX-to-HTML bundle, its extensions, fonts, menu and accessibility parts) and
#: where the pages load it from (``mathjax_path``, relative to ``_static``).
MATHJAX_DISTRIBUTION = "sphinx-mathjax-offline"
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y")
MATHJAX_PATH = "mathjax/tex-chtml.js"
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
<iframe class="reglab-explorer-frame" src="explorer/index.html" title="the explorer, precomputed"
        loading="lazy"></iframe>
</div>"""

#: Chapter 10 in a book built without the explorer (``explorer=False``): no frame to a missing page.
EXPLORER_MISSING = """<div class="reglab-static-explorer admonition note">
<p class="admonition-title">The explorer is not in this copy of the book</p>
<p>This copy was built without the precomputed explorer (<code>--no-explorer</code>). Run this
notebook in JupyterLab (the launch button above, or <code>python3 tasks.py lab</code>) to use it.</p>
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


_EXERCISE = re.compile(r"\b(Exercise \d+)\b")


def _fold_solutions(nb: nbformat.NotebookNode) -> None:
    """Fold every cell of the Solutions section but its heading; each fold names its exercise.

    A cell's exercise is the first ``Exercise N`` it names (its check's label); a cell that
    names none continues the one before it.
    """
    exercise = None
    for index in list(solutions_range(nb))[1:]:
        cell = nb.cells[index]
        named = _EXERCISE.search(source(cell))
        if named:
            what = f"the solution of {named[1]}"
        else:
            what = f"more of the solution of {exercise}" if exercise else "the solution"
        exercise = named[1] if named else exercise
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if "hide-cell" not in tags:
                tags.append("hide-cell")
            mystnb = cell.metadata.setdefault("mystnb", {})
            mystnb["code_prompt_show"] = f"Show {what}"
            mystnb["code_prompt_hide"] = f"Hide {what}"
        else:
            summary = f"Show the comment on {exercise}" if exercise else "Show the comment"
            cell.source = (f"<details class=\"reglab-solution\">\n<summary>{summary}</summary>"
                           f"\n\n{source(cell)}\n\n</details>")


def _first_comment(code: str) -> str | None:
    """The first ``# comment`` line of a cell, without its ``#`` (None: no such line)."""
    for line in code.splitlines():
        text = line.strip()
        if text.startswith("#") and not text.upper().startswith(("# NBVAL", "#!")):
            return text.lstrip("#").strip() or None
    return None


def _describe_figures(nb: nbformat.NotebookNode, chapter: str) -> None:
    """Give every picture an alt text and a link to its full-size image.

    The alt text is ``Figure N of chapter NN``, then the cell's first comment line (what the
    figure shows, in the cell's own words) when it has one.  ``scale: 100%`` keeps the size and
    makes Sphinx wrap the picture in a link to its file (``html_scaled_image_link``), so that a
    phone can open it full size with a tap.
    """
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not any(
                mime.startswith("image/") for out in cell.get("outputs", [])
                for mime in out.get("data", {})):
            continue
        number += 1
        alt = f"Figure {number} of chapter {chapter}"
        comment = _first_comment(source(cell))
        alt = f"{alt}: {comment}" if comment else alt
        image = cell.metadata.setdefault("mystnb", {}).setdefault("image", {})
        image.setdefault("alt", alt)
        image.setdefault("scale", "100%")


def _replace_widgets(nb: nbformat.NotebookNode, html: str) -> None:
    """Put ``html`` where a cell's output is a widget (it needs a kernel)."""
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        if any(WIDGET_MIME in out.get("data", {}) for out in outputs):
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]


@validated(notebooks=PathLike(), dest=PathLike(), explorer=Boolean())
def stage(notebooks: Path, dest: Path, *, explorer: bool = True) -> list[str]:
    """Write the book's copy of every chapter into ``dest``; returns the chapter names.

    See the module's docstring for what changes; the committed notebooks are only read.
    ``explorer=False``: the book has no precomputed explorer, so 10 gets a note, not its frame.
    """
    found = chapters(notebooks)
    dest.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in found]
    for path in found:
        nb = read_notebook(path)
        _fold_solutions(nb)
        _describe_figures(nb, path.stem[:2])
        if THREAD_URL in "".join(source(c) for c in nb.cells):
            nb.cells.append(nbformat.v4.new_markdown_cell(ATTRIBUTION, id="book-attribution"))
        frame = EXPLORER_FRAME if explorer else EXPLORER_MISSING
        _replace_widgets(nb, frame if path.stem.startswith("10_") else WIDGET_NOTE)
        if path.name.startswith("00_"):
            toc = "\n".join(names[1:])
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```", id="book-toc"))
        nbformat.write(nb, dest / path.name)
    return names


@validated(root=NoneOr(PathLike()))
def repository_url(root: Path | None = None) -> str | None:
    """The GitHub repository of ``root``'s ``origin`` remote as ``https://github.com/o/r``.

    ``root`` defaults to ``workbook_root()``; None when there is no such remote (no ``origin``,
    or one that is not on GitHub).
    """
    try:
        remote = subprocess.run(["git", "remote", "get-url", "origin"],
                                cwd=workbook_root() if root is None else root, text=True,
                                capture_output=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
                     remote)
    return f"https://github.com/{match[1]}/{match[2]}" if match else None


@validated(repository=NoneOr(Text()), branch=Text())
def theme_options(repository: str | None, branch: str = "main") -> dict:
    """sphinx-book-theme's ``html_theme_options`` for a book of ``repository`` (None: unknown).

    With a repository: its GitHub button and, on every chapter, launch buttons to Binder
    (JupyterLab) and Colab, each opening that chapter's notebook on ``branch``.  Without one:
    none of these (they would lead nowhere), only the download and full-screen buttons.
    ``book/conf.py`` calls this once Sphinx has read its overrides.
    """
    options = {
        "path_to_docs": "notebooks",
        "use_download_button": True,
        "use_fullscreen_button": True,
        "show_toc_level": 2,
        "navigation_with_keys": False,
        "use_repository_button": repository is not None,
    }
    if repository is not None:
        options.update({
            "repository_url": repository,
            "repository_branch": branch,
            "launch_buttons": {"binderhub_url": "https://mybinder.org",
                               "colab_url": "https://colab.research.google.com",
                               "notebook_interface": "jupyterlab"},
        })
    return options


def mathjax_source() -> Path:
    """The MathJax folder of the pinned package ``sphinx-mathjax-offline`` (MathJax 3.2.2).

    ``FileNotFoundError`` naming the package when it is not installed (``tasks.py book``
    installs requirements-book.txt).
    """
    from importlib import metadata

    try:
        folder = Path(str(metadata.distribution(MATHJAX_DISTRIBUTION).locate_file(
            "sphinx-mathjax-offline/static/mathjax")))
    except metadata.PackageNotFoundError:
        folder = None
    if folder is None or not (folder / "tex-chtml.js").is_file():
        raise FileNotFoundError(
            f"the book serves MathJax from the package {MATHJAX_DISTRIBUTION}, which is not "
            "installed: pip install -r requirements-book.txt (tasks.py book does)")
    return folder


@validated(html=PathLike())
def copy_mathjax(html: Path) -> int:
    """Copy the parts of MathJax the pages use into ``html/_static/mathjax``; returns the bytes.

    ``book/conf.py`` runs it when Sphinx has finished; ``MATHJAX_PATH`` is where pages load it.
    MathJax's licence (Apache 2.0) is in ``book/_static/mathjax/LICENSE``, copied by Sphinx.
    """
    source_dir, target = mathjax_source(), html / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source_dir / part).is_dir():
            shutil.copytree(source_dir / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_dir / part, target / part)
    return sum(p.stat().st_size for p in target.rglob("*") if p.is_file())


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
    ``repository`` (``https://github.com/OWNER/NAME``) is where the launch (Binder, Colab) and
    GitHub buttons point; by default ``repository_url()``.  When neither knows one, the book is
    built without those buttons and one warning line on standard error says what to pass; a
    placeholder owner (``OWNER``) is refused.  ``branch`` is the branch the launch buttons
    open.  ``explorer=False`` skips the static explorer (chapter 10 then shows a note; for
    quick looks at the text only); ``progress`` shows the explorer's training progress.
    """
    started = time.perf_counter()
    repository = repository_url() if repository is None else repository
    if repository is not None:
        github = _GITHUB.match(repository)
        if not github:
            raise InvalidParameterError(
                f"repository must look like https://github.com/OWNER/NAME (Binder and Colab open "
                f"notebooks from GitHub), got {repository!r}")
        if github[1] == "OWNER":
            raise InvalidParameterError(
                f"repository {repository!r} is a placeholder: give the GitHub account the "
                "workbook is published under, e.g. https://github.com/you/reglab")
    if not re.match(r"^[\w./-]+$", branch):
        raise InvalidParameterError(f"branch must be a git branch name, got {branch!r}")
    root = workbook_root()
    folder = root / "_build" if folder is None else folder
    notebooks = root / "notebooks" if notebooks is None else notebooks
    found = chapters(notebooks)
    overrides = {"html_theme_options.repository_branch": branch}
    if repository is None:
        print("warning: no GitHub repository known (no --repository, and the 'origin' remote is "
              "not on GitHub): the book is built WITHOUT launch (Binder, Colab) and GitHub "
              "buttons; pass --repository https://github.com/OWNER/NAME to have them",
              file=sys.stderr, flush=True)
    else:
        overrides["html_theme_options.repository_url"] = repository
    explorer_bytes = 0
    with (tempfile.TemporaryDirectory(prefix="reglab-book-") as work,
          staged(folder / "html", folder=True) as html):
        stage(notebooks, Path(work) / "source", explorer=explorer)
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
