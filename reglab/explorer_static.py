"""The explorer without a kernel: every setting of its controls, trained ahead and drawn.

For the static book (``tasks.py book``), which cannot run Python.  ``write_static_explorer``
trains every setting the widget offers with the same ``reglab.explorer.Explorer`` (the
TensorFlow engine) and draws each with the same four panels (``Explorer.render_png``)::

    settings = datasets x ("none",)  +  datasets x ("l1", "l2") x lambda_grid()
    lambda_grid() = 10 ** (-5 + k / 4),  k = 0 .. 20          (the widget's slider)

and writes a folder that any static host serves as it is::

    index.html          the same controls (dataset, penalty, lambda slider), plain HTML and
                        JavaScript, the settings' table inline; no server, no network
    frames/*.png        one picture per setting, loaded when its setting is chosen

The same engine on the same machine gives the same bytes, so a rebuild changes nothing.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reglab._validate import InvalidParameterError, check_int
from reglab.explorer import DATASETS, Explorer, lambda_grid
from reglab.explorer_view import penalty_in_every_api

__all__ = ["DATASET_LABELS", "PENALTY_LABELS", "StaticExplorer", "settings", "write_static_explorer"]

#: Button labels, as in the widget.
DATASET_LABELS: dict[str, str] = {"toy2d": "moons", "digits": "digits"}
PENALTY_LABELS: dict[str, str] = {"none": "none", "l1": "L1", "l2": "L2"}


@dataclass(frozen=True)
class StaticExplorer:
    """What ``write_static_explorer`` wrote: the folder, its frames and their total size."""

    folder: Path
    frames: int
    bytes_on_disk: int


def settings() -> list[tuple[str, str, int]]:
    """Every ``(dataset, penalty, k)`` the controls can reach; ``k`` indexes ``lambda_grid()``.

    "none" has one setting per dataset (``k = -1``: lambda does not apply).
    """
    lams = lambda_grid()
    out: list[tuple[str, str, int]] = []
    for dataset in DATASETS:
        out.append((dataset, "none", -1))
        out += [(dataset, penalty, k) for penalty in ("l1", "l2") for k in range(len(lams))]
    return out


def _frame_name(dataset: str, penalty: str, k: int) -> str:
    return f"{dataset}-none.png" if penalty == "none" else f"{dataset}-{penalty}-{k:02d}.png"


def write_static_explorer(
    folder: str | Path,
    *,
    explorer: Explorer | None = None,
    start: tuple[str, str, int] = ("toy2d", "l2", 8),
    dpi: int = 100,
    progress: bool = True,
) -> StaticExplorer:
    """Train and draw every setting, then write ``folder/index.html`` and ``folder/frames/``.

    ``start`` is the setting shown first (default moons, L2, lambda = 1e-3, as the widget).
    Frames are drawn at ``dpi`` (100: 1,350 pixels wide) and stored with a 256-colour palette.
    The folder is written to a temporary sibling and renamed into place, so a failure leaves
    no half-written explorer; an existing ``folder`` is replaced.
    """
    if not isinstance(folder, (str, Path)):
        raise InvalidParameterError(f"folder must be a path, got {type(folder).__name__}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"folder {str(folder)!r} exists and is not a directory")
    if explorer is not None and not isinstance(explorer, Explorer):
        raise InvalidParameterError(
            f"explorer must be a reglab.explorer.Explorer or None, got {type(explorer).__name__}")
    dpi = check_int("dpi", dpi, minimum=20)
    lams = lambda_grid()
    every = settings()
    if start not in every:
        raise InvalidParameterError(
            f"start must be a (dataset, penalty, k) the controls can reach, k in 0..{len(lams) - 1}"
            f" (-1 for 'none'), got {start!r}")
    if not isinstance(progress, bool):
        raise InvalidParameterError(f"progress must be True or False, got {type(progress).__name__}")
    explorer = Explorer() if explorer is None else explorer

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        (staging / "frames").mkdir()
        table: dict[str, dict[str, str]] = {}
        from tqdm import tqdm

        for dataset, penalty, k in tqdm(every, desc="static explorer", unit="setting",
                                        disable=not progress):
            lam = 0.0 if penalty == "none" else float(lams[k])
            result = explorer.result(dataset, penalty, lam)
            name = _frame_name(dataset, penalty, k)
            (staging / "frames" / name).write_bytes(_palette_png(explorer.render_png(result, dpi=dpi)))
            table[f"{dataset}/{penalty}/{k}"] = {
                "src": f"frames/{name}",
                "status": penalty_in_every_api(penalty, lam),
            }
        page = _page(table, [float(v) for v in lams], start)
        (staging / "index.html").write_text(page, encoding="utf-8")
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StaticExplorer(folder=folder, frames=len(table), bytes_on_disk=size)


def _palette_png(png: bytes) -> bytes:
    """The picture with at most 256 colours (median cut, no dithering): about a third the bytes."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    palette = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _page(table: dict[str, dict[str, str]], lams: list[float], start: tuple[str, str, int]) -> str:
    """The HTML page: controls, picture, status line; the settings' table inline as JSON."""
    data = json.dumps({"frames": table, "lams": lams, "start": list(start)}, sort_keys=True)
    dataset_buttons = "".join(
        f'<button type="button" data-dataset="{d}">{html.escape(label)}</button>'
        for d, label in DATASET_LABELS.items())
    penalty_buttons = "".join(
        f'<button type="button" data-penalty="{p}">{html.escape(label)}</button>'
        for p, label in PENALTY_LABELS.items())
    return _TEMPLATE.replace("@@DATASETS@@", dataset_buttons).replace(
        "@@PENALTIES@@", penalty_buttons).replace("@@MAX@@", str(len(lams) - 1)).replace(
        "@@DATA@@", data.replace("</", "<\\/"))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reglab explorer (precomputed)</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0.8em; color: #222; }
  .row { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: center; margin: 0.3em 0; }
  .group button { padding: 0.25em 0.9em; border: 1px solid #999; background: #f4f4f4;
                  cursor: pointer; font: inherit; }
  .group button[aria-pressed="true"] { background: #2a6db0; color: white; border-color: #2a6db0; }
  .group button:focus-visible, input:focus-visible { outline: 2px solid #e08a00; }
  label { font-weight: 600; margin-right: 0.4em; }
  input[type=range] { width: min(480px, 60vw); vertical-align: middle; }
  input[type=range]:disabled { opacity: 0.4; }
  #readout { font-family: monospace; min-width: 6em; display: inline-block; }
  /* four panels side by side: on a narrow screen they keep a readable size and scroll */
  .scroll { overflow-x: auto; margin-top: 0.4em; }
  #picture { width: 100%; min-width: 760px; height: auto; display: block; }
  #status { font-family: monospace; font-size: 0.9em; margin-top: 0.3em; }
  .note { color: #555; font-size: 0.85em; margin-top: 0.6em; max-width: 60em; }
</style>
</head>
<body>
<div class="row">
  <div class="group" id="dataset"><label>data</label>@@DATASETS@@</div>
  <div class="group" id="penalty"><label>penalty</label>@@PENALTIES@@</div>
</div>
<div class="row">
  <label for="lambda">lambda</label>
  <input type="range" id="lambda" min="0" max="@@MAX@@" step="1" value="0"
         aria-describedby="readout">
  <span id="readout"></span>
</div>
<div class="scroll"><img id="picture" alt="the explorer's four panels for the chosen setting"></div>
<div id="status"></div>
<p class="note">Every setting was trained ahead by the workbook's TensorFlow engine and drawn as
in notebook 10; this page only switches between the pictures. To train settings of your own,
open notebook 10 in JupyterLab.</p>
<script id="settings" type="application/json">@@DATA@@</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("settings").textContent);
  var state = {dataset: data.start[0], penalty: data.start[1],
               k: data.start[2] < 0 ? 0 : data.start[2]};
  var slider = document.getElementById("lambda");
  var picture = document.getElementById("picture");
  function key(s, k) { return s.dataset + "/" + s.penalty + "/" + (s.penalty === "none" ? -1 : k); }
  function pressed(group, attr, value) {
    document.querySelectorAll("#" + group + " button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute(attr) === value));
    });
  }
  function preload(k) {
    if (state.penalty === "none" || k < 0 || k > data.lams.length - 1) return;
    new Image().src = data.frames[key(state, k)].src;
  }
  function show() {
    var frame = data.frames[key(state, state.k)];
    slider.value = String(state.k);
    slider.disabled = state.penalty === "none";
    document.getElementById("readout").textContent =
      state.penalty === "none" ? "-" : data.lams[state.k].toExponential(1);
    picture.src = frame.src;
    document.getElementById("status").textContent = frame.status;
    pressed("dataset", "data-dataset", state.dataset);
    pressed("penalty", "data-penalty", state.penalty);
    preload(state.k - 1);
    preload(state.k + 1);
  }
  document.querySelectorAll("#dataset button").forEach(function (b) {
    b.addEventListener("click", function () { state.dataset = b.getAttribute("data-dataset"); show(); });
  });
  document.querySelectorAll("#penalty button").forEach(function (b) {
    b.addEventListener("click", function () { state.penalty = b.getAttribute("data-penalty"); show(); });
  });
  slider.addEventListener("input", function () { state.k = Number(slider.value); show(); });
  show();
}());
</script>
</body>
</html>
"""
