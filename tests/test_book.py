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
    ("https://gitlab.com/someone/reglab.git", None),
    (None, None),
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
    (book.build_book, {"repository": book.PLACEHOLDER_REPOSITORY}, "is a placeholder"),
    (book.build_book, {"branch": "a b", "repository": "https://github.com/someone/reglab"},
     "branch must be a git branch name"),
])
def test_book_refuses_what_its_declarations_cannot_tell(func, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        func(**kwargs)


def _tiny_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for stem, title in (("00_start_here", "Start here"), ("01_first", "First steps")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nA page of the book: $\\lambda w^2$.")]
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
    assert ("colab.research.google.com/github/someone/reglab-fork/blob/class-2026/notebooks/"
            "01_first.ipynb") in page
    assert "github.com/someone/reglab-fork" in page
    assert 'src="_static/mathjax/tex-chtml.js"' in page and "cdn.jsdelivr" not in page
    assert (built.html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (built.html / "_static" / "mathjax" / "LICENSE").is_file()
    assert "_static/reglab.css" in page
    assert (built.html / "_sources" / "01_first.ipynb").read_bytes() == (
        notebooks / "01_first.ipynb").read_bytes()
    site = {p.relative_to(built.html): p.read_bytes() for p in built.html.rglob("*") if p.is_file()}

    (notebooks / "02_broken.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="not a readable notebook"):
        book.build_book(tmp_path / "site", notebooks=notebooks, explorer=False, progress=False,
                        repository="https://github.com/someone/reglab-fork")
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


@pytest.mark.slow
def test_a_book_without_a_repository_has_no_launch_buttons_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(book, "repository_url", lambda root=None: None)  # whatever the clone's origin
    notebooks = _tiny_notebooks(tmp_path / "notebooks")
    built = book.build_book(tmp_path / "site", notebooks=notebooks, explorer=False, progress=False)
    page = (built.html / "01_first.html").read_text(encoding="utf-8")
    for dead in ("mybinder.org", "colab.research.google.com", "github.com", "OWNER"):
        assert dead not in page, dead
    assert "_sources/01_first.ipynb" in page  # the download stays
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "--repository https://github.com/" in warning[0], warning


def test_theme_options_have_buttons_only_with_a_repository():
    none = book.theme_options(None, "main")
    assert "repository_url" not in none and "launch_buttons" not in none
    assert none["use_repository_button"] is False and none["use_download_button"] is True
    some = book.theme_options("https://github.com/someone/reglab", "class-2026")
    assert some["repository_url"] == "https://github.com/someone/reglab"
    assert some["repository_branch"] == "class-2026" and some["use_repository_button"] is True
    assert some["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert some["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_each_solution_fold_names_its_exercise(staged):
    dest, names = staged
    stem = next(n for n in names if n.startswith("05_"))
    nb = _nb(dest, stem)
    prompts = [c["metadata"]["mystnb"]["code_prompt_show"] for i, c in enumerate(nb["cells"])
               if i in solutions_range(nb) and c["cell_type"] == "code"]
    assert len(prompts) >= 3 and len(set(prompts)) == len(prompts), prompts
    assert all(p.startswith("Show the solution of Exercise ") for p in prompts), prompts
    for stem in names:
        nb = _nb(dest, stem)
        for i in list(solutions_range(nb))[1:]:
            cell = nb["cells"][i]
            if cell["cell_type"] == "code":
                shown = cell["metadata"]["mystnb"]["code_prompt_show"]
                hidden = cell["metadata"]["mystnb"]["code_prompt_hide"]
                assert shown.startswith("Show ") and hidden == "Hide " + shown.removeprefix("Show ")


def test_every_figure_has_an_alt_text_and_links_full_size(staged):
    dest, names = staged
    figures = 0
    for stem in names:
        for cell in _nb(dest, stem)["cells"]:
            if any(m.startswith("image/") for o in cell.get("outputs", []) for m in o.get("data", {})):
                image = cell["metadata"]["mystnb"]["image"]
                assert image["alt"].startswith("Figure ") and f"of chapter {stem[:2]}" in image["alt"]
                assert image["scale"] == "100%"  # Sphinx then links it to its file
                figures += 1
    assert figures >= 10


def test_without_the_explorer_chapter_10_shows_a_note_not_a_dead_frame(tmp_path):
    names = book.stage(NOTEBOOKS, tmp_path, explorer=False)
    stem = next(n for n in names if n.startswith("10_"))
    html = " ".join(o.get("data", {}).get("text/html", "") for c in _nb(tmp_path, stem)["cells"]
                    for o in c.get("outputs", []))
    assert "explorer/index.html" not in html and "--no-explorer" in html


def test_mathjax_is_copied_from_its_pinned_package(tmp_path):
    try:
        book.mathjax_source()
    except FileNotFoundError:
        pytest.skip("the book's tools (requirements-book.txt) are not installed")
    pins = (ROOT / "requirements-book.txt").read_text(encoding="utf-8")
    assert f"{book.MATHJAX_DISTRIBUTION}==" in pins
    size = book.copy_mathjax(tmp_path)
    served = tmp_path / "_static" / "mathjax"
    assert (served / "tex-chtml.js").is_file() and book.MATHJAX_PATH == "mathjax/tex-chtml.js"
    assert any((served / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert 1 << 20 < size < 8 << 20  # the parts the pages use, not the package's 24 MB
    assert (ROOT / "book" / "_static" / "mathjax" / "LICENSE").read_text().count("Apache License") >= 1


def test_the_explorer_page_finds_the_four_panels_of_a_picture():
    import io

    from PIL import Image, ImageDraw

    from reglab.explorer import static

    image = Image.new("RGB", (400, 100), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((50, 2, 350, 8), fill="black")  # a title line over the panels
    for left in (10, 110, 210, 310):
        draw.rectangle((left, 20, left + 80, 95), fill="navy")
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    top, cuts = static.panel_cuts(buffer.getvalue())
    assert top == 9
    assert [[round(a * 400), round(b * 400)] for a, b in cuts] == [[0, 100], [100, 200], [200, 300],
                                                                    [300, 400]]
    blank = io.BytesIO()
    Image.new("RGB", (50, 20), "white").save(blank, format="png")
    assert static.panel_cuts(blank.getvalue()) is None
