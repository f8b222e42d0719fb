"""The static book in a real browser: built here, served on loopback, opened in Chromium.

Builds the whole site with ``reglab.classroom.book.build_book`` in this process (so the network guard of
``conftest.py`` covers the build: it must fetch nothing), checks every internal link of every
page from the files, then serves the site on 127.0.0.1 and, in headless Chromium, opens the
landing page and two chapters (no broken image, no failed request to the site, a solution
that unfolds on a click, the launch and download buttons), and the static explorer, whose
picture must change when the lambda slider moves and when L1 is chosen.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html.parser
import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS, playwright_api

ROOT = Path(__file__).resolve().parents[2]
#: Not the placeholder, so that the launch buttons show the Sphinx overrides took effect.
REPOSITORY, BRANCH = "https://github.com/someone/reglab-fork", "class-2026"
CHAPTERS = ("03_tf_layers.html", "08_lambda_sweep.html")
LOAD_MS = 60_000

_IMAGES_OK = """() => Array.from(document.images).map(i => [i.currentSrc || i.src,
    i.complete && i.naturalWidth > 0])"""


class _Links(html.parser.HTMLParser):
    """Collects the ids of a page and the addresses it points to (href, src)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if values.get(name) and not (tag == "link" and values.get("rel") == "preconnect"):
                self.targets.append(values[name])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    playwright_api()  # skip (or fail in CI) before a long build when there is no browser
    from reglab.classroom.book import build_book

    book = build_book(tmp_path_factory.mktemp("book"), repository=REPOSITORY, branch=BRANCH,
                      progress=False)
    print(f"\nbook built in {book.seconds:.0f} s: {book.bytes_on_disk / 2**20:.1f} MiB on disk, "
          f"the explorer {book.explorer_bytes / 2**20:.1f} MiB")
    return book.html


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_internal_link_resolves(site: Path) -> None:
    # the pages; _static holds the theme's template fragments, not pages
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    parsed = {page: _parse(page) for page in pages}
    broken = []
    for page, links in parsed.items():
        for target in links.targets:
            url = urllib.parse.urlsplit(target)
            if url.scheme or target.startswith("//"):
                continue  # external (Binder, GitHub, Stack Overflow): not the site's to resolve
            path = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{page.relative_to(site)}: {target} (no such file)")
            elif url.fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else _parse(path).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {target} (no such anchor)")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    landing = parsed[site / "00_start_here.html"].targets
    for stem in chapters[1:]:
        assert f"{stem}.html" in landing, f"the landing page does not link chapter {stem}"


def test_the_book_in_chromium(site: Path, tmp_path: Path) -> None:
    expect, sync_playwright = playwright_api()
    with _serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        bad: list[str] = []
        page.on("response", lambda r: bad.append(f"{r.status} {r.url}")
                if r.url.startswith(base) and r.status >= 400 else None)
        page.on("requestfailed", lambda r: bad.append(f"failed {r.url}")
                if r.url.startswith(base) else None)
        try:
            page.goto(f"{base}/", timeout=LOAD_MS)  # index.html sends the reader to 00
            page.wait_for_url(f"{base}/00_start_here.html", timeout=LOAD_MS)
            expect(page.locator("h1").first).to_contain_text("Start here")
            for name in ("00_start_here.html", *CHAPTERS):
                if page.url != f"{base}/{name}":
                    page.goto(f"{base}/{name}", timeout=LOAD_MS)
                page.wait_for_load_state("load")
                images = page.evaluate(_IMAGES_OK)
                assert images, f"{name} shows no image"
                broken = [src[:80] for src, ok in images if not ok]
                assert not broken, f"{name}: {len(broken)} images did not load: {broken}"
                launch = page.locator(f'a[href*="mybinder.org/v2/gh/someone/reglab-fork/{BRANCH}"]')
                assert launch.count() >= 1, f"{name} has no Binder launch button"
                stem = name.removesuffix(".html")
                download = page.locator(f'a[href$="_sources/{stem}.ipynb"]')
                assert download.count() >= 1, f"{name} has no download of {stem}.ipynb"
                committed = (ROOT / "notebooks" / f"{stem}.ipynb").read_bytes()
                served = page.request.get(f"{base}/_sources/{stem}.ipynb").body()
                assert hashlib.sha256(served).digest() == hashlib.sha256(committed).digest(), (
                    f"the download of {stem} is not the committed notebook")

            # a folded solution opens on a click
            page.goto(f"{base}/{CHAPTERS[0]}", timeout=LOAD_MS)
            fold = page.locator("section#solutions details.hide").first
            expect(fold).not_to_have_attribute("open", "")
            code = fold.locator(".cell_input").first
            expect(code).to_be_hidden()
            fold.locator("summary").click()
            expect(code).to_be_visible()
            expect(code).to_contain_text("answer")

            # the explorer's chapter embeds the static explorer
            page.goto(f"{base}/10_explorer.html", timeout=LOAD_MS)
            assert page.locator('iframe[src="explorer/index.html"]').count() == 1

            # the static explorer: the slider and a penalty button change the picture
            page.goto(f"{base}/explorer/index.html", timeout=LOAD_MS)
            picture, readout, status = (page.locator(s) for s in ("#picture", "#readout", "#status"))
            expect(readout).to_have_text("1.0e-3")
            expect(status).to_contain_text("keras.regularizers.l2(0.001)")
            first = _loaded_png(page, picture)
            page.locator("#lambda").focus()
            page.keyboard.press("ArrowRight")
            expect(readout).to_have_text("1.8e-3")
            expect(status).to_contain_text("keras.regularizers.l2(0.00178)")
            second = _loaded_png(page, picture)
            assert second != first, "the slider moved but the picture stayed the same"
            page.locator('#kind button[data-kind="l1"]').click()
            expect(status).to_contain_text("keras.regularizers.l1(0.00178)")
            third = _loaded_png(page, picture)
            assert third not in (first, second), "L1 was chosen but the picture did not change"
            page.locator('#dataset button[data-dataset="digits"]').click()
            assert _loaded_png(page, picture) != third, "digits was chosen but nothing changed"
            page.screenshot(path=str(tmp_path / "explorer.png"))
            assert not bad, "requests to the site failed:\n" + "\n".join(bad)
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / "failure.png"))
                print(f"\nscreenshot: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()


def _loaded_png(page, picture) -> bytes:  # noqa: ANN001 - Playwright objects
    """The bytes of the picture once Chromium has loaded and decoded it."""
    page.wait_for_function(
        "() => { const i = document.querySelector('#picture');"
        " return i.complete && i.naturalWidth > 0; }", timeout=LOAD_MS)
    png = page.request.get(picture.evaluate("i => i.src")).body()
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "the explorer's picture is not a PNG"
    return png
