"""Plots the notebooks share: loss curves with the penalty apart, and weight histograms.

Every function draws on a new figure and returns it; the notebook calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reglab.params import Array, Boolean, Integer, MappingOf, NoneOr, Text, validated

_CURVES = MappingOf(Array(ndim=1))


def _pyplot() -> Any:
    import matplotlib.pyplot as plt

    return plt


@validated(curves=_CURVES, penalty_curves=NoneOr(_CURVES), xlabel=Text(), title=Text(empty=True))
def plot_loss_and_penalty(
    curves: Mapping[str, Sequence[float]],
    *,
    penalty_curves: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    title: str = "",
) -> Any:
    """Data loss (left) and penalty (right) against ``xlabel``, one line per key.

    ``curves`` maps a label to its data-loss values; ``penalty_curves`` (same labels or others)
    to its penalty values.  Keeping them apart shows what the total loss hides.
    """
    plt = _pyplot()
    panels = 2 if penalty_curves else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.2), squeeze=False)
    for label, values in curves.items():
        axes[0, 0].plot(values, label=label)
    axes[0, 0].set(title="data loss", xlabel=xlabel)
    axes[0, 0].legend(fontsize=8)
    if penalty_curves:
        for label, values in penalty_curves.items():
            axes[0, 1].plot(values, label=label)
        axes[0, 1].set(title="penalty", xlabel=xlabel)
        axes[0, 1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@validated(weights=MappingOf(Array()), bins=Integer(minimum=1), title=Text(empty=True), log=Boolean())
def plot_weight_histograms(
    weights: Mapping[str, Any], *, bins: int = 60, title: str = "", log: bool = True
) -> Any:
    """One histogram of all weight values per key (e.g. per lambda), on shared axes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    arrays = {k: v.ravel() for k, v in weights.items()}
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else bins
    for label, values in arrays.items():
        ax.hist(values, bins=edges, histtype="step", label=label, log=log)
    ax.set(xlabel="weight value", ylabel="count", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
