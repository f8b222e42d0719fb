"""The workbook as a static website, built from the committed, executed notebooks.

``python3 tasks.py book`` (``python -m reglab.book``) runs, offline and without executing a
notebook::

    1. stage    out/source/: a copy of every notebook, in the map's order, with what only the
                book needs: 00 (the landing page) lists the chapters in a hidden table of
                contents; the Solutions are folded (a click opens them); a page that quotes the
                thread ends with its attribution; a widget's output (it needs a kernel) becomes
                the static explorer (10) or a note.
    2. sphinx   out/html/: Sphinx + MyST-NB + sphinx-book-theme with ``book/conf.py``, which
                shows the stored outputs (``nb_execution_mode = "off"``), a Binder launch
                button and a download button on every chapter.
    3. sources  out/html/_sources/*.ipynb: the committed notebooks, byte for byte, so that the
                download button gives what the repository holds, not the staged copy.
    4. explorer out/html/explorer/: ``reglab.explorer_static``: every setting of the explorer
                trained ahead by the TensorFlow engine, switched by plain JavaScript.

The staging and the site are written to a temporary folder and renamed into place: a failed
build leaves the previous site as it was.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from reglab._validate import InvalidParameterError
from reglab.workbook import read_notebook, solutions_range, source

__all__ = [
    "PLACEHOLDER_REPOSITORY", "THREAD_URL", "Book", "build_book", "chapters", "jupyterlab_anchor", "main",
    "repository_url", "stage",
]

ROOT = Path(__file__).resolve().parents[1]
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


def chapters(notebooks: str | Path) -> list[Path]:
    """The notebooks ``NN_topic.ipynb`` of a folder, in the map's order (their numbers)."""
    if not isinstance(notebooks, (str, Path)):
        raise InvalidParameterError(f"notebooks must be a folder path, got {type(notebooks).__name__}")
    folder = Path(notebooks)
    if not folder.is_dir():
        raise InvalidParameterError(f"notebooks {str(folder)!r} is not a folder")
    found = sorted(p for p in folder.glob("*.ipynb") if _CHAPTER.match(p.name))
    if not found or not found[0].name.startswith("00_"):
        raise InvalidParameterError(f"notebooks {str(folder)!r} has no 00_*.ipynb landing page")
    return found


def jupyterlab_anchor(heading: str) -> str:
    """A heading's anchor as JupyterLab makes it: the text, spaces turned into ``-``.

    The notebooks link their own sections that way (``[...](#Choosing-λ-on-...)``); the book
    gives its headings the same anchors (``myst_heading_slug_func`` in ``book/conf.py``).
    """
    return "-".join(heading.split())


def _markdown(text: str, cell_id: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def _fold_solutions(nb: dict[str, Any]) -> None:
    """Fold every cell of the Solutions section but its heading."""
    for index in list(solutions_range(nb))[1:]:
        cell = nb["cells"][index]
        if cell["cell_type"] == "code":
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if "hide-cell" not in tags:
                tags.append("hide-cell")
        else:
            cell["source"] = ("<details class=\"reglab-solution\">\n<summary>Show the solution's "
                              f"comment</summary>\n\n{source(cell)}\n\n</details>")


def _replace_widgets(nb: dict[str, Any], html: str) -> None:
    """Put ``html`` where a cell's output is a widget (it needs a kernel)."""
    for cell in nb["cells"]:
        outputs = cell.get("outputs", [])
        if any(WIDGET_MIME in out.get("data", {}) for out in outputs):
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/html": html}}]


def stage(notebooks: str | Path, dest: str | Path) -> list[str]:
    """Write the book's copy of every chapter into ``dest``; returns the chapter names.

    See the module's docstring for what changes; the committed notebooks are only read.
    """
    found = chapters(notebooks)
    if not isinstance(dest, (str, Path)):
        raise InvalidParameterError(f"dest must be a folder path, got {type(dest).__name__}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in found]
    for path in found:
        nb = copy.deepcopy(read_notebook(path))
        _fold_solutions(nb)
        text = "".join(source(c) for c in nb["cells"])
        if THREAD_URL in text:
            nb["cells"].append(_markdown(ATTRIBUTION, "book-attribution"))
        _replace_widgets(nb, EXPLORER_FRAME if path.stem.startswith("10_") else WIDGET_NOTE)
        if path.name.startswith("00_"):
            toc = "\n".join(names[1:])
            nb["cells"].append(_markdown(f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```",
                                          "book-toc"))
        (dest / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return names


def repository_url(root: str | Path = ROOT) -> str:
    """The GitHub repository of ``root``'s ``origin`` remote as ``https://github.com/o/r``.

    ``PLACEHOLDER_REPOSITORY`` when there is no such remote.
    """
    try:
        remote = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, text=True,
                                capture_output=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return PLACEHOLDER_REPOSITORY
    match = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
                     remote)
    return f"https://github.com/{match[1]}/{match[2]}" if match else PLACEHOLDER_REPOSITORY


def _check_repository(url: object) -> str:
    if not isinstance(url, str):
        raise InvalidParameterError(f"repository must be a URL string, got {type(url).__name__}")
    if not re.match(r"^https://github\.com/[\w.-]+/[\w.-]+$", url):
        raise InvalidParameterError(
            f"repository must look like https://github.com/OWNER/NAME (Binder builds from "
            f"GitHub), got {url!r}")
    return url


def _sphinx(source_dir: Path, html: Path, conf_dir: Path) -> None:
    """Sphinx in this process (so that a test's network guard covers it); raises on failure."""
    from sphinx.cmd.build import build_main

    status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-c", str(conf_dir),
                         str(source_dir), str(html)])
    if status != 0:
        raise RuntimeError(f"sphinx-build failed with status {status} (its messages are above)")


def build_book(
    out: str | Path = ROOT / "_build",
    *,
    notebooks: str | Path = ROOT / "notebooks",
    repository: str | None = None,
    branch: str = "main",
    explorer: bool = True,
    progress: bool = True,
) -> Book:
    """Build the site into ``out/html`` (see the module's docstring); returns a ``Book``.

    ``repository`` (``https://github.com/OWNER/NAME``) is where the launch buttons point; by
    default ``repository_url()``.  ``explorer=False`` skips the static explorer (its page is
    then missing; for quick looks at the text only).
    """
    started = time.perf_counter()
    if not isinstance(out, (str, Path)):
        raise InvalidParameterError(f"out must be a folder path, got {type(out).__name__}")
    for name, flag in (("explorer", explorer), ("progress", progress)):
        if not isinstance(flag, bool):
            raise InvalidParameterError(f"{name} must be True or False, got {type(flag).__name__}")
    if not isinstance(branch, str) or not re.match(r"^[\w./-]+$", branch):
        raise InvalidParameterError(f"branch must be a git branch name, got {branch!r}")
    repository = _check_repository(repository_url() if repository is None else repository)
    found = chapters(notebooks)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".book-", dir=out))
    try:
        stage(notebooks, work / "source")
        # book/conf.py reads these; restored afterwards
        with mock.patch.dict(os.environ, REGLAB_BOOK_REPOSITORY_URL=repository,
                             REGLAB_BOOK_BRANCH=branch):
            _sphinx(work / "source", work / "html", ROOT / "book")
        (work / "html" / "index.html").write_text(REDIRECT, encoding="utf-8")
        for path in found:
            shutil.copyfile(path, work / "html" / "_sources" / path.name)
        explorer_bytes = 0
        if explorer:
            from reglab.explorer_static import write_static_explorer

            explorer_bytes = write_static_explorer(work / "html" / "explorer",
                                                   progress=progress).bytes_on_disk
        shutil.rmtree(work / "html" / ".doctrees", ignore_errors=True)
        final = out / "html"
        if final.exists():
            shutil.rmtree(final)
        (work / "html").rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    return Book(html=final, seconds=time.perf_counter() - started, bytes_on_disk=size,
                explorer_bytes=explorer_bytes)


def main(argv: list[str] | None = None) -> int:
    """``python -m reglab.book [--out DIR] [--repository URL] [--branch NAME] [--no-explorer]``."""
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py book",
        description="Build the workbook as a static website from the executed notebooks.")
    parser.add_argument("--out", default=str(ROOT / "_build"),
                        help="folder for the build; the site goes to OUT/html (default: _build)")
    parser.add_argument("--repository", default=None,
                        help="https://github.com/OWNER/NAME for the launch buttons "
                             "(default: the origin remote)")
    parser.add_argument("--branch", default="main", help="branch Binder builds (default: main)")
    parser.add_argument("--no-explorer", action="store_true",
                        help="skip the precomputed explorer (faster; its page is then missing)")
    args = parser.parse_args(argv)
    repository = repository_url() if args.repository is None else args.repository
    try:
        book = build_book(args.out, repository=repository, branch=args.branch,
                          explorer=not args.no_explorer)
    except InvalidParameterError as err:
        parser.error(str(err))
    if repository == PLACEHOLDER_REPOSITORY:
        print(f"note: no GitHub 'origin' remote; launch buttons point to {PLACEHOLDER_REPOSITORY}"
              " (give --repository)", file=sys.stderr)
    print(f"built {book.html} in {book.seconds:.0f} s: {book.bytes_on_disk / 2**20:.1f} MiB, "
          f"of which the explorer {book.explorer_bytes / 2**20:.1f} MiB")
    print(f"open {book.html / 'index.html'} in a browser, "
          f"or serve it: python3 -m http.server -d {book.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
