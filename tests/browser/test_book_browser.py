"""The static book in a real browser: built here, served on loopback, opened in Chromium.

Builds the whole site with ``reglab.classroom.book.build_book`` in this process (so the network guard of
``conftest.py`` covers the build: it must fetch nothing), checks every internal link of every
page from the files, then serves the site on 127.0.0.1 and, in headless Chromium with every
request to anything but the site aborted (a school behind a firewall), opens the landing page
and two chapters (no broken image, no failed request to the site, a solution that unfolds on a
click, the Binder and Colab launch buttons well-formed, the download button, each figure a link
to its image), chapter 01's formulas typeset by the site's own MathJax, every chapter at a
phone's 390 x 844 (no page wider than the screen, the explorer's panels one under the other)
and chapter 10 at a desktop's 1366 x 900 (the explorer's four panels whole and readable in
their frame, the frame as tall as its page), and the static explorer, whose picture must
change when the lambda slider moves and when L1 is chosen.  A book without a repository (no
launch buttons) is ``tests/test_book.py``'s.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html.parser
import http.server
import re
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
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}

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


def _offline(page, base: str) -> list[str]:  # noqa: ANN001 - a Playwright page
    """Abort every request that is not to the site; returns the list of what was aborted.

    The pattern is matched in Playwright's driver: the site's own requests never wait for
    this Python process.
    """
    blocked: list[str] = []
    elsewhere = re.compile(rf"^(?!{re.escape(base)}/)(?!data:|blob:|about:).*")
    page.route(elsewhere, lambda route: (blocked.append(route.request.url), route.abort()))
    return blocked


def _new_page(browser, base: str, viewport: dict[str, int]) -> tuple[object, list[str]]:  # noqa: ANN001
    page = browser.new_page(viewport=viewport)
    return page, _offline(page, base)


_TOO_WIDE = """() => {
    const width = window.innerWidth, out = [];
    for (const e of document.querySelectorAll('.bd-article *')) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > width + 1)
            out.push(`${e.tagName}.${e.className} ${Math.round(r.right)}px`);
        if (out.length >= 5) break;
    }
    return [document.documentElement.scrollWidth, window.innerWidth, out];
}"""

_PANELS = """() => {
    const frame = document.querySelector('iframe.reglab-explorer-frame');
    const doc = frame.contentDocument, view = frame.contentWindow;
    const boxes = Array.from(doc.querySelectorAll('#panels .panel'));
    const data = JSON.parse(doc.getElementById('settings').textContent);
    const picture = doc.getElementById('picture');
    const frameKey = Object.keys(data.frames).find(k => picture.src.endsWith(data.frames[k].src));
    const setting = data.frames[frameKey];
    return {
        frameWidth: view.innerWidth, frameHeight: frame.clientHeight,
        pageHeight: doc.documentElement.scrollHeight, pageWidth: doc.documentElement.scrollWidth,
        loaded: Array.from(doc.querySelectorAll('#panels img')).every(i => i.complete && i.naturalWidth > 0),
        cuts: setting.cuts, size: setting.size,
        boxes: boxes.map(b => { const r = b.getBoundingClientRect();
            return {left: r.left, right: r.right, top: r.top, width: r.width, height: r.height}; }),
    };
}"""


def _explorer_in_its_frame(page, base: str) -> dict:  # noqa: ANN001
    """Chapter 10's explorer once its frame has loaded and taken its page's height."""
    page.goto(f"{base}/10_explorer.html", timeout=LOAD_MS)
    frame = page.locator("iframe.reglab-explorer-frame")
    frame.scroll_into_view_if_needed()
    ready = """() => { const f = document.querySelector('iframe.reglab-explorer-frame');
                   const d = f && f.contentDocument, p = d && d.getElementById('picture');
                   return !!(p && p.complete && p.naturalWidth > 0 && f.style.height); }"""
    try:
        page.wait_for_function(ready, timeout=LOAD_MS)
    except Exception:
        print("\nthe explorer's frame did not settle:", page.evaluate(
            """() => { const f = document.querySelector('iframe.reglab-explorer-frame');
                       const d = f.contentDocument;
                       return [f.style.height, f.clientHeight, d && d.readyState,
                               d && d.documentElement.scrollHeight]; }"""))
        raise
    return page.evaluate(_PANELS)


def test_the_book_in_chromium(site: Path, tmp_path: Path) -> None:
    expect, sync_playwright = playwright_api()
    with _serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        page, blocked = _new_page(browser, base, {"width": 1300, "height": 900})
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
                stem = name.removesuffix(".html")
                binder = (f"https://mybinder.org/v2/gh/someone/reglab-fork/{BRANCH}"
                          f"?urlpath=lab/tree/notebooks/{stem}.ipynb")
                colab = (f"https://colab.research.google.com/github/someone/reglab-fork/blob/"
                         f"{BRANCH}/notebooks/{stem}.ipynb")
                for what, href in (("Binder", binder), ("Colab", colab)):
                    assert page.locator(f'a[href="{href}"]').count() >= 1, (
                        f"{name} has no {what} launch button to {href}")
                hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
                assert not [h for h in hrefs if "OWNER" in h], f"{name} links a placeholder"
                figures = page.locator(".cell_output a.image-reference > img")
                if figures.count():
                    alt = figures.first.get_attribute("alt") or ""
                    assert alt.startswith("Figure 1 of chapter"), f"{name}: figure alt text {alt!r}"
                    link = figures.first.locator("xpath=..").get_attribute("href") or ""
                    assert link.startswith("_images/"), f"{name}: the figure links {link!r}"
                download = page.locator(f'a[href$="_sources/{stem}.ipynb"]')
                assert download.count() >= 1, f"{name} has no download of {stem}.ipynb"
                committed = (ROOT / "notebooks" / f"{stem}.ipynb").read_bytes()
                served = page.request.get(f"{base}/_sources/{stem}.ipynb").body()
                assert hashlib.sha256(served).digest() == hashlib.sha256(committed).digest(), (
                    f"the download of {stem} is not the committed notebook")

            # chapter 01's formulas are typeset by the site's own MathJax, the network blocked
            page.goto(f"{base}/01_get_variable_regularizer.html", timeout=LOAD_MS)
            page.wait_for_selector("mjx-container", timeout=LOAD_MS)
            text = page.locator(".bd-article").inner_text()
            assert "\\[" not in text and "\\(" not in text, "raw LaTeX shows in 01"
            assert page.locator(".math mjx-container").count() >= 1

            # the Solutions' buttons name their exercises
            page.goto(f"{base}/05_keras.html", timeout=LOAD_MS)
            prompts = page.locator("section#solutions details.hide summary").all_inner_texts()
            assert len(prompts) >= 3 and len(set(prompts)) == len(prompts), prompts

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
            assert not blocked, "the book asked the network for:\n" + "\n".join(blocked[:10])
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


def test_the_book_fits_a_phone_and_shows_the_explorer_whole_on_a_desktop(site: Path, tmp_path: Path) -> None:
    _, sync_playwright = playwright_api()
    pages = sorted(p.name for p in site.glob("[0-9][0-9]_*.html"))
    assert len(pages) >= 13
    with _serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        page, blocked = _new_page(browser, base, PHONE)
        try:
            too_wide = []
            for name in pages:
                page.goto(f"{base}/{name}", timeout=LOAD_MS)
                page.wait_for_load_state("load")
                scroll_width, inner_width, culprits = page.evaluate(_TOO_WIDE)
                if scroll_width > inner_width:
                    too_wide.append(f"{name}: {scroll_width} px > {inner_width} px ({culprits})")
            assert not too_wide, "pages wider than a 390-pixel phone:\n" + "\n".join(too_wide)

            phone = _explorer_in_its_frame(page, base)
            assert phone["pageWidth"] <= phone["frameWidth"], phone
            lefts = {round(b["left"]) for b in phone["boxes"]}
            assert len(phone["boxes"]) == 4 and len(lefts) == 1, f"panels not stacked: {phone['boxes']}"
            page.close()

            page, more = _new_page(browser, base, DESKTOP)
            blocked += more
            desk = _explorer_in_its_frame(page, base)
            assert desk["loaded"] and desk["cuts"] and len(desk["boxes"]) == 4, desk
            assert desk["pageWidth"] <= desk["frameWidth"], f"the explorer scrolls sideways: {desk}"
            assert desk["frameHeight"] >= desk["pageHeight"] - 2, f"the frame clips its page: {desk}"
            assert desk["frameHeight"] <= desk["pageHeight"] + 40, f"blank below the explorer: {desk}"
            for i, (box, (a, b)) in enumerate(zip(desk["boxes"], desk["cuts"], strict=True), start=1):
                assert box["left"] >= 0 and box["right"] <= desk["frameWidth"] + 0.5, (
                    f"panel {i} is clipped: {box} in a {desk['frameWidth']} px frame")
                assert box["height"] > 100, f"panel {i} is flat: {box}"
                # shown at 80 % of its drawn size or more: its 9-point title stays >= 10 px
                assert box["width"] >= 0.8 * (b - a) * desk["size"][0], (
                    f"panel {i} is shrunk to {box['width']:.0f} px of {(b - a) * desk['size'][0]:.0f}")
            page.screenshot(path=str(tmp_path / "explorer-desktop.png"), full_page=True)
            assert not blocked, "the book asked the network for:\n" + "\n".join(blocked[:10])
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / "failure.png"))
                print(f"\nscreenshot: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()
