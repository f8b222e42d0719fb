"""The explorer without a kernel: every setting of its controls, trained ahead and drawn.

For the static book (``tasks.py book``), which cannot run Python.  ``write_static_explorer``
trains every setting the widget offers with the same ``reglab.explorer.Explorer`` (the
TensorFlow engine) and draws each with the same four panels (``Explorer.render_png``)::

    settings = datasets x ("none",)  +  datasets x ("l1", "l2") x lambda_grid()
    lambda_grid() = 10 ** (-5 + k / 4),  k = 0 .. 20          (the widget's slider)

and writes a folder that any static host serves as it is::

    index.html          the same controls (dataset, kind, lambda slider), plain HTML and
                        JavaScript, the settings' table inline; no server, no network
    frames/*.png        one picture per setting, loaded when its setting is chosen

The page shows the four panels of a picture as four boxes, each cut from the one PNG by where
its panel begins and ends (``panel_cuts``: the blank columns between panels), so that they sit
side by side on a wide screen, two by two in the book's column and stacked on a phone, always
at a readable size.  In the book the page sits in a frame and tells it its height.

The page is the template ``static.html`` (shipped beside this module, read with
``importlib.resources``), filled by ``string.Template``: ``$dataset_buttons``,
``$kind_buttons`` and the captions from ``reglab.explorer.controls`` (as the widget's),
``$last_k`` (the slider's last index), ``$panel_1`` ... ``$panel_4`` (what each panel shows,
for its alt text), ``$settings`` (the table as JSON: each frame's file, status line, size and
panel cuts).  The same engine on
the same machine gives the same bytes, so a rebuild changes nothing.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from reglab.explorer.controls import CAPTIONS, DATASET_LABELS, KIND_LABELS, lambda_grid, status_text
from reglab.explorer.engine import DATASETS
from reglab.explorer.explorer import Explorer
from reglab.files import staged
from reglab.params import (
    Anything,
    Boolean,
    InstanceOf,
    Integer,
    InvalidParameterError,
    NoneOr,
    PathLike,
    validated,
)

__all__ = ["StaticExplorer", "panel_cuts", "settings", "write_static_explorer"]

#: The page's template, a file of this package.
TEMPLATE = "static.html"
#: What the four panels show (reglab.explorer.figure), for their alt texts.
PANELS = ("the decision boundary (moons) or the first-layer weights (digits)",
          "the data loss per step, train and test", "the penalty per step",
          "the histogram of the kernel weights")
#: Columns darker than this (0-255 grey) are ink; a run of at least MIN_GAP blank columns
#: separates two panels.
INK, MIN_GAP = 245, 4


@dataclass(frozen=True)
class StaticExplorer:
    """What ``write_static_explorer`` wrote: the folder, its frames and their total size."""

    folder: Path
    frames: int
    bytes_on_disk: int


def settings() -> list[tuple[str, str, int]]:
    """Every ``(dataset, kind, k)`` the controls can reach; ``k`` indexes ``lambda_grid()``.

    "none" has one setting per dataset (``k = -1``: lambda does not apply).
    """
    steps = len(lambda_grid())
    out: list[tuple[str, str, int]] = []
    for dataset in DATASETS:
        out.append((dataset, "none", -1))
        out += [(dataset, kind, k) for kind in ("l1", "l2") for k in range(steps)]
    return out


def _frame_name(dataset: str, kind: str, k: int) -> str:
    return f"{dataset}-none.png" if kind == "none" else f"{dataset}-{kind}-{k:02d}.png"


@validated(folder=PathLike(), explorer=NoneOr(InstanceOf("reglab.explorer:Explorer")),
           start=Anything(), dpi=Integer(minimum=20), progress=Boolean())
def write_static_explorer(
    folder: str | Path,
    *,
    explorer: Explorer | None = None,
    start: tuple[str, str, int] = ("toy2d", "l2", 8),
    dpi: int = 100,
    progress: bool = True,
) -> StaticExplorer:
    """Train and draw every setting, then write ``folder/index.html`` and ``folder/frames/``.

    ``start`` is the setting shown first, one of ``settings()`` (default moons, L2,
    ``lambda_grid()[8] = 1e-3``, as the widget).  Frames are drawn at ``dpi`` (100: 1,350
    pixels wide) and stored with a 256-colour palette.  The folder is written beside ``folder``
    and renamed into place (``reglab.files.staged``), so a failure leaves no half-written
    explorer; an existing ``folder`` is replaced.
    """
    every = settings()
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"folder {str(folder)!r} exists and is not a directory")
    if start not in every:
        raise InvalidParameterError(
            f"start must be a (dataset, kind, k) the controls can reach, k in "
            f"0..{len(lambda_grid()) - 1} (-1 for 'none'); got {start!r}")
    explorer = Explorer() if explorer is None else explorer
    from PIL import Image
    from tqdm import tqdm

    lams = lambda_grid()
    table: dict[str, dict[str, str]] = {}
    with staged(folder, folder=True) as staging:
        (staging / "frames").mkdir()
        for dataset, kind, k in tqdm(every, desc="static explorer", unit="setting",
                                     disable=not progress):
            result = explorer.result(dataset, kind, 0.0 if kind == "none" else float(lams[k]))
            name = _frame_name(dataset, kind, k)
            png = explorer.render_png(result, dpi=dpi)
            (staging / "frames" / name).write_bytes(_palette_png(png))
            width, height = Image.open(io.BytesIO(png)).size
            found = panel_cuts(png)
            table[f"{dataset}/{kind}/{k}"] = {
                "src": f"frames/{name}", "status": status_text(result), "size": [width, height],
                "top": found[0] if found else 0, "cuts": found[1] if found else None,
                "headline": _headline(result)}
        (staging / "index.html").write_text(_page(table, [float(v) for v in lams], start),
                                            encoding="utf-8")
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
    return StaticExplorer(folder=folder, frames=len(table), bytes_on_disk=size)


@validated(png=InstanceOf("builtins:bytes", example=lambda: b"\x89PNG"), panels=Integer(minimum=1))
def panel_cuts(png: bytes, panels: int = 4) -> tuple[int, list[list[float]]] | None:
    """``(top, cuts)``: where the picture's ``panels`` are; None when it cannot tell.

    ``top`` is the first pixel row below the figure's title line (0 when there is none: a band
    of ink at the top that spans more than one panel); ``cuts`` holds each panel's first and
    last column as fractions of the width, cut in the middle of the widest runs of blank
    columns (no pixel darker than ``INK``) below ``top``.  None when there are fewer such gaps
    (the page then shows the picture whole).
    """
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    rows = np.flatnonzero((grey < INK).any(axis=1))
    if rows.size == 0:
        return None
    after = np.flatnonzero(np.diff(rows) > 1)  # the title's band ends where rows of ink stop
    band_end = int(rows[after[0]]) + 1 if after.size else 0
    for top in (band_end, 0) if band_end else (0,):
        cuts = _columns(grey[top:], panels)
        if cuts is None:
            continue
        band = np.flatnonzero((grey[:top] < INK).any(axis=0)) / grey.shape[1]
        if top == 0 or (band.size and any(band[0] < a < band[-1] for a, _ in cuts[1:])):
            return top, cuts
    return None


def _columns(grey: object, panels: int) -> list[list[float]] | None:
    """The panels' column ranges (fractions of the width) of a grey picture, or None."""
    import numpy as np

    width = grey.shape[1]
    ink = np.flatnonzero((grey < INK).any(axis=0))
    gaps = [(int(right - left - 1), int(left + 1), int(right))  # (length, start, end)
            for left, right in zip(ink[:-1], ink[1:], strict=True) if right - left - 1 >= MIN_GAP]
    if len(gaps) < panels - 1:
        return None
    chosen = sorted(sorted(gaps, reverse=True)[: panels - 1], key=lambda gap: gap[1])
    edges = [0] + [(start + end) // 2 for _, start, end in chosen] + [width]
    return [[round(a / width, 5), round(b / width, 5)] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _headline(result: object) -> str:
    """The figure's title line as text (the page shows it as text: it wraps on a phone)."""
    return (f"train accuracy {result.train_accuracy:.3f}, test accuracy {result.test_accuracy:.3f}, "
            f"sum w\u00b2 = {result.sum_squares:.3g}, sum |w| = {result.sum_abs:.3g}")


def _palette_png(png: bytes) -> bytes:
    """The picture with at most 256 colours (median cut, no dithering): about a third the bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    palette = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _page(table: dict[str, dict[str, str]], lams: list[float], start: tuple[str, str, int]) -> str:
    """The HTML page: the template filled with the controls and the settings' table."""
    data = json.dumps({"frames": table, "lams": lams, "start": list(start)}, sort_keys=True)
    template = Template(resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8"))
    return template.substitute(
        dataset_caption=html.escape(CAPTIONS["dataset"]),
        kind_caption=html.escape(CAPTIONS["kind"]),
        lam_caption=html.escape(CAPTIONS["lam"]),
        dataset_buttons="".join(
            f'<button type="button" data-dataset="{name}">{html.escape(label)}</button>'
            for name, label in DATASET_LABELS.items()),
        kind_buttons="".join(
            f'<button type="button" data-kind="{name}">{html.escape(label)}</button>'
            for name, label in KIND_LABELS.items()),
        last_k=str(len(lams) - 1),
        **{f"panel_{i}": html.escape(text) for i, text in enumerate(PANELS, start=1)},
        settings=data.replace("</", "<\\/"),
    )
