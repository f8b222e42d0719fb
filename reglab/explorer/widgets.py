"""The interactive explorer: ipywidgets controls wired to ``reglab.explorer.Explorer``.

    app = reglab.explorer.widgets.ExplorerApp()
    app                      # last line of a cell: shows the controls and the picture

Controls (labels and range from ``reglab.explorer.controls``, as the book's static page): the
dataset (2-D "moons", the code's ``"toy2d"``, or 8x8 digits), the penalty kind (none / L1 / L2)
and lambda on a log slider from 1e-5 to 1 (four steps per decade; "none" is lambda = 0), whose
caption states Keras' convention for the kind chosen (``λ (Keras: λ·Σw²)``; slim's L2, in
notebook 08, halves it).  Each change trains the network with the TensorFlow engine (or recalls
it from the cache) and redraws one PNG: decision boundary or first-layer weights, data loss on
train and test, the penalty, the weight histogram.  The engine of the starting setting compiles
in a background thread as soon as the explorer is created; after each redraw the slider's two
neighbours are trained in that thread, so the next step of the slider is instant.

The status line under the picture says what the picture shows (the penalty in every API) and,
on its second line, what is under way: ``⏳ training moons, L2 λ = 1.8e-3 (1 of 2) ...`` until
the new picture arrives, or, while the kernel runs other cells (a change of the controls waits
behind them, e.g. during "Run All"), ``controls.KERNEL_BUSY``; else how long the last redraw
took.  The kernel's cells are seen through IPython's ``pre_run_cell`` / ``post_run_cell``
events.  Before its cell runs, a notebook shows ``controls.NOT_RUNNING`` where the widget will
be (its ``text/plain``).

All the logic lives in ``Explorer``; this module only builds widgets and wires them, and is
tested without a browser (set a control's ``value``, read ``image.value`` and ``status.value``).
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

from reglab.explorer.controls import (
    CAPTIONS,
    DATASET_LABELS,
    KERNEL_BUSY,
    KIND_LABELS,
    LAM_CAPTIONS,
    LAM_MAX_EXP,
    LAM_MIN_EXP,
    LAM_STEP_EXP,
    NOT_RUNNING,
    setting_text,
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
    ``lam_slider`` (the controls), ``image`` (the PNG), ``status`` (two HTML lines: the
    picture's penalty, then the work under way or the last redraw's timing), ``widget`` (the
    whole box, what the notebook displays).
    """

    #: Seconds after a cell ends before the "kernel busy" note goes: the next cell of a "Run All"
    #: starts sooner, so the note stays on through the run instead of flickering between cells.
    BUSY_GRACE_S = 0.5

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
            description=LAM_CAPTIONS[kind], readout_format=".1e", continuous_update=False,
            style={"description_width": "initial"}, layout=widgets.Layout(width="560px"),
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
        # the status line's parts, guarded by _status_lock (the busy note's timer is a thread)
        self._status_lock = threading.RLock()
        self._penalty = ""  # what the picture shows: status_text of its result
        self._timing = ""  # how the last redraw went
        self._working = ""  # the training under way, "" when none
        self._busy = False  # whether the kernel is running a cell
        self._cells = 0  # cells started so far: a timer started before the last one is stale
        self._timer: threading.Timer | None = None
        for control in (self.dataset_buttons, self.kind_buttons, self.lam_slider):
            control.observe(self._on_change, names="value")
        self.refresh()
        self._shell = _ipython()
        if self._shell is not None:
            self._shell.events.register("pre_run_cell", self._cell_started)
            self._shell.events.register("post_run_cell", self._cell_finished)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Train (or recall) the current setting and redraw the picture and the status line.

        While a setting (or the dataset's unpenalized reference, the first time) is trained,
        the status line's second line says which, ``(k of n)``, and whether the dataset's
        network compiles first; the picture and the first line change when the new picture
        arrives.
        """
        dataset, kind = self.dataset_buttons.value, self.kind_buttons.value
        lam = float(self.lam_slider.value)
        self.lam_slider.disabled = kind == "none"
        self.lam_slider.description = LAM_CAPTIONS[kind]
        explorer = self.explorer
        wanted = [(dataset, kind, lam)]
        if kind != "none":
            wanted.append((dataset, "none", 0.0))  # the grey reference curves
        missing = [setting for setting in wanted if not explorer.trained(*setting)]
        started = time.perf_counter()
        try:
            for k, setting in enumerate(missing, start=1):
                note = (f"; the first {DATASET_LABELS[dataset]} setting compiles the network "
                        "(a few seconds)" if not explorer.compiled(dataset) else "")
                self._set_status(working=f"⏳ training {setting_text(*setting)} "
                                         f"({k} of {len(missing)}){note} ...")
                explorer.result(*setting)
            result = explorer.update(dataset=dataset, kind=kind, lam=lam)
            _ = explorer.reference  # cached now; the figure needs it
            trained = time.perf_counter() - started
            png = explorer.render_png()
        finally:
            self._set_status(working="")
        drawn = time.perf_counter() - started - trained
        self.image.value = png
        self.redraws += 1
        timing = f"trained in {1000 * trained:.0f} ms" if missing else "from the cache"
        self._set_status(penalty=status_text(result),
                         timing=f"{timing}, drawn in {1000 * drawn:.0f} ms; "
                                f"{explorer.cache_size} settings trained so far")
        explorer.prefetch_neighbours()

    def _set_status(self, **parts: Any) -> None:
        """Set some of the status line's parts (``penalty``, ``timing``, ``working``, ``busy``)
        and show it: the penalty; then the training under way, else the busy note, else the
        timing."""
        with self._status_lock:
            for name, value in parts.items():
                setattr(self, f"_{name}", value)
            second = self._working or (KERNEL_BUSY if self._busy else self._timing)
            waiting = bool(self._working or self._busy)
            self.status.value = (
                f"<span style='font-family:monospace'>{html.escape(self._penalty)}</span><br>"
                + (f"<small class='reglab-busy'><b>{html.escape(second)}</b></small>" if waiting
                   else f"<small>{html.escape(second)}</small>")
            )

    @property
    def busy(self) -> bool:
        """Whether the status line says that work is under way (a training, or other cells)."""
        with self._status_lock:
            return bool(self._working or self._busy)

    # -- the kernel's cells: IPython's pre_run_cell / post_run_cell events ---------------------

    def _cell_started(self, *_: Any) -> None:
        with self._status_lock:
            self._cells += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._busy:
                self._set_status(busy=True)

    def _cell_finished(self, *_: Any) -> None:
        with self._status_lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.BUSY_GRACE_S, self._kernel_idle, args=(self._cells,))
            self._timer.daemon = True
            self._timer.start()

    def _kernel_idle(self, cells: int) -> None:
        with self._status_lock:
            if cells == self._cells:  # no cell started since the timer did
                self._timer = None
                self._set_status(busy=False)

    def close(self) -> None:
        """Close the widgets, stop the explorer's background thread, stop watching the cells."""
        if self._shell is not None:
            for event, callback in (("pre_run_cell", self._cell_started),
                                    ("post_run_cell", self._cell_finished)):
                if callback in self._shell.events.callbacks.get(event, []):
                    self._shell.events.unregister(event, callback)
            self._shell = None
        with self._status_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self.explorer.close()
        for w in (self.dataset_buttons, self.kind_buttons, self.lam_slider, self.image,
                  self.status, self.widget):
            w.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget's view, with ``controls.NOT_RUNNING`` as its ``text/plain``: what the book,
        nbviewer, GitHub or a notebook opened without a kernel show in its place."""
        if self.widget.comm is None:  # closed
            return {"text/plain": "This explorer was closed: run its cell again for a new one."}
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = NOT_RUNNING
        return bundle


def _ipython() -> Any:
    """The running IPython shell, or None (plain Python, pytest)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets depends on IPython
        return None
    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "events") else None
