"""The interactive explorer: ipywidgets controls wired to ``reglab.explorer.Explorer``.

    app = reglab.widgets.ExplorerApp()
    app                      # last line of a cell: shows the controls and the picture

Controls: the dataset (2-D moons or 8x8 digits), the penalty (none / L1 / L2, Keras convention:
``lam * sum|w|`` and ``lam * sum(w**2)``) and lambda on a log slider from 1e-5 to 1 (four steps
per decade; "none" is lambda = 0).  Each change trains the network with the TensorFlow engine
of ``reglab.explorer`` (or recalls it from the cache) and redraws one PNG: decision boundary or
first-layer weights, data loss on train and test, the penalty, the weight histogram.  The
engine of the starting setting compiles in a background thread as soon as the explorer is
created; after each redraw the slider's two neighbours are trained in that thread, so the next
step of the slider is instant.

All the logic lives in ``Explorer``; this module only builds widgets and wires them, and is
tested without a browser (set a control's ``value``, read ``image.value``).
"""

from __future__ import annotations

import html
import time
from typing import Any

from reglab._validate import check_choice, check_scale
from reglab.explorer import DATASETS, Explorer
from reglab.explorer_view import penalty_in_every_api
from reglab.penalties import PENALTIES

#: The slider's range (powers of ten) and resolution.
LAM_MIN_EXP, LAM_MAX_EXP, LAM_STEP_EXP = -5, 0, 0.25

_DATASET_LABELS = (("moons", "toy2d"), ("digits", "digits"))
_PENALTY_LABELS = (("none", "none"), ("L1", "l1"), ("L2", "l2"))


class ExplorerApp:
    """The explorer's widgets around an ``Explorer``.

    ``dataset``, ``penalty`` and ``lam`` are the starting settings; ``explorer`` lets a caller
    share a trained cache (a new ``Explorer(prefetch=True)`` by default).  Attributes:
    ``dataset_buttons``, ``penalty_buttons``, ``lam_slider`` (the controls), ``image`` (the PNG),
    ``status`` (an HTML line), ``widget`` (the whole box, what the notebook displays).
    """

    def __init__(
        self,
        explorer: Explorer | None = None,
        *,
        dataset: str = "toy2d",
        penalty: str = "l2",
        lam: float = 1e-3,
    ) -> None:
        import ipywidgets as widgets

        if explorer is not None and not isinstance(explorer, Explorer):
            raise TypeError(f"explorer must be a reglab.explorer.Explorer or None, got "
                            f"{type(explorer).__name__}")
        dataset = check_choice("dataset", dataset, DATASETS)
        penalty = check_choice("penalty", penalty, PENALTIES)
        lam = check_scale("lam", lam, allow_zero=False)
        if not 10.0**LAM_MIN_EXP <= lam <= 10.0**LAM_MAX_EXP:
            raise ValueError(
                f"lam must be between 1e{LAM_MIN_EXP} and 1e{LAM_MAX_EXP} (the slider's range), "
                f"got {lam!r}; choose penalty='none' for lambda = 0"
            )
        if explorer is None:  # starts compiling the starting setting's engine in the background
            explorer = Explorer(dataset=dataset, penalty=penalty, lam=lam, prefetch=True)
        self.explorer = explorer
        self.dataset_buttons = widgets.ToggleButtons(
            options=_DATASET_LABELS, value=dataset, description="data",
            style={"button_width": "70px"},
        )
        self.penalty_buttons = widgets.ToggleButtons(
            options=_PENALTY_LABELS, value=penalty, description="penalty",
            style={"button_width": "60px"},
        )
        self.lam_slider = widgets.FloatLogSlider(
            value=lam, base=10, min=LAM_MIN_EXP, max=LAM_MAX_EXP, step=LAM_STEP_EXP,
            description="lambda", readout_format=".1e", continuous_update=False,
            layout=widgets.Layout(width="480px"),
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        for name, control in (("dataset", self.dataset_buttons),
                              ("penalty", self.penalty_buttons),
                              ("lambda", self.lam_slider)):
            control.add_class(f"reglab-{name}")
        self.image.add_class("reglab-plot")
        self.status.add_class("reglab-status")
        self.widget = widgets.VBox([
            widgets.HBox([self.dataset_buttons, self.penalty_buttons]),
            self.lam_slider,
            self.image,
            self.status,
        ])
        self.redraws = 0  #: how many times the picture was redrawn
        for control in (self.dataset_buttons, self.penalty_buttons, self.lam_slider):
            control.observe(self._on_change, names="value")
        self.refresh()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Train (or recall) the current settings and redraw the picture and the status line."""
        dataset = self.dataset_buttons.value
        penalty = self.penalty_buttons.value
        lam = float(self.lam_slider.value)
        self.lam_slider.disabled = penalty == "none"
        self.status.value = "<i>training ...</i>"
        started = time.perf_counter()
        result = self.explorer.update(dataset=dataset, penalty=penalty, lam=lam)
        self.explorer.result(dataset, "none", 0.0)  # the grey reference curves (cached)
        trained = time.perf_counter() - started
        png = self.explorer.render_png(result)
        drawn = time.perf_counter() - started - trained
        self.image.value = png
        self.redraws += 1
        self.status.value = self._status_html(result, trained, drawn)
        if penalty != "none":  # the slider's two neighbours, trained in the background
            low, high = 10.0**LAM_MIN_EXP * (1 - 1e-9), 10.0**LAM_MAX_EXP * (1 + 1e-9)
            step = 10.0**LAM_STEP_EXP
            self.explorer.prefetch(
                [(dataset, penalty, v) for v in (lam * step, lam / step) if low <= v <= high]
            )

    def _status_html(self, result: Any, trained: float, drawn: float) -> str:
        formula = penalty_in_every_api(result.penalty, result.lam)
        timing = ("from the cache" if trained < 0.005
                  else f"trained in {1000 * trained:.0f} ms")
        return (
            f"<span style='font-family:monospace'>{html.escape(formula)}</span><br>"
            f"<small>{timing}, drawn in {1000 * drawn:.0f} ms; "
            f"{self.explorer.cache_size} settings trained so far</small>"
        )

    def close(self) -> None:
        """Close the widgets and stop the explorer's background thread."""
        self.explorer.close()
        for w in (self.dataset_buttons, self.penalty_buttons, self.lam_slider, self.image,
                  self.status, self.widget):
            w.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

