"""reglab.classroom.book (staging and building the static site) and reglab.explorer.static.

A two-page book is built here; the whole book, in a browser, is tests/browser/test_book_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest

from reglab.classroom import book
from reglab.classroom.workbook import solutions_range, source
from reglab.params import InvalidParameterError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS.glob("*.ipynb")}
    dest = tmp_path_factory.mktemp("source")
    names = book.stage(NOTEBOOKS, dest)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS.glob("*.ipynb")}
    assert after == before, "staging changed a committed notebook"
    return dest, names


def _nb(dest: Path, stem: str) -> nbformat.NotebookNode:
    return nbformat.read(dest / f"{stem}.ipynb", as_version=4)


def test_chapters_are_in_the_maps_order():
    names = [p.stem for p in book.chapters(NOTEBOOKS)]
    assert names[0] == "00_start_here" and len(names) >= 13
    assert [int(n[:2]) for n in names] == list(range(len(names)))


def test_the_landing_page_lists_every_chapter(staged):
    dest, names = staged
    toc = source(_nb(dest, "00_start_here")["cells"][-1])
    assert toc.startswith("```{toctree}") and ":hidden:" in toc
    assert toc.split("\n\n", 1)[1].removesuffix("\n```").split("\n") == names[1:]


def test_solutions_are_folded_not_deleted(staged):
    dest, names = staged
    for stem in names:
        original = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
        nb = _nb(dest, stem)
        section = list(solutions_range(nb))
        assert section == list(solutions_range(original)), f"{stem}: the Solutions moved"
        for index in section[1:]:
            cell = nb["cells"][index]
            if cell["cell_type"] == "code":
                assert "hide-cell" in cell["metadata"]["tags"], f"{stem} cell {index} not folded"
                assert source(cell) == source(original["cells"][index])
            else:
                assert source(cell).startswith('<details class="reglab-solution">'), stem
                assert source(original["cells"][index]) in source(cell)


def test_pages_that_quote_the_thread_carry_its_attribution(staged):
    dest, names = staged
    quoting = 0
    for stem in names:
        cells = _nb(dest, stem)["cells"]
        original = (NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8")
        attributed = any("CC BY-SA" in source(c) and c.get("id") == "book-attribution" for c in cells)
        assert attributed == (book.THREAD_URL in original), stem
        quoting += attributed
    assert quoting >= 10


def test_the_explorer_widget_becomes_the_static_explorer(staged):
    dest, names = staged
    stem = next(n for n in names if n.startswith("10_"))
    outputs = [o for c in _nb(dest, stem)["cells"] for o in c.get("outputs", [])]
    assert not any(book.WIDGET_MIME in o.get("data", {}) for o in outputs)
    frames = [o for o in outputs if 'src="explorer/index.html"' in o.get("data", {}).get("text/html", "")]
    assert len(frames) == 1


def test_jupyterlab_anchor():
    assert book.jupyterlab_anchor("Choosing λ on validation data, testing once") == (
        "Choosing-λ-on-validation-data,-testing-once")


@pytest.mark.parametrize(("remote", "expected"), [
    ("https://github.com/someone/reglab.git", "https://github.com/someone/reglab"),
    ("git@github.com:someone/reg-lab.git", "https://github.com/someone/reg-lab"),
    ("https://gitlab.com/someone/reglab.git", book.PLACEHOLDER_REPOSITORY),
    (None, book.PLACEHOLDER_REPOSITORY),
])
def test_repository_url_from_the_origin_remote(tmp_path, remote, expected):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", remote], check=True)
    assert book.repository_url(tmp_path) == expected


@pytest.mark.parametrize(("func", "kwargs", "match"), [
    (book.chapters, {"notebooks": ROOT / "README.md"}, "is not a folder"),
    (book.chapters, {"notebooks": ROOT / "tests"}, "no 00_"),
    (book.build_book, {"repository": "https://example.org/x"}, "repository must look like"),
    (book.build_book, {"branch": "a b", "repository": book.PLACEHOLDER_REPOSITORY},
     "branch must be a git branch name"),
])
def test_book_refuses_what_its_declarations_cannot_tell(func, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        func(**kwargs)


def _tiny_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for stem, title in (("00_start_here", "Start here"), ("01_first", "First steps")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nA page of the book.")]
        nbformat.write(nb, folder / f"{stem}.ipynb")
    return folder


@pytest.mark.slow
def test_a_book_points_its_buttons_where_asked_and_a_failed_build_keeps_the_last(tmp_path):
    notebooks = _tiny_notebooks(tmp_path / "notebooks")
    built = book.build_book(tmp_path / "site", notebooks=notebooks, explorer=False, progress=False,
                            repository="https://github.com/someone/reglab-fork", branch="class-2026")
    assert built.html == tmp_path / "site" / "html" and built.explorer_bytes == 0
    page = (built.html / "01_first.html").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/someone/reglab-fork/class-2026" in page
    assert "github.com/someone/reglab-fork" in page
    assert (built.html / "_sources" / "01_first.ipynb").read_bytes() == (
        notebooks / "01_first.ipynb").read_bytes()
    site = {p.relative_to(built.html): p.read_bytes() for p in built.html.rglob("*") if p.is_file()}

    (notebooks / "02_broken.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="not a readable notebook"):
        book.build_book(tmp_path / "site", notebooks=notebooks, explorer=False, progress=False,
                        repository=book.PLACEHOLDER_REPOSITORY)
    assert {p.relative_to(built.html): p.read_bytes() for p in built.html.rglob("*")
            if p.is_file()} == site
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["html"]  # no staging left


def test_the_books_explorer_page_has_every_setting_of_the_widgets():
    from reglab.explorer import lambda_grid, static, widgets

    lams = lambda_grid()
    assert lams[0] == pytest.approx(10.0**widgets.LAM_MIN_EXP)
    assert lams[-1] == pytest.approx(10.0**widgets.LAM_MAX_EXP)
    np.testing.assert_allclose(np.diff(np.log10(lams)), widgets.LAM_STEP_EXP)
    every = static.settings()
    assert len(every) == 2 * (1 + 2 * len(lams)) == 86
    assert ("toy2d", "none", -1) in every and ("digits", "l1", len(lams) - 1) in every
    assert lams[8] == pytest.approx(1e-3)  # the default start, as the widget's
