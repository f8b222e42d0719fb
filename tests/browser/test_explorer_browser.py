"""The explorer in a real browser: JupyterLab headless, Chromium driven by Playwright.

Starts JupyterLab on 127.0.0.1 (free port, random token, temporary Jupyter config, runtime and
settings directories, autosave off so the committed notebook is never rewritten), opens
``notebooks/10_explorer.ipynb`` in headless Chromium, runs all cells from the Run menu, then
presses the right arrow key on the lambda slider and clicks "L1", and checks each time that the
picture's PNG bytes change.  While the cells below the explorer still run, its status line says
so (``KERNEL_BUSY``: seen or not depends on the machine's speed, so it is printed, not asserted);
once they have run the note is gone.  Every request the page makes to anything but the server on
loopback is aborted (a school behind a firewall), and the test fails if there was one.  Speed
is not asserted here (see benchmarks/bench_speed.py); the
seconds from key press to new picture are printed for information.

Chromium, its flags and when to skip: ``tests/browser/chromium.py``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

from reglab.explorer.controls import KERNEL_BUSY
from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS, playwright_api

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/10_explorer.ipynb"
SERVER_START_S = 90
PAGE_LOAD_MS = 180_000
# TF import + the whole notebook, on a loaded 2-core machine
RUN_ALL_MS = int(os.environ.get("REGLAB_BROWSER_RUN_MS", 400_000))
REDRAW_MS = 90_000
LAST_OUTPUT = "[x] Exercise 3"  # printed by the notebook's last code cell


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None) -> bytes:
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
        data=None if body is None else json.dumps(body).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return response.read()


def _write_settings(settings_dir: Path) -> None:
    """JupyterLab user settings: no autosave, no news or update prompts."""
    for plugin, values in {
        "docmanager-extension/plugin": {"autosave": False},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings_dir / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def _jupyter_lab(tmp: Path) -> Iterator[tuple[str, str]]:
    """Run JupyterLab on loopback for the duration; always shut it and its kernels down."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name in ("runtime", "config", "data", "settings", "workspaces"):
        (tmp / name).mkdir()
    env.update(
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    _write_settings(tmp / "settings")
    log_path = tmp / "jupyter.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.allow_root=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "JupyterLab did not start:\n" + log_path.read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        yield base, token
    finally:
        with contextlib.suppress(OSError, ValueError):
            for kernel in json.loads(_api(base, token, "/api/kernels")):
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        with contextlib.suppress(OSError):
            _api(base, token, "/api/shutdown", method="POST")
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


_FETCH_PNG = """async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
}"""

_NEW_SRC = """([selector, old]) => {
    const img = document.querySelector(selector);
    return img !== null && !!img.src && img.src !== old;
}"""


def _start_session(base: str, token: str) -> None:
    """Start the notebook's session (and kernel) through the REST API, as JupyterLab would.

    JupyterLab then attaches to this session instead of choosing a kernel itself, which on a
    loaded machine sometimes ends in a "Select Kernel" dialog.
    """
    _api(base, token, "/api/sessions", method="POST", body={
        "path": NOTEBOOK, "name": Path(NOTEBOOK).name, "type": "notebook",
        "kernel": {"name": "python3"},
    })


def _stable_kernel(base: str, token: str, page, seconds: float = 3.0) -> None:  # noqa: ANN001
    """Wait until the page shows an idle kernel and the session has kept it for ``seconds``.

    Right after opening a notebook JupyterLab sometimes swaps the session's kernel for a new
    one; cells sent to the first kernel then never run.
    """
    page.get_by_text("Kernel status: Idle").first.wait_for(state="attached", timeout=PAGE_LOAD_MS)
    deadline = time.monotonic() + PAGE_LOAD_MS / 1000
    kernel, since = None, time.monotonic()
    while time.monotonic() < deadline:
        sessions = json.loads(_api(base, token, "/api/sessions"))
        ids = [s["kernel"]["id"] for s in sessions if s.get("path") == NOTEBOOK and s.get("kernel")]
        current = ids[0] if len(ids) == 1 else None
        if current != kernel:
            kernel, since = current, time.monotonic()
        elif kernel is not None and time.monotonic() - since >= seconds:
            page.get_by_text("Kernel status: Idle").first.wait_for(
                state="attached", timeout=PAGE_LOAD_MS
            )
            return
        time.sleep(0.5)
    raise AssertionError("the notebook's kernel did not settle")


def _run_all(page, base: str, token: str, img, expect, attempts: int = 2) -> None:  # noqa: ANN001
    """Clear the committed outputs, then Run > Run All Cells until the explorer's image shows.

    If JupyterLab asks which kernel to use, its choice (Python 3) is kept: Playwright's locator
    handler clicks the dialog away whenever it shows up while ``expect`` waits for the image.
    """
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    page.add_locator_handler(dialog, lambda found: found.locator("button.jp-mod-accept").click())
    for attempt in range(1, attempts + 1):
        _stable_kernel(base, token, page)
        # cleared first, so that what we wait for comes from this run
        _menu(page, "Edit", "editmenu:clear-all")
        page.get_by_text(LAST_OUTPUT).first.wait_for(state="detached", timeout=PAGE_LOAD_MS)
        _menu(page, "Run", "runmenu:run-all")
        # the widget appears mid-run; slider events wait behind the remaining cells
        try:
            expect(img).to_be_visible(timeout=RUN_ALL_MS // attempts)
            return
        except AssertionError:  # the run went to a replaced kernel
            if attempt == attempts:
                raise


def _menu(page, menu: str, command: str) -> None:  # noqa: ANN001
    """Click ``menu`` in JupyterLab's menu bar, then the item running ``command``."""
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.locator(f'li.lm-Menu-item[data-command="{command}"]').click()


def _picture(img) -> tuple[str, bytes]:  # noqa: ANN001 - a Playwright locator
    src = img.get_attribute("src")
    png = base64.b64decode(img.evaluate(_FETCH_PNG))
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "the explorer's image is not a PNG"
    return src, png


def _busy_while_running(page, status) -> bool:  # noqa: ANN001 - Playwright objects
    """Whether the status line showed the kernel-busy note before the last cell's output."""
    deadline = time.monotonic() + RUN_ALL_MS / 1000
    while time.monotonic() < deadline:
        if KERNEL_BUSY in (status.text_content() or ""):
            return True
        if page.get_by_text(LAST_OUTPUT).count():
            return False
        time.sleep(0.1)
    return False


def _after_change(page, img, old_src: str) -> tuple[str, bytes, float]:  # noqa: ANN001
    started = time.monotonic()
    page.wait_for_function(_NEW_SRC, arg=["img.reglab-plot", old_src], timeout=REDRAW_MS)
    seconds = time.monotonic() - started
    return (*_picture(img), seconds)


def test_explorer_redraws_when_the_slider_moves(tmp_path: Path) -> None:
    expect, sync_playwright = playwright_api()
    # JupyterLab occasionally swaps a freshly opened notebook's kernel; one retry with a fresh
    # server and browser keeps that from failing CI, and the first failure is still printed.
    try:
        _check_once(tmp_path / "attempt-1", expect, sync_playwright)
    except Exception as first:  # noqa: BLE001 - any failure of the first attempt
        warnings.warn(f"browser test: first attempt failed ({type(first).__name__}: "
                      f"{str(first)[:300]}); retried once", stacklevel=1)
        _check_once(tmp_path / "attempt-2", expect, sync_playwright)


def _check_once(tmp_path: Path, expect, sync_playwright) -> None:  # noqa: ANN001
    tmp_path.mkdir(parents=True)
    notebook = ROOT / NOTEBOOK
    committed = hashlib.sha256(notebook.read_bytes()).hexdigest()

    with _jupyter_lab(tmp_path) as (base, token), sync_playwright() as playwright:
        _start_session(base, token)
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000},
        )
        # every address but the server's is aborted; the pattern is matched in Playwright's
        # driver, so the server's own requests never wait for this Python process
        blocked: list[str] = []
        elsewhere = re.compile(rf"^(?!{re.escape(base)}/)(?!data:|blob:|about:).*")
        context.route(elsewhere, lambda route: (blocked.append(route.request.url), route.abort()))
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=PAGE_LOAD_MS)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_LOAD_MS)
            img = page.locator("img.reglab-plot")
            _run_all(page, base, token, img, expect)
            readout = page.locator(".reglab-lambda .widget-readout")
            status = page.locator(".reglab-status")
            busy_seen = _busy_while_running(page, status)
            page.get_by_text(LAST_OUTPUT).first.wait_for(timeout=RUN_ALL_MS)
            expect(status).not_to_contain_text(KERNEL_BUSY, timeout=REDRAW_MS)
            expect(status).to_contain_text("penalty = ")
            print(f"\nthe kernel-busy note was {'seen' if busy_seen else 'not seen'} during Run All")
            expect(readout).to_have_text("1.0e-3")
            src_1, png_1 = _picture(img)

            page.locator(".reglab-lambda .noUi-handle").focus()
            page.keyboard.press("ArrowRight")  # one step: 10**-3 -> 10**-2.75
            src_2, png_2, seconds_2 = _after_change(page, img, src_1)
            expect(readout).to_have_text("1.8e-3")
            expect(status).to_contain_text("keras.regularizers.l2(0.00178)")
            assert png_2 != png_1, "the slider moved but the picture stayed the same"

            page.locator(".reglab-kind button", has_text="L1").click()
            _, png_3, seconds_3 = _after_change(page, img, src_2)
            expect(status).to_contain_text("keras.regularizers.l1(0.00178)")
            assert png_3 not in (png_1, png_2), "L1 was chosen but the picture did not change"
            print(f"\nnew picture {seconds_2:.2f} s after the key press, "
                  f"{seconds_3:.2f} s after the click")
            assert not blocked, "JupyterLab asked the network for:\n" + "\n".join(blocked[:10])
        except Exception:
            shot = tmp_path / "failure.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shot))
            log = (tmp_path / "jupyter.log").read_text()[-4000:]
            print(f"\nscreenshot: {shot}\nJupyter log (end):\n{log}")
            raise
        finally:
            context.close()
    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == committed, (
        "the browser session rewrote the committed notebook"
    )
