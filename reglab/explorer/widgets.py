"""The interactive explorer: ipywidgets controls wired to ``reglab.explorer.Explorer``.

    app = reglab.explorer.widgets.ExplorerApp()
    app                      # last line of a cell: shows the controls and the picture

Controls (labels and range from ``reglab.explorer.controls``, as the book's static page): the
dataset (2-D moons or 8x8 digits), the penalty kind (none / L1 / L2, Keras convention:
``lam * sum|w|`` and ``lam * sum(w**2)``) and lambda on a log slider from 1e-5 to 1 (four steps
per decade; "none" is lambda = 0).  Each change trains the network with the TensorFlow engine
(or recalls it from the cache) and redraws one PNG: decision boundary or first-layer weights,
data loss on train and test, the penalty, the weight histogram.  The engine of the starting
setting compiles in a background thread as soon as the explorer is created; after each redraw
the slider's two neighbours are trained in that thread, so the next step of the slider is
instant.

All the logic lives in ``Explorer``; this module only builds widgets and wires them, and is
tested without a browser (set a control's ``value``, read ``image.value``).
"""

from __future__ import annotations

import html
import time
from typing import Any

from reglab.explorer.controls import (
    CAPTIONS,
    DATASET_LABELS,
    KIND_LABELS,
    LAM_MAX_EXP,
    LAM_MIN_EXP,
    LAM_STEP_EXP,
    status_text,
)
from reglab.explorer.engine import DATASETS, KINDS
from reglab.explorer.explorer import Explorer
from reglab.params import InstanceOf, NoneOr, Options, Real, validated

__all__ = ["LAM_MAX_EXP", "LAM_MIN_EXP", "LAM_STEP_EXP", "ExplorerApp"]


class ExplorerApp:
    """The explorer's widgets around an ``Explorer``.

    ``dataset``, ``kind`` and ``lam`` are the starting setting (``lam`` inside the slider's
    range, even for kind "none"); ``explorer`` lets a caller share a trained cache (a new
    ``Explorer(prefetch=True)`` by default).  Attributes: ``dataset_buttons``, ``kind_buttons``,
    ``lam_slider`` (the controls), ``image`` (the PNG), ``status`` (an HTML line), ``widget``
    (the whole box, what the notebook displays).
    """

    @validated(explorer=NoneOr(InstanceOf("reglab.explorer:Explorer")), dataset=Options(*DATASETS),
               kind=Options(*KINDS), lam=Real(10.0**LAM_MIN_EXP, 10.0**LAM_MAX_EXP))
    def __init__(
        self,
        explorer: Explorer | None = None,
        *,
        dataset: str = "toy2d",
        kind: str = "l2",
        lam: float = 1e-3,
    ) -> None:
        import ipywidgets as widgets

        if explorer is None:  # starts compiling the starting setting's engine in the background
            explorer = Explorer(dataset=dataset, kind=kind, lam=lam, prefetch=True)
        self.explorer = explorer
        self.dataset_buttons = widgets.ToggleButtons(
            options=[(label, name) for name, label in DATASET_LABELS.items()], value=dataset,
            description=CAPTIONS["dataset"], style={"button_width": "70px"},
        )
        self.kind_buttons = widgets.ToggleButtons(
            options=[(label, name) for name, label in KIND_LABELS.items()], value=kind,
            description=CAPTIONS["kind"], style={"button_width": "60px"},
        )
        self.lam_slider = widgets.FloatLogSlider(
            value=lam, base=10, min=LAM_MIN_EXP, max=LAM_MAX_EXP, step=LAM_STEP_EXP,
            description=CAPTIONS["lam"], readout_format=".1e", continuous_update=False,
            layout=widgets.Layout(width="480px"),
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        for name, control in (("dataset", self.dataset_buttons), ("kind", self.kind_buttons),
                              ("lambda", self.lam_slider)):
            control.add_class(f"reglab-{name}")
        self.image.add_class("reglab-plot")
        self.status.add_class("reglab-status")
        self.widget = widgets.VBox([
            widgets.HBox([self.dataset_buttons, self.kind_buttons]),
            self.lam_slider,
            self.image,
            self.status,
        ])
        self.redraws = 0  #: how many times the picture was redrawn
        for control in (self.dataset_buttons, self.kind_buttons, self.lam_slider):
            control.observe(self._on_change, names="value")
        self.refresh()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Train (or recall) the current setting and redraw the picture and the status line."""
        kind = self.kind_buttons.value
        self.lam_slider.disabled = kind == "none"
        self.status.value = "<i>training ...</i>"
        started = time.perf_counter()
        result = self.explorer.update(dataset=self.dataset_buttons.value, kind=kind,
                                      lam=float(self.lam_slider.value))
        _ = self.explorer.reference  # the grey reference curves (cached), before the clock stops
        trained = time.perf_counter() - started
        png = self.explorer.render_png()
        drawn = time.perf_counter() - started - trained
        self.image.value = png
        self.redraws += 1
        timing = "from the cache" if trained < 0.005 else f"trained in {1000 * trained:.0f} ms"
        self.status.value = (
            f"<span style='font-family:monospace'>{html.escape(status_text(result))}</span><br>"
            f"<small>{timing}, drawn in {1000 * drawn:.0f} ms; "
            f"{self.explorer.cache_size} settings trained so far</small>"
        )
        self.explorer.prefetch_neighbours()

    def close(self) -> None:
        """Close the widgets and stop the explorer's background thread."""
        self.explorer.close()
        for w in (self.dataset_buttons, self.kind_buttons, self.lam_slider, self.image,
                  self.status, self.widget):
            w.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
