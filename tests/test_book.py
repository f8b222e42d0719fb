"""reglab.book (staging the static site) and reglab.explorer_static: behaviour and bad input.

The whole build, in a browser, is tests/browser/test_book_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from reglab import book, explorer_static
from reglab._validate import InvalidParameterError
from reglab.explorer import lambda_grid
from reglab.explorer_view import penalty_in_every_api
from reglab.workbook import solutions_range, source

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


def _nb(dest: Path, stem: str) -> dict:
    return json.loads((dest / f"{stem}.ipynb").read_text(encoding="utf-8"))


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
    (book.chapters, {"notebooks": 3}, "notebooks must be a folder path"),
    (book.chapters, {"notebooks": ROOT / "README.md"}, "is not a folder"),
    (book.chapters, {"notebooks": ROOT / "tests"}, "no 00_"),
    (book.stage, {"notebooks": NOTEBOOKS, "dest": 5}, "dest must be a folder path"),
    (book.build_book, {"out": 1}, "out must be a folder path"),
    (book.build_book, {"repository": "https://example.org/x"}, "repository must look like"),
    (book.build_book, {"repository": 7}, "repository must be a URL string"),
    (book.build_book, {"explorer": "yes", "repository": book.PLACEHOLDER_REPOSITORY},
     "explorer must be True or False"),
    (book.build_book, {"branch": "a b", "repository": book.PLACEHOLDER_REPOSITORY},
     "branch must be a git branch name"),
])
def test_book_bad_arguments(func, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        func(**kwargs)


def test_the_cli_refuses_a_bad_repository_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        book.main(["--repository", "nowhere"])
    assert exit_info.value.code == 2
    assert "repository must look like https://github.com/OWNER/NAME" in capsys.readouterr().err


def test_static_explorer_settings_are_the_widgets():
    from reglab import widgets

    lams = lambda_grid()
    assert lams[0] == pytest.approx(10.0**widgets.LAM_MIN_EXP)
    assert lams[-1] == pytest.approx(10.0**widgets.LAM_MAX_EXP)
    np.testing.assert_allclose(np.diff(np.log10(lams)), widgets.LAM_STEP_EXP)
    every = explorer_static.settings()
    assert len(every) == 2 * (1 + 2 * len(lams)) == 86
    assert ("toy2d", "none", -1) in every and ("digits", "l1", len(lams) - 1) in every
    assert lams[8] == pytest.approx(1e-3)  # the default start, as the widget's


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"folder": 3}, "folder must be a path"),
    ({"folder": ROOT / "README.md"}, "exists and is not a directory"),
    ({"explorer": "x"}, "explorer must be a reglab.explorer.Explorer"),
    ({"start": ("toy2d", "l2", 99)}, "start must be a"),
    ({"dpi": 5}, "dpi must be >= 20"),
    ({"progress": 1}, "progress must be True or False"),
])
def test_static_explorer_bad_arguments(tmp_path, kwargs, match):
    kwargs.setdefault("folder", tmp_path / "explorer")
    with pytest.raises((InvalidParameterError, ValueError, TypeError), match=match):
        explorer_static.write_static_explorer(**kwargs)
    assert not (tmp_path / "explorer").exists()


def test_penalty_in_every_api():
    assert penalty_in_every_api("none", 0.0) == "no penalty (lambda = 0)"
    assert penalty_in_every_api("l2", 0.001) == (
        "penalty = 0.001 * sum(w\u00b2) = keras.regularizers.l2(0.001) = tf_slim.l2_regularizer(0.002)")
    assert "tf_slim.l1_regularizer(0.01)" in penalty_in_every_api("l1", 0.01)
    with pytest.raises(ValueError, match="penalty must be one of"):
        penalty_in_every_api("l3", 0.1)
