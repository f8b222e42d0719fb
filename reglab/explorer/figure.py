"""The explorer's figure: four panels with fixed axes, redrawn by blitting for the widget.

``reglab.explorer.Explorer.render_png`` uses ``FigureView``; nothing here trains.  The panels:
the decision boundary ``P(class 1)`` (moons) or the first-layer weights as 8x8 images (digits:
a 64-D input has no boundary to draw); the data loss per step on train and test; the penalty per
step (log scale, Keras convention); the histogram of the kernel weights.  The unpenalized
network's curves and histogram are drawn in grey; the axes limits and the colour scales depend
on the dataset only, so figures for different settings compare at a glance: the weight images
share one symmetric colour scale, ``±max|W_1|`` of the unpenalized network, shown by a colour
bar (weights beyond it are drawn at its ends).  Titles name the dataset and the setting as the
controls do (``reglab.explorer.controls.setting_text``).

Internal plumbing: ``FigureView`` and ``plane`` trust their arguments (the ``Explorer`` checked
them).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from reglab.explorer.controls import setting_text
from reglab.explorer.result import NEAR_ZERO, TrainResult

__all__ = ["FigureView", "plane"]


class FigureView:
    """One figure with fixed axes; ``show`` swaps a result's data in.

    The axes limits and colour scales depend only on the dataset and the unpenalized network
    (``reference``), so with ``blit=True`` the frame, ticks, labels and colour bar are drawn once
    and kept as a background bitmap; ``png`` then redraws only the changing artists over it
    (matplotlib's blitting) and encodes the result: about a tenth of the cost of a full draw,
    most of which is text.
    """

    def __init__(self, split: Any, dataset: str, reference: TrainResult, dpi: int,
                 *, blit: bool = False) -> None:
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullLocator

        self.dataset = dataset
        self.blit = blit
        self._background: Any = None
        self._contour: Any = None
        self.fig = Figure(figsize=(13.5, 3.4), dpi=dpi)
        self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.15, top=0.80, wspace=0.2)
        gs = self.fig.add_gridspec(1, 4, width_ratios=[1.0, 1.1, 1.1, 1.2])
        self.ax0, self.ax_loss, self.ax_pen, self.ax_hist = (
            self.fig.add_subplot(gs[i]) for i in range(4)
        )
        animated: list[Any] = []
        ax0 = self.ax0
        ax0.set(xticks=[], yticks=[])
        if dataset == "toy2d":
            gx, gy = plane(split, 80)
            lo, hi = (gx.min(), gy.min()), (gx.max(), gy.max())
            self.gx, self.gy = gx, gy
            self.points = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
            self.image = ax0.imshow(np.zeros(gx.shape), origin="lower", cmap="RdBu", vmin=0,
                                    vmax=1, alpha=0.75, extent=(lo[0], hi[0], lo[1], hi[1]),
                                    aspect="auto", interpolation="bilinear")
            colors = np.array(["darkred", "navy"])
            self.dots = [
                ax0.scatter(split.x_test[:, 0], split.x_test[:, 1], c="none", s=10,
                            edgecolors=colors[split.y_test], linewidths=0.6, alpha=0.6),
                ax0.scatter(split.x_train[:, 0], split.x_train[:, 1], c=colors[split.y_train],
                            s=14, edgecolors="w", linewidths=0.6),
            ]
            ax0.set_xlim(lo[0], hi[0])
            ax0.set_ylim(lo[1], hi[1])
            ax0.set_title("decision boundary, P(class 1)\n(dots train, rings test)", fontsize=9)
            animated += [self.image, *self.dots]
        else:
            hidden = reference.weights[0].shape[1]
            # one colour scale for every setting: a penalty that shrinks the weights fades them
            self.weight_limit = float(np.abs(reference.weights[0]).max()) or 1.0
            self.image = ax0.imshow(_first_layer_mosaic(reference.weights[0]), cmap="RdBu",
                                    interpolation="nearest", vmin=-self.weight_limit,
                                    vmax=self.weight_limit)
            self.colorbar = self.fig.colorbar(self.image, ax=ax0, fraction=0.08, pad=0.02,
                                              extend="both", ticks=[-self.weight_limit, 0.0,
                                                                    self.weight_limit])
            self.colorbar.ax.tick_params(labelsize=7)
            self.colorbar.ax.set_yticklabels([f"{-self.weight_limit:.2g}", "0",
                                              f"{self.weight_limit:.2g}"])
            self.colorbar.ax.set_title("w", fontsize=8)
            self.dots = []
            # left-aligned: the colour bar narrows the panel, a centred title would be cut
            ax0.set_title(f"first-layer weights: {hidden} units as 8x8 images\n"
                          "(64-D input: no boundary to draw), one colour\n"
                          "scale for every setting", fontsize=8, loc="left")
            animated.append(self.image)
        steps = np.arange(len(reference.data_loss_curve))
        last = int(steps[-1])
        # data loss: fixed limits from step 0 (the same for every setting: same initial weights)
        ax = self.ax_loss
        ax.plot(steps, reference.test_data_loss_curve, color="0.65", lw=1, label="test, no penalty")
        self.line_train = ax.plot(steps, reference.data_loss_curve, color="tab:blue", label="train")[0]
        self.line_test = ax.plot(steps, reference.test_data_loss_curve, color="tab:orange", label="test")[0]
        top = 1.15 * max(float(reference.data_loss_curve[0]), float(reference.test_data_loss_curve.max()))
        ax.set(xlim=(0, last), ylim=(0.0, top))
        ax.set_title("data loss (penalty not included)", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        self.legend_loss = ax.legend(fontsize=7, loc="upper right")
        animated += [self.line_train, self.line_test]  # the legend stays in the background
        # penalty: log scale, fixed decades
        ax = self.ax_pen
        self.line_pen = ax.plot(steps, np.ones_like(steps, dtype=float), color="tab:red")[0]
        ax.set_yscale("log")
        ax.set(xlim=(0, last), ylim=(1e-5, 1e2))
        ax.set_xlabel("step", fontsize=8)
        self.title_pen = ax.set_title("penalty", fontsize=9)
        animated += [self.line_pen, self.title_pen]
        # weight histogram: fixed bins from the unpenalized network's largest weight
        ax = self.ax_hist
        ref_flat = np.concatenate([k.ravel() for k in reference.kernels])
        self.limit = 1.1 * float(np.abs(ref_flat).max())
        self.edges = np.linspace(-self.limit, self.limit, 61)
        ref_counts = np.histogram(np.clip(ref_flat, -self.limit, self.limit), self.edges)[0]
        ax.stairs(np.maximum(ref_counts, 0.5), self.edges, color="0.55", baseline=0.5,
                  label="no penalty")
        self.hist = ax.stairs(np.maximum(ref_counts, 0.5), self.edges, color="tab:green",
                              fill=True, alpha=0.6, baseline=0.5, label="this network")
        ax.set_yscale("log")
        ax.set(xlim=(-self.limit, self.limit), ylim=(0.5, 2.0 * ref_flat.size))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("weight value", fontsize=8)
        self.legend_hist = ax.legend(fontsize=7, loc="upper right")
        self.title_hist = ax.set_title("weights", fontsize=9)
        animated += [self.hist, self.title_hist]
        for ax in (self.ax_loss, self.ax_pen, self.ax_hist):
            ax.tick_params(labelsize=7)
        self.title = self.fig.suptitle("", fontsize=10)
        animated.append(self.title)
        self.animated = animated
        if blit:
            for artist in animated:
                artist.set_animated(True)

    def show(self, result: TrainResult) -> None:
        """Put ``result``'s data into the artists."""
        if self.dataset == "toy2d":
            prob = result.predict_proba(self.points)[:, 1].reshape(self.gx.shape)
            self.image.set_data(prob)
            if self._contour is not None:
                self._contour.remove()
            self._contour = self.ax0.contour(self.gx, self.gy, prob, levels=[0.5], colors="k",
                                             linewidths=1, animated=self.blit)
        else:
            self.image.set_data(_first_layer_mosaic(result.weights[0]))  # colour scale fixed
        self.line_train.set_ydata(result.data_loss_curve)
        self.line_test.set_ydata(result.test_data_loss_curve)
        self.line_pen.set_ydata(np.where(result.penalty_curve > 0, result.penalty_curve, np.nan))
        formula = result.in_every_api.get("formula", "none")
        self.title_pen.set_text(f"penalty  {formula}  (log scale)")
        flat = np.concatenate([k.ravel() for k in result.kernels])
        counts = np.histogram(np.clip(flat, -self.limit, self.limit), self.edges)[0]
        self.hist.set_data(np.maximum(counts, 0.5), self.edges)
        self.title_hist.set_text(
            f"weights: {100 * result.near_zero_fraction:.1f}% with |w| < {NEAR_ZERO:g}"
        )
        self.title.set_text(
            f"{setting_text(result.dataset, result.kind, result.lam)}      train acc "
            f"{result.train_accuracy:.3f}   test acc {result.test_accuracy:.3f}   "
            f"sum w\u00b2 = {result.sum_squares:.3g}   sum |w| = {result.sum_abs:.3g}"
        )

    def png(self, result: TrainResult) -> bytes:
        """``result`` drawn over the kept background, as PNG bytes."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        if not self.blit:
            raise RuntimeError("png() needs a view built with blit=True")
        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(self.fig)
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        self.show(result)
        canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        head = len(self.dots) + 1  # the image and the dots, then the boundary line, then the rest
        for artist in [*self.animated[:head], self._contour, *self.animated[head:]]:
            if artist is not None:
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def plane(split: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``size x size`` mesh over the 2-D data with a margin of 0.5."""
    x = np.concatenate([split.x_train, split.x_test])
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    return np.meshgrid(np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size))


def _first_layer_mosaic(w: np.ndarray) -> np.ndarray:
    """Columns of the (64, hidden) kernel as 8x8 tiles in a near-square mosaic, NaN gaps."""
    hidden = w.shape[1]
    cols = math.ceil(math.sqrt(hidden))
    rows = math.ceil(hidden / cols)
    mosaic = np.full((rows * 9 + 1, cols * 9 + 1), np.nan)
    for j in range(hidden):
        r, c = divmod(j, cols)
        mosaic[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = w[:, j].reshape(8, 8)
    return mosaic
